/**
 * Bank customer ids in one canonical form, applied once where an id enters the system (entry API,
 * imports, operator CLI lookups) and stored that way. MariaDB compares ids case- and
 * trailing-space-insensitively while SQLite and the code compare them exactly, so "c1", "C1 " and
 * "C1" must become one string before anything is looked up or written: trimmed and upper-case.
 * Prospect ids (`p_` + 32 hex digits of the phone hash, made here, never by the bank) keep their
 * lower-case form.
 */

/** What a bank customer id may contain (the import's rule), after trimming. */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

const PROSPECT_ID = /^p_[0-9a-f]{32}$/i;

/** The canonical form of a customer id; the input need not be valid (see parseCustomerId). */
export function canonicalCustomerId(raw: string): string {
  const id = raw.trim();
  return PROSPECT_ID.test(id) ? id.toLowerCase() : id.toUpperCase();
}

/** The canonical id, or null when the text is not a customer id at all. */
export function parseCustomerId(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null;
  const id = canonicalCustomerId(raw);
  return CUSTOMER_ID_PATTERN.test(id) ? id : null;
}
