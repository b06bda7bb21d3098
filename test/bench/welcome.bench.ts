/**
 * add → welcome latency: from the callback's acknowledgement to the fake WeCom receiving
 * send_welcome_msg, with add_external_contact callbacks arriving at 200/s (each with a WelcomeCode),
 * on SQLite, through the real route, inbox, worker fast lane and contact handler. The sandbox is
 * WeCom (in process, so no network time is included: real WeCom adds ~50–200 ms per API call).
 * A second run starts with a backlog of slow events in the inbox to show welcomes skip the queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/data-source';
import { eventXml } from '../../server/sandbox/event-xml';
import { deliverCallback, simulateAddContact } from '../../server/sandbox/simulator';
import { seedOrg, seedWelcomeTemplate } from '../integration/allocation/seed';
import { type BenchResult, printTable } from './lib';

const RATE = Number(process.env.BENCH_WELCOME_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_DURATION ?? 10);
const MEMBERS = ['wang_hz01', 'li_hz01', 'zhao_hz02', 'chen_sh01'];

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;

interface Outcome {
  latencies: number[];
  sent: number;
  expected: number;
  /** Process CPU per add event: route, inbox, worker, handler, fake WeCom and the load generator. */
  cpuMsPerEvent: number;
  /** Event-loop utilisation while sending; near 1 means this process was the bottleneck. */
  elu: number;
}

async function scenario(backlog: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-welcome-'));
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const db = await openDatabase({ url });
  await seedOrg(db);
  await seedWelcomeTemplate(db);
  const config = loadConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'true',
    JOBS_ENABLED: 'false',
    DEMO_DATA: 'false',
    PORT: '0',
  });
  const app = await build(config, { db });
  try {
    await app.ready();
    const fake = app.sandbox!.fake;
    fake.load({
      users: MEMBERS.map((userid) => ({ userid, name: userid, department: [1], main_department: 1, status: 1 })),
    });

    // Slow work already queued: edit events make the handler call externalcontact/get each.
    for (let i = 0; i < backlog; i++) {
      const xml = eventXml(
        fake.corpId,
        Math.floor(Date.now() / 1000),
        'change_external_contact',
        'edit_external_contact',
        [
          ['UserID', MEMBERS[i % MEMBERS.length]],
          ['ExternalUserID', `wm_backlog_${i}`],
        ],
      );
      await deliverCallback(app, xml);
    }

    const acks = new Map<string, number>();
    /** Sends n adds at RATE/s; records ack times when asked; then waits (bounded) for their welcomes. */
    const drive = async (n: number, record: boolean) => {
      const before = fake.welcomes.length;
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const wait = start + (i * 1000) / RATE - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        inflight.push(
          simulateAddContact(app, { userid: MEMBERS[i % MEMBERS.length], state: `bench_${i % 7}` }).then((r) => {
            if (record && r.status === 200 && r.externalUserId) acks.set(r.externalUserId, Date.now());
          }),
        );
      }
      await Promise.all(inflight);
      // Welcome codes expire after 20 s, so waiting longer would prove nothing.
      const deadline = Date.now() + 30_000;
      while (fake.welcomes.length < before + n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    // Warm-up (JIT, lazily loaded modules, prepared statements): one second at the rate, not measured.
    await drive(RATE, false);
    const total = RATE * SECONDS;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    await drive(total, true);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const cpuMsPerEvent = (cpu.user + cpu.system) / 1000 / total;

    const latencies: number[] = [];
    for (const w of fake.welcomes) {
      const ack = acks.get(w.external_userid);
      if (ack !== undefined) latencies.push(Math.max(0, w.at - ack));
    }
    latencies.sort((a, b) => a - b);
    return { latencies, sent: latencies.length, expected: total, cpuMsPerEvent, elu };
  } finally {
    await app.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  // The machine is shared: say how busy it was, the latencies depend on it.
  const results: BenchResult[] = [{ name: 'load average at start (2 cores)', value: loadavg()[0], unit: '' }];
  for (const backlog of [0, 2000]) {
    const r = await scenario(backlog);
    const label = `${RATE}/s for ${SECONDS} s${backlog ? `, ${backlog} events already queued` : ''}`;
    const p99 = pct(r.latencies, 99);
    results.push(
      { name: `add→welcome p50 (${label})`, value: pct(r.latencies, 50), unit: 'ms' },
      { name: `add→welcome p99 (${label})`, value: p99, unit: 'ms', target: '< 1000 ms', pass: p99 < 1000 },
      { name: `add→welcome max (${label})`, value: r.latencies[r.latencies.length - 1] ?? Number.NaN, unit: 'ms' },
      {
        name: `welcomes sent (${label})`,
        value: r.sent,
        unit: `of ${r.expected}`,
        target: 'all',
        pass: r.sent === r.expected,
      },
      { name: `CPU per add event, all in one process (${label})`, value: r.cpuMsPerEvent, unit: 'ms' },
      { name: `event-loop utilisation (${label})`, value: r.elu, unit: '' },
    );
  }
  return results;
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exit(1);
  });
}
