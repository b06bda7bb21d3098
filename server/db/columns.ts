import { Column, ColumnOptions, DefaultNamingStrategy, ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in BIGINT columns: one representation that compares and
 * binds the same on SQLite and MySQL (better-sqlite3 cannot bind Date; mysql2 returns BIGINT as
 * strings, hence the transformer).
 */
export const numberTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

export const EpochMs = (options: ColumnOptions = {}) =>
  Column({ type: 'bigint', transformer: numberTransformer, ...options });

export const jsonTransformer: ValueTransformer = {
  to: (v: unknown) => (v === undefined ? undefined : v === null ? null : JSON.stringify(v)),
  from: (v: string | null) => (v === null || v === undefined ? v : JSON.parse(v)),
};

/** JSON kept as TEXT so the same column works on both drivers. */
export const JsonText = (options: ColumnOptions = {}) =>
  Column({ type: 'text', transformer: jsonTransformer, ...options });

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** camelCase properties ↔ snake_case columns, so migrations and raw SQL read naturally. */
export class SnakeNamingStrategy extends DefaultNamingStrategy {
  override columnName(propertyName: string, customName: string | undefined, prefixes: string[]): string {
    return customName ?? snake([...prefixes, propertyName].join('_'));
  }
}
