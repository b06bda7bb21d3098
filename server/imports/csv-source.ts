import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';

/**
 * Streaming CSV input for imports. Bank exports are often GBK: a file is read as UTF-8 (with or
 * without BOM) only if every byte sequence in it is valid UTF-8, otherwise the whole file is
 * decoded as GB18030 (a superset of GBK and GB2312).
 */

export type CsvEncoding = 'utf-8' | 'gbk';

export class CsvInputError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'CsvInputError';
  }
}

export interface FileFacts {
  encoding: CsvEncoding;
  bytes: number;
  sha256: string;
}

/** One pass over the bytes: validity as UTF-8 and a checksum for the audit row. */
export async function inspectFile(path: string): Promise<FileFacts> {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch (err) {
    throw new CsvInputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let utf8 = true;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    if (utf8) {
      try {
        decoder.decode(chunk as Buffer, { stream: true });
      } catch {
        utf8 = false;
      }
    }
  }
  if (utf8) {
    try {
      decoder.decode();
    } catch {
      utf8 = false;
    }
  }
  return { encoding: utf8 ? 'utf-8' : 'gbk', bytes, sha256: hash.digest('hex') };
}

export interface CsvRecord {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  fields: string[];
}

/**
 * Yields the header and then each record with its line number. `onBytes` reports how far into
 * the file the reader is, for progress bars.
 */
export async function* readCsv(
  path: string,
  encoding: CsvEncoding,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<CsvRecord> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let read = 0;
  file.on('data', (chunk) => {
    read += chunk.length;
    onBytes?.(read);
  });
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
  });
  const source: NodeJS.ReadableStream = encoding === 'gbk' ? file.pipe(iconv.decodeStream('gb18030')) : file;
  file.on('error', (err: Error) => parser.destroy(err));
  source.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { line: item.info.lines, fields: item.record };
    }
  } catch (err) {
    const e = err as Error & { lines?: number; code?: string };
    if (e.code?.startsWith('CSV_')) throw new CsvInputError(`malformed CSV (${e.code}): ${e.message}`, e.lines);
    throw err;
  } finally {
    file.destroy();
  }
}
