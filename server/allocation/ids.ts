import { randomBytes } from 'node:crypto';

/**
 * Allocation ids and the contact-way `state` that carries them through WeCom. Lower-case base32
 * because MariaDB compares varchar case-insensitively: ids must not differ only by case.
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const STATE_PREFIX = 'a:';

/** 16 chars, 80 random bits. */
export function newAllocationId(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i] & 31];
  return out;
}

/** `a:<id>`: 18 characters, well inside WeCom's 30-character limit for state. */
export function stateForAllocation(id: string): string {
  return `${STATE_PREFIX}${id}`;
}

/** The allocation id a state carries, or null for states made by anything else (campaign QR codes …). */
export function allocationIdFromState(state: string | null | undefined): string | null {
  if (!state?.startsWith(STATE_PREFIX)) return null;
  const id = state.slice(STATE_PREFIX.length);
  return /^[a-z2-7]{16}$/.test(id) ? id : null;
}
