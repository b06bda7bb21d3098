import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { InboxEvent, InboxStatus } from '../db/entities';
import { wecomErrorInfo } from '../wecom/errors';
import type { WecomEvent } from '../wecom/events';
import { wecomOf } from '../wecom/plugin';
import { parseEventXml } from '../wecom/xml';
import { eventType } from './inbox-repo';

declare module 'fastify' {
  interface FastifyInstance {
    worker: InboxWorker;
  }
}

export interface WorkerOptions {
  concurrency: number;
  maxAttempts: number;
  pollMs: number;
  leaseMs: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  retentionHours: number;
  random?: () => number;
}

type Row = Pick<InboxEvent, 'id' | 'payload' | 'attempts' | 'receivedAt' | 'dedupKey'>;

/** Errors a retry cannot fix: the handler (or the WeCom client) marks them so. */
/** Retrying cannot help: a handler said so (`permanent: true`), or WeCom says the data or auth is wrong. */
function isPermanent(err: unknown): boolean {
  if ((err as { permanent?: unknown } | null)?.permanent === true) return true;
  const { kind } = wecomErrorInfo(err);
  return kind === 'data' || kind === 'auth';
}

let claimSeq = 0;

/**
 * Processes the durable inbox. Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED` on MySQL,
 * one atomic UPDATE on SQLite), so N processes on one MySQL never run an event twice at once; a
 * crashed process's lease expires and another takes the row over. Handlers are idempotent, which
 * makes "at least once" delivery "exactly once in effect".
 */
export class InboxWorker {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private active = 0;
  private claiming = false;
  private rewake = false;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping = false;
  private lastSweep = 0;
  private readonly chains = new Map<string, Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly opts: WorkerOptions,
  ) {}

  private get db() {
    return this.app.db;
  }

  private get isMysql() {
    return this.db.options.type !== 'better-sqlite3';
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.pump();
  }

  /** Stop claiming and wait (bounded) for running handlers: graceful shutdown. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.active === 0 && !this.claiming) return;
    await Promise.race([
      new Promise<void>((r) => this.idleWaiters.push(r)),
      new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
    ]);
  }

  /** A new row was committed: look now instead of waiting for the next poll. */
  notify() {
    if (!this.running || this.stopping) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // A claim already in flight may have read the queue before this row was committed.
    if (this.claiming) this.rewake = true;
    else this.pump();
  }

  /**
   * Fast lane: claim and run one specific row right away, outside the queue order (welcome
   * messages expire 20 s after the event and must not wait behind a backlog).
   */
  async expedite(dedupKey: string): Promise<boolean> {
    // Part of the worker: a process that runs no worker (WORKER_ENABLED=false, tests driving
    // drain()) leaves the row to whoever does.
    if (!this.running || this.stopping) return false;
    const token = this.token();
    const now = this.app.now();
    const res = await this.db
      .createQueryBuilder()
      .update(InboxEvent)
      .set({
        status: 'processing',
        lockedBy: token,
        lockedUntil: now + this.opts.leaseMs,
        attempts: () => 'attempts + 1',
      })
      .where("dedup_key = :k AND status = 'pending'", { k: dedupKey })
      .execute();
    if (!res.affected) return false;
    const rows = await this.load(token);
    this.active++;
    try {
      for (const r of rows) await this.process(r, token);
    } finally {
      this.active--;
      this.settle();
    }
    return true;
  }

  /** Claims and processes until nothing is claimable now (tests and the CLI drive the worker with this). */
  async drain(maxRounds = 1000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const token = this.token();
      const rows = await this.claim(token, this.opts.concurrency * 4);
      if (rows.length === 0) break;
      total += rows.length;
      await Promise.all(rows.map((r) => this.runKeyed(r, token)));
    }
    return total;
  }

  private token() {
    claimSeq = (claimSeq + 1) % 1_000_000_000;
    return `${this.id}:${claimSeq}`.slice(0, 64);
  }

  private pump() {
    if (!this.running || this.stopping || this.claiming) return;
    const free = this.opts.concurrency - this.active;
    if (free <= 0) return;
    this.claiming = true;
    const token = this.token();
    this.sweep()
      .then(() => this.claim(token, free))
      .then((rows) => {
        this.claiming = false;
        const rewake = this.rewake;
        this.rewake = false;
        for (const r of rows) {
          this.active++;
          this.runKeyed(r, token).finally(() => {
            this.active--;
            this.settle();
            this.pump();
          });
        }
        // A full claim may have left more behind: look again now. Otherwise poll, so rows that
        // arrive while slots are free are never left waiting for a running handler to finish.
        if (rows.length === free || rewake) this.pump();
        else this.schedule();
        this.settle();
      })
      .catch((err) => {
        this.claiming = false;
        this.rewake = false;
        this.app.log.warn({ err: { message: (err as Error).message } }, 'inbox claim failed; will retry');
        this.schedule();
        this.settle();
      });
  }

  private schedule() {
    if (!this.running || this.stopping || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, this.opts.pollMs);
    this.timer.unref?.();
  }

  private settle() {
    if (this.active === 0 && !this.claiming) for (const f of this.idleWaiters.splice(0)) f();
  }

  /** Expired leases (a crashed or killed process) go back to pending; old done rows are purged. */
  private async sweep() {
    const now = this.app.now();
    if (now - this.lastSweep < 5_000) return;
    this.lastSweep = now;
    await this.db
      .createQueryBuilder()
      .update(InboxEvent)
      .set({ status: 'pending', lockedBy: null, lockedUntil: null, nextAttemptAt: now })
      .where("status = 'processing' AND locked_until < :now", { now })
      .execute();
    // Done rows are kept for the dedup window (older timestamps are rejected as stale anyway).
    const cutoff = now - (this.opts.retentionHours + 1) * 3_600_000;
    await this.db
      .createQueryBuilder()
      .delete()
      .from(InboxEvent)
      .where("status = 'done' AND received_at < :cutoff", { cutoff })
      .execute();
  }

  private async claim(token: string, limit: number): Promise<Row[]> {
    const now = this.app.now();
    const until = now + this.opts.leaseMs;
    if (this.isMysql) {
      // READ COMMITTED: the claim locks only the rows it returns, never gaps, so concurrent inserts
      // on the ack path are not blocked behind a claim.
      const ids = await this.db.transaction('READ COMMITTED', async (m) => {
        const found = await m
          .getRepository(InboxEvent)
          .createQueryBuilder('i')
          .select('i.id', 'id')
          .where("i.status = 'pending' AND i.next_attempt_at <= :now", { now })
          .orderBy('i.next_attempt_at', 'ASC')
          .addOrderBy('i.id', 'ASC')
          .limit(limit)
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getRawMany<{ id: number }>();
        if (found.length === 0) return [];
        const list = found.map((f) => Number(f.id));
        await m
          .createQueryBuilder()
          .update(InboxEvent)
          .set({ status: 'processing', lockedBy: token, lockedUntil: until, attempts: () => 'attempts + 1' })
          .where('id IN (:...list)', { list })
          .execute();
        return list;
      });
      if (ids.length === 0) return [];
    } else {
      // SQLite has one writer at a time: a single UPDATE … WHERE id IN (SELECT … LIMIT n) is the claim.
      await this.db.query(
        `UPDATE inbox SET status = 'processing', locked_by = ?, locked_until = ?, attempts = attempts + 1
         WHERE id IN (SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= ?
                      ORDER BY next_attempt_at, id LIMIT ?)`,
        [token, until, now, limit],
      );
    }
    return this.load(token);
  }

  private async load(token: string): Promise<Row[]> {
    return this.db
      .getRepository(InboxEvent)
      .createQueryBuilder('i')
      .select(['i.id', 'i.payload', 'i.attempts', 'i.receivedAt', 'i.dedupKey'])
      .where("i.locked_by = :token AND i.status = 'processing'", { token })
      .orderBy('i.id', 'ASC')
      .getMany();
  }

  /** Events about the same customer run one after another in this process (add before delete). */
  private runKeyed(row: Row, token: string): Promise<void> {
    const key = /<ExternalUserID>(?:<!\[CDATA\[)?([^<\]]+)/.exec(row.payload)?.[1];
    if (!key) return this.process(row, token);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.process(row, token));
    this.chains.set(key, next);
    return next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  private async process(row: Row, token: string): Promise<void> {
    const started = process.hrtime.bigint();
    let event: WecomEvent;
    try {
      event = parseEventXml(row.payload);
    } catch (err) {
      // Well signed but unparseable: keep it, mark it, make it visible. Never drop.
      await this.finish(row, token, 'malformed', { lastError: (err as Error).message });
      this.app.metrics.processing.observe({ type: 'unparsed', outcome: 'malformed' }, seconds(started));
      return;
    }
    const typeCols = {
      msgType: str(event.MsgType, 32),
      event: str(event.Event, 64),
      changeType: str(event.ChangeType, 64),
    };
    const type = eventType(typeCols);
    const resolved = this.app.events.resolve(event);
    if (!resolved) {
      await this.finish(row, token, 'unhandled', { ...typeCols, lastError: null });
      this.app.metrics.eventsUnhandled.inc({ type });
      this.app.metrics.processing.observe({ type, outcome: 'unhandled' }, seconds(started));
      return;
    }
    const log = this.app.log.child({ inboxId: row.id, type });
    const app = this.app;
    try {
      await resolved.handler(event, {
        db: this.db,
        config: this.app.config,
        log,
        metrics: this.app.metrics,
        get wecom() {
          return wecomOf(app);
        },
        now: this.app.now,
        inboxId: row.id,
        receivedAt: row.receivedAt,
      });
      await this.finish(row, token, 'done', { ...typeCols, lastError: null, processedAt: this.app.now() });
      this.app.metrics.processing.observe({ type, outcome: 'done' }, seconds(started));
    } catch (err) {
      const message = String((err as Error)?.message ?? err).slice(0, 2000);
      const dead = isPermanent(err) || row.attempts >= this.opts.maxAttempts;
      if (dead) {
        log.error({ attempts: row.attempts, error: message }, 'event moved to dead letter');
        await this.finish(row, token, 'dead', { ...typeCols, lastError: message });
      } else {
        const delay = this.backoff(row.attempts);
        log.warn({ attempts: row.attempts, retryInMs: delay, error: message }, 'event failed; will retry');
        await this.finish(row, token, 'pending', {
          ...typeCols,
          lastError: message,
          nextAttemptAt: this.app.now() + delay,
        });
      }
      this.app.metrics.processing.observe({ type, outcome: dead ? 'dead' : 'retry' }, seconds(started));
    }
  }

  /** Exponential backoff with jitter: base·2^(n-1), capped, then a random point in its upper half. */
  backoff(attempts: number): number {
    const base = this.opts.baseBackoffMs ?? 1000;
    const cap = this.opts.maxBackoffMs ?? 10 * 60_000;
    const d = Math.min(cap, base * 2 ** Math.max(0, attempts - 1));
    return Math.round(d / 2 + (this.opts.random ?? Math.random)() * (d / 2));
  }

  private async finish(row: Row, token: string, status: InboxStatus, patch: Partial<InboxEvent>) {
    await this.db
      .createQueryBuilder()
      .update(InboxEvent)
      .set({ ...patch, status, lockedBy: null, lockedUntil: null })
      // Only the lease holder may finish: if our lease expired and another process took over, it owns the row.
      .where('id = :id AND locked_by = :token', { id: row.id, token })
      .execute();
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const str = (v: unknown, max: number) => (typeof v === 'string' && v ? v.slice(0, max) : null);

export const workerPlugin = fp<{ enabled: boolean }>(
  async (app, { enabled }) => {
    const c = app.config;
    const worker = new InboxWorker(app, {
      concurrency: c.worker.concurrency,
      maxAttempts: c.worker.maxAttempts,
      pollMs: c.worker.pollMs,
      leaseMs: c.worker.leaseMs,
      retentionHours: c.callback.retentionHours,
    });
    app.decorate('worker', worker);
    if (enabled) app.addHook('onReady', async () => worker.start());
    app.addHook('preClose', async () => worker.stop());
  },
  { name: 'worker' },
);
