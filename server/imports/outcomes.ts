import { hash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { audit } from '../audit/audit';
import { isUniqueViolation } from '../db/data-source';
import { type AttributableTouch, attribute, DAY_MS, DEFAULT_ATTRIBUTION_DAYS } from '../playbook/attribution';
import { REAL_SEND_SQL } from '../playbook/performance-source';
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
import { AMOUNT_BANDS, parseDay } from './specs';
import { batchSize, dialectOf, quoteId } from './upsert';

/**
 * `ops import outcomes <file.csv>`: the bank's daily outcomes (开户, 绑卡, 签约手机银行, 购买理财,
 * 资产提升 …), each credited to the last real send of a script to that customer within the
 * attribution window (server/playbook/attribution.ts), matched by product when the event names one.
 *
 * Columns: customer_id, event, occurred_at (required); product, amount (optional). occurred_at is
 * bank-local time (UTC+8): 2026-11-03, 2026-11-03 14:05[:09] or 2026/11/3. The amount is never
 * stored: it becomes one of the holdings amount bands. Same conventions as the other imports: UTF-8
 * or GBK, line-numbered issues, dry run unless apply, and a file with any error is refused whole
 * (nothing written). The same outcome (customer, event, product, time) is stored once, so importing
 * a file twice adds nothing the second time.
 *
 * Memory stays flat in the file size: pass 1 validates, pass 2 re-reads and writes in batches of
 * multi-row INSERTs. The sends that can take credit (the window before the file's earliest outcome
 * up to its latest) are read once, by customer, with one set-based query; attribution is then done
 * in memory. While one batch is inserted, the next is read and parsed and its already-imported
 * keys looked up. With apply, rows are committed every `commitEvery` (50,000) rows: a file with
 * any error never gets to pass 2, and an interrupted import is completed by running it again.
 */

export const OUTCOME_COLUMNS = { required: ['customer_id', 'event', 'occurred_at'], optional: ['product', 'amount'] };

export interface OutcomeImportOptions {
  path: string;
  apply: boolean;
  operator: string;
  now: number;
  /** Attribution window in days (ATTRIBUTION_WINDOW_DAYS, default 14). */
  windowDays?: number;
  onProgress?: (p: { phase: 'validate' | 'write'; bytesRead: number; totalBytes: number; rows: number }) => void;
  maxIssues?: number;
  /** Rows per transaction when applying (default 50,000; 0 = the whole file in one). */
  commitEvery?: number;
}

export interface OutcomeImportReport extends FileImportReport {
  kind: 'outcomes';
  /** New outcomes (written, or that would be). */
  inserted: number;
  /** Outcomes already imported before (same customer, event, product and time). */
  alreadyImported: number;
  /** New outcomes credited to a send / without a qualifying send. */
  attributed: number;
  unattributed: number;
  windowDays: number;
  /** New outcomes per event. */
  byEvent: Record<string, number>;
}

interface ParsedOutcome {
  customerId: string;
  event: string;
  product: string | null;
  amountBand: string | null;
  occurredAt: number;
  dedupKey: string;
}

const ID = /^[A-Za-z0-9_.@-]+$/;
const BANK_OFFSET_MS = 8 * 3_600_000;
const PROGRESS_EVERY = 5000;
const COMMIT_EVERY = 50_000;

/**
 * Bank files repeat the same occurred_at on many rows (a day, or a day and minute): parsed values
 * are remembered, up to TIME_MEMO_MAX distinct strings.
 */
const TIME_MEMO_MAX = 100_000;
const timeMemo = new Map<string, number | null>();

/** Bank-local (UTC+8) time from 2026-11-03, 2026/11/3, 20261103, optionally with HH:mm[:ss]; null if invalid. */
export function parseBankTime(raw: string): number | null {
  const hit = timeMemo.get(raw);
  if (hit !== undefined) return hit;
  const t = parseBankTimeUncached(raw);
  if (timeMemo.size >= TIME_MEMO_MAX) timeMemo.clear();
  timeMemo.set(raw, t);
  return t;
}

function parseBankTimeUncached(raw: string): number | null {
  const m = /^(\S+?)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(raw.trim());
  if (!m) return null;
  const day = parseDay(m[1]!);
  if (!day) return null;
  const [h, mi, s] = [Number(m[2] ?? 0), Number(m[3] ?? 0), Number(m[4] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return null;
  const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - BANK_OFFSET_MS;
}

/** The holdings amount band (yuan) of an amount; the amount itself is never stored. */
export function amountBand(yuan: number): string {
  const wan = yuan / 10_000;
  if (wan < 5) return AMOUNT_BANDS[0]!;
  if (wan < 20) return AMOUNT_BANDS[1]!;
  if (wan < 50) return AMOUNT_BANDS[2]!;
  if (wan < 100) return AMOUNT_BANDS[3]!;
  if (wan < 300) return AMOUNT_BANDS[4]!;
  return AMOUNT_BANDS[5]!;
}

export function outcomeKey(customerId: string, event: string, product: string | null, occurredAt: number): string {
  // crypto.hash (one-shot, Node ≥ 20.12) is the same SHA-1 as createHash without the Hash object.
  return hash('sha1', `${customerId}\u0000${event}\u0000${product ?? ''}\u0000${occurredAt}`, 'hex');
}

function parseRow(
  get: (csv: string) => string | undefined,
  issue: (column: string, reason: string) => void,
  now: number,
): ParsedOutcome | null {
  let ok = true;
  const bad = (column: string, reason: string) => {
    ok = false;
    issue(column, reason);
  };
  const customerId = (get('customer_id') ?? '').trim();
  if (!customerId) bad('customer_id', 'customer_id is required');
  else if (customerId.length > 64 || !ID.test(customerId)) bad('customer_id', 'customer_id is not a valid identifier');
  const event = (get('event') ?? '').trim();
  if (!event) bad('event', 'event is required (开户, 绑卡, 签约手机银行, 购买理财, 资产提升 …)');
  else if ([...event].length > 32) bad('event', 'event is longer than 32 characters');
  const product = (get('product') ?? '').trim() || null;
  if (product && [...product].length > 64) bad('product', 'product is longer than 64 characters');
  const rawAmount = (get('amount') ?? '').replace(/[,，\s]/g, '');
  let band: string | null = null;
  if (rawAmount) {
    const n = Number(rawAmount);
    if (!/^\d+(\.\d+)?$/.test(rawAmount) || !Number.isFinite(n)) {
      bad('amount', 'amount is not a non-negative number (yuan)');
    } else band = amountBand(n);
  }
  const rawTime = (get('occurred_at') ?? '').trim();
  const occurredAt = rawTime ? parseBankTime(rawTime) : null;
  if (!rawTime) bad('occurred_at', 'occurred_at is required');
  else if (occurredAt === null)
    bad('occurred_at', `occurred_at "${rawTime}" is not a date (2026-11-03 or 2026-11-03 14:05)`);
  else if (occurredAt > now + DAY_MS) bad('occurred_at', `occurred_at "${rawTime}" is in the future`);
  if (!ok || occurredAt === null) return null;
  return {
    customerId,
    event,
    product,
    amountBand: band,
    occurredAt,
    dedupKey: outcomeKey(customerId, event, product, occurredAt),
  };
}

type CreditTouch = AttributableTouch & { userid: string };

/** Real sends of a script between `from` and `to`, by bank customer. */
async function loadSends(db: DataSource, from: number, to: number): Promise<Map<string, CreditTouch[]>> {
  const rows: {
    id: number;
    template_id: number;
    channel: string;
    sent_at: number | string;
    confirmed_at: number | string | null;
    userid: string;
    customer_id: string;
    product: string | null;
  }[] = await db.query(
    `SELECT t.id, t.template_id, t.channel, t.sent_at, t.confirmed_at, t.userid, ec.customer_id, st.product
       FROM touches t
       JOIN external_contacts ec ON ec.external_userid = t.external_userid
       LEFT JOIN script_templates st ON st.id = t.template_id
      WHERE ec.customer_id IS NOT NULL AND t.template_id IS NOT NULL
        AND t.sent_at >= ? AND t.sent_at <= ? AND ${REAL_SEND_SQL.replace(/channel|confirmed_at/g, (c) => `t.${c}`)}`,
    [from, to],
  );
  const byCustomer = new Map<string, CreditTouch[]>();
  for (const r of rows) {
    const t: CreditTouch = {
      id: Number(r.id),
      templateId: Number(r.template_id),
      channel: r.channel,
      sentAt: Number(r.sent_at),
      confirmedAt: r.confirmed_at === null ? null : Number(r.confirmed_at),
      product: r.product,
      userid: r.userid,
    };
    const list = byCustomer.get(r.customer_id);
    if (list) list.push(t);
    else byCustomer.set(r.customer_id, [t]);
  }
  return byCustomer;
}

export async function runOutcomeImport(db: DataSource, opts: OutcomeImportOptions): Promise<OutcomeImportReport> {
  const maxIssues = opts.maxIssues ?? 1000;
  const windowDays = opts.windowDays ?? DEFAULT_ATTRIBUTION_DAYS;
  const facts = await inspectFile(opts.path);
  const report: OutcomeImportReport = {
    kind: 'outcomes',
    ...newFileReport(opts.path, facts),
    inserted: 0,
    alreadyImported: 0,
    attributed: 0,
    unattributed: 0,
    windowDays,
    byEvent: {},
  };
  const issues = new IssueLog(report, maxIssues);
  const { invalid, add: addIssue } = issues;
  /** Lines repeating an earlier line of the file: skipped in pass 2. */
  const repeated = new Set<number>();

  const customers: { id: string }[] = await db.query('SELECT id FROM customers');
  const known = new Set(customers.map((c) => c.id));
  customers.length = 0;

  // Pass 1: validate.
  let header: CsvHeader | null = null;
  let bytesRead = 0;
  let minAt = Number.POSITIVE_INFINITY;
  let maxAt = Number.NEGATIVE_INFINITY;
  const seen = new Map<string, number>();
  const progress = (phase: 'validate' | 'write', rows: number, done = false) =>
    opts.onProgress?.({ phase, bytesRead: done ? facts.bytes : bytesRead, totalBytes: facts.bytes, rows });
  for await (const rec of readCsv(opts.path, facts.encoding, (b) => {
    bytesRead = b;
  })) {
    if (!header) {
      const h = readImportHeader(rec.fields, OUTCOME_COLUMNS, 'outcomes');
      header = h.header;
      for (const u of h.unknown) {
        addIssue({
          line: rec.line,
          column: u,
          severity: 'warning',
          reason: `column "${u}" is not used by outcome imports`,
        });
      }
      continue;
    }
    report.rows++;
    if (report.rows % PROGRESS_EVERY === 0) progress('validate', report.rows);
    const h = header;
    const get = fieldsOf(h, rec.fields);
    const key = get('customer_id')?.trim() || undefined;
    const wrongWidth = widthIssue(h, rec, key);
    if (wrongWidth) {
      addIssue(wrongWidth);
      continue;
    }
    const row = parseRow(
      get,
      (column, reason) => addIssue({ line: rec.line, key, column, severity: 'error', reason }),
      opts.now,
    );
    if (!row) continue;
    const first = seen.get(row.dedupKey);
    if (first !== undefined) {
      repeated.add(rec.line);
      addIssue({
        line: rec.line,
        key,
        severity: 'warning',
        reason: `the same outcome (customer, event, product, time) is already on line ${first}; counted once`,
      });
      continue;
    }
    seen.set(row.dedupKey, rec.line);
    if (!known.has(row.customerId)) {
      addIssue({
        line: rec.line,
        key,
        column: 'customer_id',
        severity: 'warning',
        reason: `customer "${row.customerId}" is not in our data: kept, credited to no send`,
      });
    }
    if (row.occurredAt < minAt) minAt = row.occurredAt;
    if (row.occurredAt > maxAt) maxAt = row.occurredAt;
  }
  if (!header) throw new CsvInputError('the file is empty: a header row is required');
  seen.clear();
  known.clear();
  progress('validate', report.rows, true);
  report.issues.sort((a, b) => a.line - b.line);
  issues.count();

  const write = opts.apply && invalid.size === 0;
  report.refused = opts.apply && !write;
  if (report.refused) return report;

  const windowMs = windowDays * DAY_MS;
  const commitEvery = opts.commitEvery ?? COMMIT_EVERY;
  const sends = Number.isFinite(minAt) ? await loadSends(db, minAt - windowMs, maxAt) : new Map();
  const pass2 = async (em: EntityManager, checkpoint?: () => Promise<void>) => {
    let uncommitted = 0;
    const dialect = dialectOf(db.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql');
    const q = (id: string) => quoteId(dialect, id);
    const columns = [
      'dedup_key',
      'customer_id',
      'event',
      'product',
      'amount_band',
      'occurred_at',
      'touch_id',
      'template_id',
      'userid',
      'imported_at',
    ];
    const size = batchSize(columns.length);
    const tuple = `(${columns.map(() => '?').join(',')})`;
    // Outcomes already imported are looked up outside the writing transaction on MySQL (another
    // pooled connection), so the lookup of one batch runs while the previous one is inserted and
    // the file is read on; rows repeated inside the file never get here (pass 1 found them), and a
    // concurrent import of the same rows fails on the unique key and rolls back. SQLite has one
    // connection: everything runs in order on it.
    const lookupDb = dialect === 'mysql' ? db.manager : em;
    const lookup = async (rows: ParsedOutcome[]): Promise<Set<string>> => {
      const existing: { dedup_key: string }[] = await lookupDb.query(
        `SELECT dedup_key FROM outcomes WHERE dedup_key IN (${rows.map(() => '?').join(',')})`,
        rows.map((r) => r.dedupKey),
      );
      return new Set(existing.map((e) => e.dedup_key));
    };
    /** Attribution and parameters of the rows not in `have`; the report counts only once written. */
    const prepare = (rows: ParsedOutcome[], have: ReadonlySet<string>) => {
      const params: (string | number | null)[] = [];
      const events: string[] = [];
      let attributed = 0;
      let already = 0;
      for (const r of rows) {
        if (have.has(r.dedupKey)) {
          already++;
          continue;
        }
        const credit = attribute(r, sends.get(r.customerId) ?? [], windowMs) as CreditTouch | null;
        if (credit) attributed++;
        events.push(r.event);
        params.push(
          r.dedupKey,
          r.customerId,
          r.event,
          r.product,
          r.amountBand,
          r.occurredAt,
          credit?.id ?? null,
          credit?.templateId ?? null,
          credit?.userid ?? null,
          opts.now,
        );
      }
      return { params, events, attributed, already };
    };
    const count = (p: ReturnType<typeof prepare>) => {
      report.alreadyImported += p.already;
      report.inserted += p.events.length;
      report.attributed += p.attributed;
      report.unattributed += p.events.length - p.attributed;
      for (const e of p.events) report.byEvent[e] = (report.byEvent[e] ?? 0) + 1;
    };
    const insert = async (p: ReturnType<typeof prepare>) => {
      const n = p.events.length;
      await em.query(
        `INSERT INTO ${q('outcomes')} (${columns.map(q).join(',')}) VALUES ${Array.from({ length: n }, () => tuple).join(',')}`,
        p.params,
      );
      uncommitted += n;
      if (checkpoint && commitEvery > 0 && uncommitted >= commitEvery) {
        uncommitted = 0;
        await checkpoint();
      }
    };
    const NONE: ReadonlySet<string> = new Set();
    /**
     * Optimistic while nothing of the file is in the database yet (a new day's file): a batch is
     * inserted without a lookup; a unique-key error undoes that one statement (statement atomicity
     * on InnoDB and SQLite) and the batch is looked up and written, and from then on every batch is
     * looked up first (a file imported before).
     */
    let optimistic = write;
    const writeBatch = async (rows: ParsedOutcome[], existing: Promise<Set<string>> | null) => {
      if (!existing) {
        const p = prepare(rows, NONE);
        try {
          await insert(p);
          count(p);
          return;
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          optimistic = false;
          existing = lookup(rows);
        }
      }
      // Invalid rows never get here (pass 1 found none); only already imported ones are dropped.
      const p = prepare(rows, await existing);
      count(p);
      if (write && p.events.length) await insert(p);
    };
    let batch: ParsedOutcome[] = [];
    /** The batch being written (at most one, plus the one being read). */
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (!batch.length) return;
      const rows = batch;
      batch = [];
      const existing = optimistic ? null : lookup(rows);
      existing?.catch(() => undefined);
      const previous = inFlight;
      // Batches are written in file order; this one starts when the previous one is in.
      inFlight = previous.then(() => writeBatch(rows, existing));
      inFlight.catch(() => undefined);
      await previous;
    };
    let hdr: CsvHeader | null = null;
    let rowsSeen = 0;
    for await (const rec of readCsv(opts.path, report.encoding, (b) => {
      bytesRead = b;
    })) {
      if (!hdr) {
        hdr = readImportHeader(rec.fields, OUTCOME_COLUMNS, 'outcomes').header;
        continue;
      }
      rowsSeen++;
      if (rowsSeen % PROGRESS_EVERY === 0) progress('write', rowsSeen);
      if (repeated.has(rec.line)) continue;
      const h = hdr;
      const row = parseRow(fieldsOf(h, rec.fields), () => {}, opts.now);
      if (!row) continue;
      batch.push(row);
      if (batch.length >= size) await flush();
    }
    await flush();
    await inFlight;
  };

  if (write) {
    // Committed every `commitEvery` rows (pass 1 already refused any file with an error): a long
    // import keeps no million-row transaction open, and one that is interrupted leaves a prefix of
    // the file in; running the file again adds the rest (what is in counts as already imported).
    // The audit row goes with the last transaction.
    const qr = db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await pass2(qr.manager, async () => {
        await qr.commitTransaction();
        await qr.startTransaction();
      });
      await audit(qr.manager, {
        actor: opts.operator,
        action: 'import.outcomes',
        subject: report.file,
        detail: {
          sha256: report.sha256,
          encoding: report.encoding,
          rows: report.rows,
          inserted: report.inserted,
          alreadyImported: report.alreadyImported,
          attributed: report.attributed,
          unattributed: report.unattributed,
          windowDays,
          warningRows: report.warningRows,
        },
      });
      await qr.commitTransaction();
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      throw err;
    } finally {
      await qr.release();
    }
    report.applied = true;
  } else {
    await pass2(db.manager);
  }
  progress('write', report.rows, true);
  return report;
}
