import { timingSafeEqual } from 'node:crypto';
import { AppError, forbidden, notFound } from '../errors';
import type { LinkCandidate, SidebarRepo } from './repo';

/**
 * Linking a WeCom contact to a bank customer shows that customer's owner, segment, bank tags and
 * allocation on the card, so the manager must prove the contact is that person: the phone number
 * the customer tells them, with or without the customer number, compared with the salted hash the
 * imports stored. The answers below are the only ones a link attempt can get about a customer.
 */

/** What the manager typed in: the customer number is optional, the phone is not. */
export interface LinkProof {
  bankCustomerId?: string;
  phone: string;
}

/** How the customer was identified, for the audit row. */
export type LinkMode = 'customer_id_and_phone' | 'phone';

export type LinkMatch = { kind: 'none' } | { kind: 'ambiguous' } | { kind: 'one'; customer: LinkCandidate };

/** Digits and the separators people type in a phone number; nothing else reaches the hash. */
export const PHONE_INPUT = /^[0-9+()\s-]{1,32}$/;

// An unknown customer number and a wrong phone must be the same answer (status, code, message):
// otherwise the difference tells a manager which customer numbers exist.
export const noMatch = () =>
  notFound('customer_not_found', 'no bank customer matches the customer number and phone number given');
export const ambiguous = () =>
  new AppError(
    'customer_ambiguous',
    409,
    'more than one bank customer has this phone number; enter the customer number as well',
  );
export const ownedElsewhere = () =>
  forbidden(
    'customer_owned_elsewhere',
    'this bank customer is served by another manager, who does not follow this contact',
  );
export const rateLimited = (retryAfterMs: number) =>
  new AppError('link_rate_limited', 429, 'too many failed link attempts; try again later', {
    retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
  });
export const invalidPhone = () => new AppError('invalid_phone', 400, 'phone must be a phone number of 7 to 15 digits');

const DUMMY_HASH = '0'.repeat(64);

function sameHash(stored: string | null, hash: string): boolean {
  const usable = stored !== null && Buffer.byteLength(stored) === Buffer.byteLength(hash);
  // Compare even when there is nothing usable, so an unknown id costs what a wrong phone does.
  const equal = timingSafeEqual(Buffer.from(usable ? stored : DUMMY_HASH), Buffer.from(hash));
  return usable && equal;
}

/** Finds the one customer the proof identifies; both an unknown id and a wrong phone are 'none'. */
export async function matchCustomer(
  repo: SidebarRepo,
  bankCustomerId: string | null,
  hash: string,
): Promise<LinkMatch> {
  if (bankCustomerId !== null) {
    const row = await repo.customerForLink(bankCustomerId);
    const ok = sameHash(row?.phone_hash ?? null, hash);
    return row && ok ? { kind: 'one', customer: row } : { kind: 'none' };
  }
  const rows = await repo.customersByPhoneHash(hash);
  if (rows.length === 0) return { kind: 'none' };
  if (rows.length > 1) return { kind: 'ambiguous' };
  return { kind: 'one', customer: rows[0] };
}
