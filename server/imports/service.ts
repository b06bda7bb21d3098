import type { DataSource, EntityManager } from 'typeorm';
import { audit } from '../audit/audit';
import { CsvInputError, inspectFile, readCsv } from './csv-source';
import {
  type CsvHeader,
  type FileImportReport,
  fieldsOf,
  IssueLog,
  newFileReport,
  readImportHeader,
  widthIssue,
} from './report';
import { type DbRow, type DbValue, type ImportKind, type ImportSpec, SPECS } from './specs';
import { batchSize, dialectOf, selectByKeysSql, upsertSql } from './upsert';

/**
 * CSV imports of branches, managers, customers and holdings, shared by the operator CLI and the server.
 *
 * Two streaming passes keep memory flat for million-row files: pass 1 validates every row (and
 * remembers keys for duplicate detection), pass 2 re-reads the file, compares valid rows with
 * the database in batches and, with `apply`, upserts only new or changed rows in ONE transaction
 * together with the audit row. A file with errors is refused unless `skipInvalid`, so nothing is
 * ever half-written; a second apply of the same file finds every row unchanged.
 */

export interface ImportOptions {
  kind: ImportKind;
  path: string;
  apply: boolean;
  skipInvalid?: boolean;
  operator: string;
  now: number;
  phoneSalt: string;
  /** Called every few thousand rows and at the end of each pass. */
  onProgress?: (p: { phase: 'validate' | 'write'; bytesRead: number; totalBytes: number; rows: number }) => void;
  /** Issues kept in the report (all are counted). */
  maxIssues?: number;
}

export interface ChangeSample {
  key: string;
  action: 'insert' | 'update';
  /** Columns that change (update) or are written (insert). */
  columns: string[];
}

export type { FileImportReport } from './report';

export interface ImportReport extends FileImportReport {
  kind: ImportKind;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows with errors left out (only with skipInvalid). */
  skipped: number;
  samples: ChangeSample[];
}

const PROGRESS_EVERY = 5000;
const SAMPLE_SIZE = 20;

/** Case-insensitive: MySQL's utf8mb4_unicode_ci compares keys that way, SQLite would not. */
const keyOf = (v: DbValue) => String(v).toLowerCase();

function sameValue(a: unknown, b: unknown): boolean {
  const na = a === undefined ? null : typeof a === 'boolean' ? (a ? 1 : 0) : a;
  const nb = b === undefined ? null : typeof b === 'boolean' ? (b ? 1 : 0) : b;
  if (na === null || nb === null) return na === nb;
  if (typeof na === 'number' || typeof nb === 'number') return Number(na) === Number(nb);
  return String(na) === String(nb);
}

type Header = CsvHeader;

async function loadKeys(db: DataSource, target: 'branches' | 'managers' | 'customers'): Promise<Set<string>> {
  const column = { branches: 'code', managers: 'userid', customers: 'id' }[target];
  const rows: Record<string, string>[] = await db.query(`SELECT ${column} AS k FROM ${target}`);
  return new Set(rows.map((r) => String(r.k)));
}

export async function runImport(db: DataSource, opts: ImportOptions): Promise<ImportReport> {
  const spec = SPECS[opts.kind];
  const maxIssues = opts.maxIssues ?? 1000;
  const facts = await inspectFile(opts.path);
  const report: ImportReport = {
    kind: opts.kind,
    ...newFileReport(opts.path, facts),
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    samples: [],
  };
  const issues = new IssueLog(report, maxIssues);
  const { invalid, add: addIssue } = issues;

  const refSets = new Map<string, Set<string>>();
  for (const ref of spec.refs) refSets.set(ref.target, await loadKeys(db, ref.target));

  // Pass 1: validate.
  const firstLine = new Map<string, number>();
  const fileKeys = new Set<string>();
  const deferred: { line: number; key?: string; value: string; ref: ImportSpec['refs'][number] }[] = [];
  let header: Header | null = null;
  let bytesRead = 0;
  const progress = (phase: 'validate' | 'write', rows: number, done = false) =>
    opts.onProgress?.({ phase, bytesRead: done ? facts.bytes : bytesRead, totalBytes: facts.bytes, rows });
  for await (const rec of readCsv(opts.path, facts.encoding, (b) => {
    bytesRead = b;
  })) {
    if (!header) {
      const h = readImportHeader(rec.fields, spec, spec.kind);
      header = h.header;
      for (const u of h.unknown) {
        addIssue({
          line: rec.line,
          column: u,
          severity: 'warning',
          reason: `column "${u}" is not used by ${spec.kind} imports`,
        });
      }
      continue;
    }
    report.rows++;
    if (report.rows % PROGRESS_EVERY === 0) progress('validate', report.rows);
    const h: Header = header;
    const get = fieldsOf(h, rec.fields);
    const key = (spec.keyOf ? spec.keyOf(get) : rec.fields[h.index.get(spec.keyCsv)!]) || undefined;
    const wrongWidth = widthIssue(h, rec, key);
    if (wrongWidth) {
      addIssue(wrongWidth);
      continue;
    }
    const row = spec.parse(
      get,
      (column, reason, warn) => addIssue({ line: rec.line, key, column, severity: warn ? 'warning' : 'error', reason }),
      { phoneSalt: opts.phoneSalt, hashPhones: false },
    );
    if (key) {
      const k = keyOf(key);
      const first = firstLine.get(k);
      if (first !== undefined) {
        addIssue({
          line: rec.line,
          key,
          column: spec.keyCsv,
          severity: 'error',
          reason: `duplicate key: ${spec.keyOf ? 'row' : spec.keyCsv} "${key}" already on line ${first}`,
        });
        continue;
      }
      firstLine.set(k, rec.line);
      if (spec.refs.some((r) => r.sameFile)) fileKeys.add(key);
    }
    if (!row) continue;
    for (const ref of spec.refs) {
      const value = get(ref.csv);
      if (!value || refSets.get(ref.target)!.has(value)) continue;
      if (ref.sameFile) deferred.push({ line: rec.line, key, value, ref });
      else addIssue({ line: rec.line, key, column: ref.csv, severity: ref.severity, reason: ref.reason(value) });
    }
  }
  if (!header) throw new CsvInputError('the file is empty: a header row is required');
  for (const d of deferred) {
    if (!fileKeys.has(d.value)) {
      addIssue({
        line: d.line,
        key: d.key,
        column: d.ref.csv,
        severity: d.ref.severity,
        reason: d.ref.reason(d.value),
      });
    }
  }
  progress('validate', report.rows, true);
  report.issues.sort((a, b) => a.line - b.line);
  issues.count();
  firstLine.clear();
  fileKeys.clear();

  const write = opts.apply && (invalid.size === 0 || Boolean(opts.skipInvalid));
  report.refused = opts.apply && !write;
  report.skipped = write ? invalid.size : 0;
  if (write) {
    await db.transaction(async (em) => {
      await pass2(em, db, spec, opts, invalid, report, true, progress, (b) => {
        bytesRead = b;
      });
      await audit(em, {
        actor: opts.operator,
        action: `import.${spec.kind}`,
        subject: report.file,
        detail: {
          sha256: report.sha256,
          encoding: report.encoding,
          rows: report.rows,
          inserted: report.inserted,
          updated: report.updated,
          unchanged: report.unchanged,
          skippedInvalid: report.skipped,
          warningRows: report.warningRows,
        },
      });
    });
    report.applied = true;
  } else {
    await pass2(db.manager, db, spec, opts, invalid, report, false, progress, (b) => {
      bytesRead = b;
    });
  }
  progress('write', report.rows, true);
  return report;
}

async function pass2(
  em: EntityManager,
  db: DataSource,
  spec: ImportSpec,
  opts: ImportOptions,
  invalid: Set<number>,
  report: ImportReport,
  write: boolean,
  progress: (phase: 'validate' | 'write', rows: number) => void,
  onBytes: (b: number) => void,
): Promise<void> {
  const dialect = dialectOf(db.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql');
  let header: Header | null = null;
  let columns: string[] = [];
  let batch: DbRow[] = [];
  let size = 1000;
  let seen = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    const existing: Record<string, unknown>[] = await em.query(
      selectByKeysSql(dialect, spec.table, columns, spec.keyColumn, rows.length),
      rows.map((r) => r[spec.keyColumn]),
    );
    const byKey = new Map(existing.map((e) => [keyOf(e[spec.keyColumn] as DbValue), e]));
    const changed: { row: DbRow; insert: boolean }[] = [];
    for (const row of rows) {
      const old = byKey.get(keyOf(row[spec.keyColumn]));
      if (!old) {
        report.inserted++;
        changed.push({ row, insert: true });
        if (report.samples.length < SAMPLE_SIZE) {
          report.samples.push({ key: String(row[spec.keyColumn]), action: 'insert', columns: columns.slice(1) });
        }
        continue;
      }
      const diff = columns.filter((c) => c !== spec.keyColumn && !sameValue(old[c], row[c]));
      if (diff.length === 0) {
        report.unchanged++;
        continue;
      }
      report.updated++;
      // Keep the key as stored: on MySQL a key differing only in case matched this row.
      changed.push({ row: { ...row, [spec.keyColumn]: old[spec.keyColumn] as DbValue }, insert: false });
      if (report.samples.length < SAMPLE_SIZE) {
        report.samples.push({ key: String(old[spec.keyColumn]), action: 'update', columns: diff });
      }
    }
    if (!write || changed.length === 0) return;
    const cols = [...columns, 'updated_at', ...(spec.hasCreatedAt ? ['created_at'] : [])];
    const updateCols = [...columns.filter((c) => c !== spec.keyColumn), 'updated_at'];
    const params: DbValue[] = [];
    for (const { row } of changed) {
      for (const c of columns) params.push(row[c] ?? null);
      params.push(opts.now);
      if (spec.hasCreatedAt) params.push(opts.now);
    }
    await em.query(upsertSql(dialect, spec.table, cols, [spec.keyColumn], updateCols, changed.length), params);
  };

  for await (const rec of readCsv(opts.path, report.encoding, onBytes)) {
    if (!header) {
      header = readImportHeader(rec.fields, spec, spec.kind).header;
      columns = spec.columnsFor(new Set(header.names));
      size = batchSize(columns.length + 2);
      continue;
    }
    seen++;
    if (seen % PROGRESS_EVERY === 0) progress('write', seen);
    if (invalid.has(rec.line)) continue;
    const h: Header = header;
    const row = spec.parse(fieldsOf(h, rec.fields), () => {}, { phoneSalt: opts.phoneSalt });
    if (!row) continue;
    batch.push(row);
    if (batch.length >= size) await flush();
  }
  await flush();
}
