import { basename } from 'node:path';
import { redactPhones } from '../customers/phone';
import { type CsvEncoding, CsvInputError, type FileFacts } from './csv-source';
import type { RowIssue } from './specs';

/** What every CSV import (tables, outcomes) shares: the file's report, its issues, its header. */

/** What every import reports about its file, whatever it imports. */
export interface FileImportReport {
  file: string;
  encoding: CsvEncoding;
  sha256: string;
  /** Data rows in the file (header excluded). */
  rows: number;
  errorRows: number;
  warningRows: number;
  issues: RowIssue[];
  /** Issues beyond maxIssues, counted but not listed. */
  issuesNotListed: number;
  applied: boolean;
  /** apply was asked but the file has errors (and, for table imports, skipInvalid was not given). */
  refused: boolean;
}

/** The file part of a new report: nothing read, nothing applied yet. */
export function newFileReport(path: string, facts: FileFacts): FileImportReport {
  return {
    file: basename(path),
    encoding: facts.encoding,
    sha256: facts.sha256,
    rows: 0,
    errorRows: 0,
    warningRows: 0,
    issues: [],
    issuesNotListed: 0,
    applied: false,
    refused: false,
  };
}

/** Collects a file's issues into its report: the first `maxIssues` listed, all counted by line. */
export class IssueLog {
  /** Lines with an error. */
  readonly invalid = new Set<number>();
  private readonly warned = new Set<number>();

  constructor(
    private readonly report: FileImportReport,
    private readonly maxIssues: number,
  ) {}

  readonly add = (raw: RowIssue): void => {
    // Messages echo input values; a shifted row can carry a phone number into any column.
    const i: RowIssue = { ...raw, reason: redactPhones(raw.reason), key: raw.key && redactPhones(raw.key) };
    if (i.severity === 'error') this.invalid.add(i.line);
    else this.warned.add(i.line);
    if (this.report.issues.length < this.maxIssues) this.report.issues.push(i);
    else this.report.issuesNotListed++;
  };

  /** Writes the row counts (a line with an error and a warning counts as an error row). */
  count(): void {
    this.report.errorRows = this.invalid.size;
    this.report.warningRows = [...this.warned].filter((l) => !this.invalid.has(l)).length;
  }
}

export interface CsvHeader {
  /** Column name (trimmed, lower case) → field index. */
  index: Map<string, number>;
  names: string[];
}

/** Reads the header row: a column named twice or a required one missing makes the file unusable. */
export function readImportHeader(
  fields: string[],
  columns: { required: readonly string[]; optional: readonly string[] },
  kind: string,
): { header: CsvHeader; unknown: string[] } {
  const names = fields.map((f) => f.trim().toLowerCase());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (index.has(n)) throw new CsvInputError(`header names column "${n}" twice`, 1);
    index.set(n, i);
  });
  const missing = columns.required.filter((c) => !index.has(c));
  if (missing.length) {
    throw new CsvInputError(
      `header lacks required column(s) ${missing.join(', ')}; ${kind} needs ${columns.required.join(',')}`,
      1,
    );
  }
  const known = new Set([...columns.required, ...columns.optional]);
  return { header: { index, names }, unknown: names.filter((n) => !known.has(n)) };
}

/** A record's field by column name (undefined for a column the file lacks). */
export const fieldsOf =
  (h: CsvHeader, fields: string[]) =>
  (column: string): string | undefined => {
    const i = h.index.get(column);
    return i === undefined ? undefined : fields[i];
  };

/** The error for a record whose field count differs from the header's, or null. */
export function widthIssue(h: CsvHeader, rec: { line: number; fields: string[] }, key?: string): RowIssue | null {
  if (rec.fields.length === h.names.length) return null;
  return {
    line: rec.line,
    key,
    severity: 'error',
    reason: `expected ${h.names.length} fields, found ${rec.fields.length}`,
  };
}
