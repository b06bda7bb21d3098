import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { CommandContext, makeContext } from '../../../scripts/commands/context';
import type { Config } from '../../../server/config';

/** sha256 over every row of every table (ordered by primary key): "the database did not change". */
export async function dbChecksum(ds: DataSource, exclude: string[] = []): Promise<string> {
  const hash = createHash('sha256');
  const metas = [...ds.entityMetadatas].sort((a, b) => a.tableName.localeCompare(b.tableName));
  for (const meta of metas) {
    if (exclude.includes(meta.tableName)) continue;
    const order = meta.primaryColumns.map((c) => c.databaseName).join(', ');
    const rows = await ds.query(`SELECT * FROM ${meta.tableName} ORDER BY ${order}`);
    hash.update(meta.tableName);
    hash.update(JSON.stringify(rows));
  }
  return hash.digest('hex');
}

/** SQLite: the bytes of the database file and its WAL. */
export function sqliteFilesChecksum(url: string): string {
  const file = url.replace(/^sqlite:/, '');
  const hash = createHash('sha256');
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) hash.update(readFileSync(f));
  return hash.digest('hex');
}

export function ctxFor(
  ds: DataSource,
  config: Config,
  extra: Partial<CommandContext> = {},
): CommandContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    ...makeContext({ db: ds, config, operator: 'op-test', now: () => Date.UTC(2026, 10, 23, 2, 0, 0), ...extra }),
    stdout: (t: string) => lines.push(t),
    lines,
  };
}

export const fixture = (name: string) => `${__dirname}/../../fixtures/ops/${name}`;
