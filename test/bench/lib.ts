import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
  target?: string;
  pass?: boolean;
}

export const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Starts a bench target in its own process (load and server never share an event loop). */
export async function startTarget(
  script: string,
  env: Record<string, string>,
): Promise<{ port: number; metricsPort: number; stop(): Promise<void> }> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['-r', 'tsx/cjs', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    metricsPort,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface LoadResult {
  tool: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  requests: number;
}

export const hasWrk = () => spawnSync('wrk', ['--version']).error === undefined;

/**
 * Drives POSTs of pre-built (path, body) pairs at `connections` concurrency. wrk (C, from Debian)
 * when installed; autocannon otherwise. Both run in a separate process from the target.
 */
export async function loadTest(opts: {
  port: number;
  requests: { path: string; body: string }[];
  connections: number;
  durationS: number;
  contentType?: string;
}): Promise<LoadResult> {
  const file = join(require('node:os').tmpdir(), `bench-req-${process.pid}-${Date.now()}.tsv`);
  writeFileSync(file, opts.requests.map((r) => `${r.path}\t${r.body}`).join('\n'));
  try {
    return hasWrk() ? await runWrk(opts, file) : await runAutocannon(opts, file);
  } finally {
    require('node:fs').rmSync(file, { force: true });
  }
}

async function runWrk(
  opts: { port: number; connections: number; durationS: number; contentType?: string },
  file: string,
): Promise<LoadResult> {
  const lua = `${file}.lua`;
  writeFileSync(
    lua,
    `local reqs = {}
local i = 0
init = function(args)
  for line in io.lines("${file}") do
    local tab = string.find(line, "\\t", 1, true)
    reqs[#reqs + 1] = wrk.format("POST", string.sub(line, 1, tab - 1), {["Content-Type"] = "${opts.contentType ?? 'text/xml'}"}, string.sub(line, tab + 1))
  end
end
request = function()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
`,
  );
  const child = spawn('wrk', [
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.durationS}s`,
    '--latency',
    '-s',
    lua,
    `http://127.0.0.1:${opts.port}`,
  ]);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  await once(child, 'exit');
  require('node:fs').rmSync(lua, { force: true });
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(rps)) throw new Error(`could not read wrk output:\n${out}`);
  return { tool: 'wrk', rps, p50ms: ms('50'), p99ms: ms('99'), non2xx, requests };
}

async function runAutocannon(
  opts: { port: number; connections: number; durationS: number; contentType?: string },
  file: string,
): Promise<LoadResult> {
  const script = join(__dirname, 'autocannon-child.js');
  const child = spawn(
    process.execPath,
    [script, String(opts.port), String(opts.connections), String(opts.durationS), file, opts.contentType ?? 'text/xml'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  await once(child, 'exit');
  return { tool: 'autocannon', ...JSON.parse(out) };
}

export function printTable(results: BenchResult[]) {
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline ?? ''}`.trim(),
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
  ]);
  const head = ['benchmark', 'value', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export const fmt = (v: number) =>
  Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v < 1 ? 3 : 2);

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export const benchExists = (p: string) => existsSync(p);

/** Runs `bench` on SQLite then MariaDB, or only the targets listed in the env var (e.g. `sqlite`). */
export async function onEachDatabase(
  envVar: string,
  bench: (target: 'sqlite' | 'mariadb') => Promise<BenchResult[]>,
): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const only = process.env[envVar]?.split(',');
  for (const t of ['sqlite', 'mariadb'] as const) if (!only || only.includes(t)) out.push(...(await bench(t)));
  return out;
}

/** Multi-row INSERTs of generated rows (≤ 8,000 parameters per statement) in one transaction: the benches' seeds. */
export async function bulkInsert(
  ds: DataSource,
  table: string,
  cols: string[],
  n: number,
  row: (i: number) => unknown[],
) {
  const per = Math.floor(8000 / cols.length);
  const qr = ds.createQueryRunner();
  await qr.startTransaction();
  try {
    for (let i = 0; i < n; i += per) {
      const count = Math.min(per, n - i);
      const params: unknown[] = [];
      for (let j = 0; j < count; j++) params.push(...row(i + j));
      const one = `(${cols.map(() => '?').join(',')})`;
      await qr.query(
        `INSERT INTO ${table} (${cols.join(',')}) VALUES ${Array.from({ length: count }, () => one).join(',')}`,
        params,
      );
    }
    await qr.commitTransaction();
  } catch (err) {
    await qr.rollbackTransaction();
    throw err;
  } finally {
    await qr.release();
  }
}
