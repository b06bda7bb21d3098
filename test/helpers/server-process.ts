import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { WecomCrypto } from '../../server/wecom/crypto';
import { qs } from './callback';

/**
 * The real server (server/main.ts through tsx) as a child process, for crash and multi-process
 * tests. Sandbox mode with fixed callback credentials and a fixed sandbox corp id, so the test can
 * sign callbacks exactly as WeCom would.
 */

export const SANDBOX_CREDENTIALS = {
  corpId: 'wwcrashtest00001',
  token: 'CrashTestToken0123456789',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

const ROOT = join(__dirname, '..', '..');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  url: string;
  /** Base URL of the Prometheus listener (GET /metrics), on its own free port. */
  metricsUrl: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<ExitInfo>;
  /** Sends the signal and waits (bounded) for the exit; SIGKILLs on timeout so nothing is left behind. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
  output(): string;
}

/** A free TCP port on 127.0.0.1 (bind :0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const started = new Set<ServerProcess>();

/** Starts server/main.ts and waits (bounded) until /readyz answers 200. */
export async function startServer(opts: {
  databaseUrl: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: opts.databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
    WECOM_SANDBOX: 'true',
    WECOM_SANDBOX_CORP_ID: SANDBOX_CREDENTIALS.corpId,
    WECOM_CALLBACK_TOKEN: SANDBOX_CREDENTIALS.token,
    WECOM_CALLBACK_AES_KEY: SANDBOX_CREDENTIALS.aesKey,
    DEMO_DATA: 'false',
    JOBS_ENABLED: 'false',
    ...opts.env,
  };
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  const url = `http://127.0.0.1:${port}`;
  const proc: ServerProcess = {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    port,
    pid: child.pid!,
    child,
    exited,
    output: () => out,
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (alive) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const res = await Promise.race([
        exited,
        new Promise<null>((r) => {
          timer = setTimeout(() => r(null), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (res) {
        started.delete(proc);
        return res;
      }
      child.kill('SIGKILL');
      const forced = await exited;
      started.delete(proc);
      return forced;
    },
  };
  started.add(proc);

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (!alive) break;
    const status = await get(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop('SIGKILL');
  throw new Error(`server did not become ready on port ${port}:\n${out.slice(-4000)}`);
}

/** Kills every server this test file started and has not stopped (afterAll safety net). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop('SIGKILL')));
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One GET without keep-alive (no socket outlives the call). */
export function get(url: string): Promise<HttpAnswer> {
  return request(url, 'GET', undefined, undefined);
}

function request(
  url: string,
  method: string,
  body: string | undefined,
  agent: http.Agent | undefined,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: agent ?? false, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        data += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Signs callbacks for the fixed sandbox corp and POSTs them like WeCom. */
export class CallbackSender {
  readonly crypto = new WecomCrypto(SANDBOX_CREDENTIALS.token, SANDBOX_CREDENTIALS.aesKey, SANDBOX_CREDENTIALS.corpId);
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  /** Status code, or 0 for a connection error (refused, reset, timed out). */
  async post(baseUrl: string, plaintext: string): Promise<number> {
    const sealed = this.crypto.sealedCallback(plaintext, { agentId: '1000002' });
    try {
      const res = await request(`${baseUrl}/wecom/callback?${qs(sealed.query)}`, 'POST', sealed.body, this.agent, {
        'content-type': 'text/xml',
      });
      return res.status === 200 && res.body !== 'success' ? -1 : res.status;
    } catch {
      return 0;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Sends every plaintext with `concurrency` requests in flight; `target(i)` picks the server for
 * item i; `onAnswer` sees each answer as it arrives (e.g. to kill the server mid-stream).
 * Returns the status per item (0 = connection error).
 */
export async function sendAll(
  sender: CallbackSender,
  plaintexts: string[],
  opts: { concurrency: number; target: (i: number) => string; onAnswer?: (done: number) => void },
): Promise<number[]> {
  const statuses = new Array<number>(plaintexts.length).fill(0);
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < plaintexts.length) {
      const i = next++;
      statuses[i] = await sender.post(opts.target(i), plaintexts[i]);
      done++;
      opts.onAnswer?.(done);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  return statuses;
}

/** Polls `check` until it returns true or the time is up (bounded polling, not a sleep). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
