/**
 * Customer names are stored masked (张*明 style): the first and last character stay so a manager
 * can recognise the customer, everything between becomes '*'. Two-character names keep the
 * family name only (李*). A name that already contains '*' is taken as masked.
 */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length === 0) return '';
  if (chars.includes('*')) return chars.join('');
  if (chars.length === 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}
