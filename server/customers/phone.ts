import { createHash } from 'node:crypto';

/**
 * The one place phone numbers are turned into something storable. Clear-text numbers never reach
 * the database or the logs: imports, the entry API and matching all compare salted hashes.
 */

/** Digits only, without a +86 / 0086 country prefix, so "+86 138-0013-8000" and "13800138000" agree. */
export function normalizePhone(phone: string): string {
  let digits = phone.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  else if (digits.length === 15 && digits.startsWith('0086')) digits = digits.slice(4);
  return digits;
}

/** True when the input has enough digits to be a phone number at all (mainland mobiles have 11). */
export function isPlausiblePhone(phone: string): boolean {
  const n = normalizePhone(phone);
  return n.length >= 7 && n.length <= 15;
}

/** Hex sha256 of salt + normalized number; 64 chars, the width of customers.phone_hash. */
export function hashPhone(phone: string, salt: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(normalizePhone(phone)).digest('hex');
}

/**
 * Masks anything that looks like a mainland mobile number (optionally +86 / 86 prefixed, with
 * spaces or dashes) in free text, for messages that echo input values: a shifted CSV row can put
 * a phone number in any column.
 */
export function redactPhones(text: string): string {
  return text.replace(/(?<![\w+])(?:\+?86[\s-]?)?1\d{2}[\s-]?\d{4}[\s-]?\d{4}(?!\w)/g, '[phone]');
}
