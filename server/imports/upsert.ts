import type { DbKind } from '../config';

/**
 * The one place that knows the two upsert dialects: MySQL/MariaDB `ON DUPLICATE KEY UPDATE` and
 * SQLite `ON CONFLICT(key) DO UPDATE`. Identifiers come from code (import specs), never from input.
 */

export type Dialect = 'sqlite' | 'mysql';

export const dialectOf = (kind: DbKind): Dialect => (kind === 'sqlite' ? 'sqlite' : 'mysql');

export function quoteId(dialect: Dialect, id: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(id)) throw new Error(`unsafe identifier ${id}`);
  return dialect === 'mysql' ? `\`${id}\`` : `"${id}"`;
}

/**
 * A multi-row upsert for `rowCount` rows of `columns`, updating `updateColumns` on a key
 * conflict. Parameters are positional, row after row.
 */
export function upsertSql(
  dialect: Dialect,
  table: string,
  columns: string[],
  keyColumns: string[],
  updateColumns: string[],
  rowCount: number,
): string {
  const q = (id: string) => quoteId(dialect, id);
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const values = Array.from({ length: rowCount }, () => tuple).join(',');
  const head = `INSERT INTO ${q(table)} (${columns.map(q).join(',')}) VALUES ${values}`;
  if (dialect === 'mysql') {
    return `${head} ON DUPLICATE KEY UPDATE ${updateColumns.map((c) => `${q(c)}=VALUES(${q(c)})`).join(',')}`;
  }
  return `${head} ON CONFLICT(${keyColumns.map(q).join(',')}) DO UPDATE SET ${updateColumns
    .map((c) => `${q(c)}=excluded.${q(c)}`)
    .join(',')}`;
}

/** `SELECT columns FROM table WHERE key IN (?, …)` for one batch of keys. */
export function selectByKeysSql(
  dialect: Dialect,
  table: string,
  columns: string[],
  key: string,
  count: number,
): string {
  const q = (id: string) => quoteId(dialect, id);
  return `SELECT ${columns.map(q).join(',')} FROM ${q(table)} WHERE ${q(key)} IN (${Array.from({ length: count }, () => '?').join(',')})`;
}

/** Rows per statement: stays under SQLite's 32,766 and MySQL's 65,535 bound parameters. */
export function batchSize(columnCount: number, target = 1000): number {
  return Math.max(1, Math.min(target, Math.floor(30_000 / Math.max(1, columnCount))));
}
