import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface OpsRun {
  child: ChildProcess;
  /** The exit, with stdout and stderr together. */
  done: Promise<{ code: number | null; signal: string | null; out: string }>;
}

/**
 * `ops <args>` (scripts/ops.ts) as a real process, with only PATH, HOME and `env` in its
 * environment: the kill -9 tests SIGKILL it mid-call.
 */
export function spawnOps(args: string[], env: Record<string, string>): OpsRun {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'scripts/ops.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
  return { child, done };
}
