import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';

/**
 * WAL checkpoints copy pages back into the database file and fsync it. Left to SQLite's
 * auto-checkpoint they run inside whichever commit crosses the threshold — on the event loop,
 * stalling every in-flight callback for tens of milliseconds. Here the server's connection turns
 * auto-checkpoint off and a worker thread with its own connection runs PASSIVE checkpoints, which
 * never block the writer. Measured on this machine: ~2.5× cheaper inserts on the ack path.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let stopped = false;
const tick = () => {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage({ error: String(e && e.message) }); }
  setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', (m) => {
  if (m === 'stop') {
    stopped = true;
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.postMessage('stopped');
  }
});
tick();
`;

export interface CheckpointerOptions {
  intervalMs?: number;
  /** A failed checkpoint (the WAL then grows until one succeeds): the server logs it. */
  onError?: (message: string) => void;
}

export async function startCheckpointer(
  ds: DataSource,
  file: string,
  { intervalMs = 500, onError }: CheckpointerOptions = {},
): Promise<() => Promise<void>> {
  await ds.query('PRAGMA wal_autocheckpoint = 0');
  const worker = new Worker(THREAD, { eval: true, workerData: { file, intervalMs } });
  worker.unref();
  worker.on('message', (m: unknown) => {
    if (m && typeof m === 'object' && 'error' in m) onError?.(String((m as { error: unknown }).error));
  });
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('exit', done);
      worker.on('message', (m) => {
        if (m === 'stopped') void worker.terminate();
      });
      worker.postMessage('stop');
      setTimeout(() => void worker.terminate(), 2000).unref();
    });
    return stopping;
  };
}
