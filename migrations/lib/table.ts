import { Table, TableColumnOptions, TableIndex } from 'typeorm';

/**
 * A terse, frozen column notation for migrations that run unchanged on SQLite and MySQL/MariaDB:
 *   'varchar(64) pk' · 'int pk increment' · 'bigint null' · 'boolean default(true)' · 'text'
 * It only expands to the QueryRunner Table API; no driver-specific SQL.
 */
export function column(name: string, spec: string): TableColumnOptions {
  const [typeSpec, ...flags] = spec.trim().split(/\s+/);
  const m = /^(\w+)(?:\((\d+)\))?$/.exec(typeSpec);
  if (!m) throw new Error(`bad column spec for ${name}: ${spec}`);
  const opts: TableColumnOptions = { name, type: m[1], isNullable: false };
  if (m[2]) opts.length = m[2];
  for (const flag of flags) {
    if (flag === 'pk') opts.isPrimary = true;
    else if (flag === 'increment') {
      opts.isGenerated = true;
      opts.generationStrategy = 'increment';
      // SQLite only auto-increments an INTEGER PRIMARY KEY.
      opts.type = 'integer';
    } else if (flag === 'null') opts.isNullable = true;
    else if (flag.startsWith('default(')) opts.default = flag.slice(8, -1);
    else throw new Error(`bad column flag for ${name}: ${flag}`);
  }
  return opts;
}

export function table(
  name: string,
  columns: Record<string, string>,
  indices: { name: string; columns: string[]; unique?: boolean }[] = [],
): { table: Table; indices: TableIndex[] } {
  return {
    table: new Table({ name, columns: Object.entries(columns).map(([n, s]) => column(n, s)) }),
    indices: indices.map((i) => new TableIndex({ name: i.name, columnNames: i.columns, isUnique: i.unique ?? false })),
  };
}
