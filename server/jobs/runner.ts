import { hostname } from 'node:os';
import type { AxiosAdapter } from 'axios';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Histogram } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { WecomApi } from '../wecom/api-types';
import { sandboxHttpAdapter } from '../wecom/inject-adapter';
import { wecomOf } from '../wecom/plugin';
import { claimLease, DONE, RUNNING, readLease, releaseLease, renewLease } from './lease';

export interface JobContext {
  db: DataSource;
  /** The WeCom API client (read when first used). */
  readonly wecom: WecomApi;
  config: Config;
  /**
   * The axios adapter for outgoing HTTP (reward webhooks …): in sandbox mode a URL on this
   * server's own /sandbox/ is served in-process, without a socket; undefined means plain HTTP.
   */
  httpAdapter: AxiosAdapter | undefined;
  metrics: Metrics;
  log: FastifyBaseLogger;
  now: () => number;
  /** The scheduled tick (ms), or null for a manual run. */
  tick: number | null;
  /** Aborted when the lease was lost or the app is closing: long jobs should stop at a safe point. */
  signal: AbortSignal;
  /** Audit actor for changes made by this job. */
  actor: string;
}

export interface JobDefinition {
  name: string;
  /** node-cron expression (5 or 6 fields). */
  schedule: string;
  /** The schedule's period: a finished tick guards the lease for half of it. */
  periodMs: number;
  description: string;
  /** Returns a summary (counts and ids only: it is logged). */
  run(ctx: JobContext): Promise<Record<string, unknown> | undefined>;
}

export type JobOutcome = 'ok' | 'failed' | 'skipped_lease' | 'skipped_overlap';

export interface JobRunResult {
  job: string;
  outcome: JobOutcome;
  durationMs?: number;
  result?: Record<string, unknown>;
  error?: string;
}

/** What starts a schedule: node-cron in the server; tests fire slots by hand instead of waiting. */
export interface JobScheduler {
  schedule(
    expression: string,
    opts: { name: string; timezone: string; log: FastifyBaseLogger },
    fire: (slot: Date) => Promise<void>,
  ): { destroy(): Promise<void> | void };
}

export const cronScheduler: JobScheduler = {
  schedule(expression, opts, fire) {
    const task: ScheduledTask = cron.createTask(expression, async (ctx) => fire(ctx.date), {
      name: opts.name,
      timezone: opts.timezone,
      // The server keeps the loop alive; a forgotten runner must never hold a test process open.
      unref: true,
      logger: cronLogger(opts.log),
    });
    void task.start();
    return task;
  },
};

export interface JobRunnerOptions {
  /** Lease length while running; renewed every third of it. */
  leaseMs?: number;
  timezone?: string;
  scheduler?: JobScheduler;
}

/** Bank days are China days. */
export const JOBS_TIMEZONE = 'Asia/Shanghai';

/**
 * Runs job definitions on node-cron schedules. Every run (scheduled or manual) first takes the
 * job's lease row, so on N processes sharing one database exactly one runs a given tick, and a
 * run never overlaps another run of the same job (in this process: a flag; across processes:
 * the lease, which a heartbeat keeps alive and which expires if the holder dies).
 */
export class JobRunner {
  readonly instance = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`.slice(0, 58);
  private readonly defs = new Map<string, JobDefinition>();
  private readonly tasks: { destroy(): Promise<void> | void }[] = [];
  private readonly running = new Map<string, Promise<JobRunResult>>();
  private readonly closing = new AbortController();
  private readonly leaseMs: number;
  private readonly runs: Counter<'job' | 'outcome'>;
  private readonly duration: Histogram<'job'>;

  constructor(
    private readonly app: FastifyInstance,
    defs: JobDefinition[],
    private readonly opts: JobRunnerOptions = {},
  ) {
    for (const d of defs) {
      if (!cron.validate(d.schedule)) throw new Error(`job ${d.name}: invalid cron expression`);
      this.defs.set(d.name, d);
    }
    this.leaseMs = opts.leaseMs ?? 120_000;
    const registry = app.metrics.registry;
    this.runs =
      (registry.getSingleMetric('jobs_runs_total') as Counter<'job' | 'outcome'> | undefined) ??
      new Counter({
        name: 'jobs_runs_total',
        help: 'Cron job runs by job and outcome (ok | failed | skipped_lease | skipped_overlap)',
        labelNames: ['job', 'outcome'] as const,
        registers: [registry],
      });
    this.duration =
      (registry.getSingleMetric('jobs_duration_seconds') as Histogram<'job'> | undefined) ??
      new Histogram({
        name: 'jobs_duration_seconds',
        help: 'Cron job run time',
        labelNames: ['job'] as const,
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
        registers: [registry],
      });
  }

  names(): string[] {
    return [...this.defs.keys()];
  }

  /** Starts the cron schedules (not called when JOBS_ENABLED=false). */
  start(): void {
    if (this.tasks.length) return;
    for (const def of this.defs.values()) {
      const scheduler = this.opts.scheduler ?? cronScheduler;
      this.tasks.push(
        scheduler.schedule(
          def.schedule,
          { name: `job:${def.name}`, timezone: this.opts.timezone ?? JOBS_TIMEZONE, log: this.app.log },
          async (slot) => {
            await this.runTick(def.name, slot.getTime());
          },
        ),
      );
    }
    this.app.log.info({ jobs: this.names() }, 'cron jobs scheduled');
  }

  /** Stops the schedules and waits (bounded) for running jobs; they are told to stop via their signal. */
  async stop(timeoutMs = 10_000): Promise<void> {
    for (const t of this.tasks.splice(0)) await t.destroy();
    this.closing.abort();
    const pending = [...this.running.values()];
    if (!pending.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The scheduled path: `tick` is the cron slot (ms), identical on every process. */
  async runTick(name: string, tick: number): Promise<JobRunResult> {
    return this.execute(this.def(name), tick);
  }

  /** Manual run (operator CLI, tests): still takes the lease, ignores the previous tick's guard. */
  async runNow(name: string): Promise<JobRunResult> {
    return this.execute(this.def(name), null);
  }

  private def(name: string): JobDefinition {
    const def = this.defs.get(name);
    if (!def) throw new Error(`unknown job "${name}" (known: ${this.names().join(', ')})`);
    return def;
  }

  private execute(def: JobDefinition, tick: number | null): Promise<JobRunResult> {
    if (this.running.has(def.name)) {
      this.runs.inc({ job: def.name, outcome: 'skipped_overlap' });
      this.app.log.warn({ job: def.name }, 'job still running; tick skipped');
      return Promise.resolve({ job: def.name, outcome: 'skipped_overlap' });
    }
    const p = this.leased(def, tick).finally(() => this.running.delete(def.name));
    this.running.set(def.name, p);
    return p;
  }

  private async leased(def: JobDefinition, tick: number | null): Promise<JobRunResult> {
    const db = this.app.db;
    const now = this.app.now();
    const holder = `${RUNNING}${this.instance}`;
    // A manual run must not erase the guard a finished scheduled tick left behind.
    const prior = tick === null ? await readLease(db, def.name) : null;
    let got: boolean;
    try {
      got = await claimLease(db, { name: def.name, holder, now, until: now + this.leaseMs, manual: tick === null });
    } catch (err) {
      this.runs.inc({ job: def.name, outcome: 'failed' });
      this.app.log.error({ job: def.name, error: message(err) }, 'job lease could not be taken');
      return { job: def.name, outcome: 'failed', error: message(err) };
    }
    if (!got) {
      this.runs.inc({ job: def.name, outcome: 'skipped_lease' });
      this.app.log.debug({ job: def.name, tick }, 'job lease held elsewhere; skipped');
      return { job: def.name, outcome: 'skipped_lease' };
    }

    const abort = new AbortController();
    const onClosing = () => abort.abort();
    this.closing.signal.addEventListener('abort', onClosing);
    const heartbeat = setInterval(
      () => {
        renewLease(db, def.name, holder, this.app.now() + this.leaseMs)
          .then((ok) => {
            if (!ok) {
              this.app.log.error({ job: def.name }, 'job lease lost while running; asking the job to stop');
              abort.abort();
            }
          })
          .catch((err) => this.app.log.warn({ job: def.name, error: message(err) }, 'job lease renewal failed'));
      },
      Math.max(250, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();

    const log = this.app.log.child({ job: def.name });
    const started = process.hrtime.bigint();
    log.info({ tick, manual: tick === null }, 'job started');
    let out: JobRunResult;
    try {
      const app = this.app;
      const result = await def.run({
        db,
        get wecom() {
          return wecomOf(app);
        },
        config: app.config,
        httpAdapter: sandboxHttpAdapter(app),
        metrics: app.metrics,
        log,
        now: app.now,
        tick,
        signal: abort.signal,
        actor: `job:${def.name}`,
      });
      const durationMs = elapsedMs(started);
      out = { job: def.name, outcome: 'ok', durationMs, result: result ?? undefined };
      log.info({ durationMs, result }, 'job finished');
    } catch (err) {
      const durationMs = elapsedMs(started);
      out = { job: def.name, outcome: 'failed', durationMs, error: message(err) };
      log.error({ durationMs, error: message(err) }, 'job failed');
    } finally {
      clearInterval(heartbeat);
      this.closing.signal.removeEventListener('abort', onClosing);
    }
    this.runs.inc({ job: def.name, outcome: out.outcome });
    this.duration.observe({ job: def.name }, out.durationMs! / 1000);

    const end = this.app.now();
    const priorGuard = prior?.holder.startsWith(DONE) ? prior.until : 0;
    const guard = tick === null ? Math.max(end, priorGuard) : Math.max(end, tick + Math.floor(def.periodMs / 2));
    try {
      await releaseLease(db, def.name, holder, `${DONE}${this.instance}`, guard);
    } catch (err) {
      // The lease then just expires: the next tick after leaseMs runs normally.
      log.warn({ error: message(err) }, 'job lease release failed');
    }
    return out;
  }
}

const elapsedMs = (start: bigint) => Math.round(Number(process.hrtime.bigint() - start) / 1e6);

/** Only the message: error objects from HTTP clients can carry URLs with access tokens. */
function message(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 500);
}

function cronLogger(log: FastifyBaseLogger) {
  return {
    info: (m: string) => log.debug({ source: 'node-cron' }, m),
    warn: (m: string) => log.warn({ source: 'node-cron' }, m),
    error: (m: string | Error) => log.error({ source: 'node-cron' }, typeof m === 'string' ? m : m.message),
    debug: (m: string | Error) => log.debug({ source: 'node-cron' }, typeof m === 'string' ? m : m.message),
  };
}
