import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { InboxEvent, InboxStatus } from '../db/entities';
import { wecomErrorInfo } from '../wecom/errors';
import type { WecomEvent } from '../wecom/events';
import { wecomOf } from '../wecom/plugin';
import { parseEventXml } from '../wecom/xml';
import {
  type ClaimedRow,
  claimByDedupKey,
  claimDue,
  claimedBy,
  eventType,
  finishClaimed,
  leaseHolders,
  PURGED_PAYLOAD,
  renewLeases,
  sweepInbox,
} from './inbox-repo';

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
  /** How often held leases are renewed; default a third of the lease (two renewals may fail before it expires). */
  heartbeatMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  retentionHours: number;
  random?: () => number;
}

type Row = ClaimedRow;

/** Errors a retry cannot fix: the handler (or the WeCom client) marks them so. */
/** Retrying cannot help: a handler said so (`permanent: true`), or WeCom says the data or auth is wrong. */
function isPermanent(err: unknown): boolean {
  if ((err as { permanent?: unknown } | null)?.permanent === true) return true;
  const { kind } = wecomErrorInfo(err);
  return kind === 'data' || kind === 'auth';
}

let claimSeq = 0;
/** Extra tries of a failed finish (25, 50, 100, 200, 400 ms apart: well inside a lease). */
const FINISH_RETRIES = 5;

/** A row this process is running a handler for: its claim token and whether the lease is still ours. */
interface Held {
  token: string;
  /** Aborted when a heartbeat finds the row taken over (or cannot confirm the lease before it ends). */
  abort: AbortController;
  lost: boolean;
}

/**
 * Processes the durable inbox. Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED` on MySQL,
 * one atomic UPDATE on SQLite), so N processes on one MySQL never run an event twice at once; a
 * crashed process's lease expires and another takes the row over. Handlers are idempotent, which
 * makes "at least once" delivery "exactly once in effect".
 *
 * Leases are short (WORKER_LEASE_MS, 10 s) and a heartbeat renews every lease this process holds
 * (one UPDATE per interval, guarded by locked_by), so a killed process's rows are taken over within
 * about a lease while a slow handler of a live process keeps its row. A row whose renewal finds it
 * taken over is marked lost: its handler is told to stop (ctx.signal) and its result is not written
 * (the finish is guarded by locked_by too), so the new owner's run is the only one that counts.
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
  /** Rows whose handler runs in this process, by id. */
  private readonly held = new Map<number, Held>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  /** When every held lease was last confirmed (ms, app clock). */
  private lastRenewal = 0;

  constructor(
    private readonly app: FastifyInstance,
    private readonly opts: WorkerOptions,
  ) {}

  private get db() {
    return this.app.db;
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
    if (this.active === 0 && !this.claiming) return this.stopHeartbeat();
    await Promise.race([
      new Promise<void>((r) => this.idleWaiters.push(r)),
      new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
    ]);
    // Handlers still running after the timeout lose their leases by expiry; nothing renews them now.
    this.stopHeartbeat();
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
    if (!(await claimByDedupKey(this.db, dedupKey, token, now + this.opts.leaseMs))) return false;
    const rows = await claimedBy(this.db, token);
    this.active++;
    try {
      for (const r of rows) await this.process(r, token).catch((err) => this.finishFailed(r, err));
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
          this.runKeyed(r, token)
            .catch((err) => this.finishFailed(r, err))
            .finally(() => {
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

  /**
   * Expired leases (a crashed or killed process) go back to pending; old done rows are purged.
   * Runs every fifth of a lease (at most every 5 s), so a dead process's rows wait about one lease.
   */
  private async sweep() {
    const now = this.app.now();
    if (now - this.lastSweep < Math.min(5_000, this.opts.leaseMs / 5)) return;
    this.lastSweep = now;
    await sweepInbox(this.db, {
      now,
      // Our own rows are alive whatever the clock says (a renewal may just have failed while the
      // database was away): never hand a row this process is still running to the queue again.
      keep: this.heldTokens(),
      // Done rows are kept for the dedup window (older timestamps are rejected as stale anyway).
      doneCutoff: now - (this.opts.retentionHours + 1) * 3_600_000,
    });
  }

  private claim(token: string, limit: number): Promise<Row[]> {
    const now = this.app.now();
    return claimDue(this.db, token, { now, until: now + this.opts.leaseMs, limit });
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
    const held: Held = { token, abort: new AbortController(), lost: false };
    this.held.set(row.id, held);
    this.startHeartbeat();
    try {
      await this.run(row, token, held);
    } finally {
      this.held.delete(row.id);
      if (this.held.size === 0) this.stopHeartbeat();
    }
  }

  private async run(row: Row, token: string, held: Held): Promise<void> {
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
      // Counted only when this process still owned the row: the count is "events stored as unhandled".
      if (await this.finish(row, token, 'unhandled', { ...typeCols, lastError: null }))
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
        signal: held.abort.signal,
      });
      // Processed: the decrypted XML (codes, names, message text) is not kept; the dedup key is.
      await this.finish(row, token, 'done', {
        ...typeCols,
        lastError: null,
        processedAt: this.app.now(),
        payload: PURGED_PAYLOAD,
      });
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

  /** Writes the outcome if this process still holds the row; false when the lease was lost. */
  private async finish(row: Row, token: string, status: InboxStatus, patch: Partial<InboxEvent>): Promise<boolean> {
    // Only the lease holder may finish: if our lease expired and another process took over, it owns the row.
    const update = () => finishClaimed(this.db, row.id, token, status, patch);
    // A transient failure (a deadlock with a concurrent claim on MariaDB, a dropped connection) is
    // retried while the lease holds: an unstored outcome means running the event again later.
    let written: boolean;
    for (let attempt = 0; ; attempt++) {
      try {
        written = await update();
        break;
      } catch (err) {
        if (attempt >= FINISH_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 25 * 2 ** attempt + Math.floor(Math.random() * 25)));
      }
    }
    if (!written) {
      this.app.metrics.inboxLeaseLost.inc({ at: 'finish' });
      this.app.log.warn(
        { inboxId: row.id, outcome: status },
        'inbox lease was lost before the finish; the result is discarded and the new owner runs the event',
      );
      return false;
    }
    return true;
  }

  /**
   * The finish could not be written (the database went away): the row keeps our lease, which
   * expires, and the event runs again (handlers are idempotent). Never an unhandled rejection.
   */
  private finishFailed(row: Row, err: unknown) {
    this.app.log.warn(
      { inboxId: row.id, error: String((err as Error)?.message ?? err).slice(0, 300) },
      'inbox event outcome could not be stored; it runs again after its lease expires',
    );
  }

  private heldTokens(): string[] {
    return [...new Set([...this.held.values()].map((h) => h.token))];
  }

  private get heartbeatMs() {
    return this.opts.heartbeatMs ?? Math.max(100, Math.floor(this.opts.leaseMs / 3));
  }

  private startHeartbeat() {
    if (this.heartbeatTimer) return;
    this.lastRenewal = this.app.now();
    this.heartbeatTimer = setInterval(() => void this.renew(), this.heartbeatMs);
    this.heartbeatTimer.unref?.();
  }

  private stopHeartbeat() {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /**
   * One heartbeat: a single UPDATE extends every lease this process holds, guarded by locked_by so
   * a row another process took over is never extended. Fewer rows than held means some were lost:
   * find which, and tell their handlers. A failure (database away) is logged, never thrown; if no
   * renewal succeeds for a whole lease, the rows are treated as lost (another process may own them).
   */
  renew(): Promise<void> {
    if (this.renewing) return this.renewing;
    const entries = [...this.held.entries()].filter(([, h]) => !h.lost);
    if (entries.length === 0) return Promise.resolve();
    const started = this.app.now();
    this.renewing = this.renewHeld(entries, started)
      .catch((err) => {
        this.app.log.warn(
          { held: entries.length, error: String((err as Error)?.message ?? err).slice(0, 300) },
          'inbox lease renewal failed; will retry',
        );
        if (this.app.now() - this.lastRenewal >= this.opts.leaseMs) {
          for (const [id, h] of entries) this.markLost(id, h, 'expired');
        }
      })
      .finally(() => {
        this.renewing = null;
      });
    return this.renewing;
  }

  private async renewHeld(entries: [number, Held][], now: number) {
    const ids = entries.map(([id]) => id);
    const tokens = [...new Set(entries.map(([, h]) => h.token))];
    if ((await renewLeases(this.db, ids, tokens, now + this.opts.leaseMs)) >= ids.length) {
      this.lastRenewal = now;
      return;
    }
    // Some were not renewed: read back which rows are still ours (MySQL may also report 0 for a
    // row whose value did not change, so the count alone is not proof of loss).
    const still = await leaseHolders(this.db, ids);
    const ours = new Set(still.filter((r) => r.lockedBy && this.held.get(r.id)?.token === r.lockedBy).map((r) => r.id));
    for (const [id, h] of entries) if (!ours.has(id)) this.markLost(id, h, 'taken_over');
    this.lastRenewal = now;
  }

  private markLost(id: number, h: Held, why: 'taken_over' | 'expired') {
    if (h.lost) return;
    h.lost = true;
    this.app.metrics.inboxLeaseLost.inc({ at: why });
    this.app.log.error({ inboxId: id, why }, 'inbox lease lost while the handler runs; asking it to stop');
    h.abort.abort(new Error(`inbox lease lost (${why})`));
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
      heartbeatMs: c.worker.heartbeatMs,
      retentionHours: c.callback.retentionHours,
    });
    app.decorate('worker', worker);
    if (enabled) app.addHook('onReady', async () => worker.start());
    app.addHook('preClose', async () => worker.stop());
  },
  { name: 'worker' },
);
