import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { InboxEvent, type InboxStatus } from '../../../server/db/entities';
import { sha256Hex } from '../../../server/wecom/crypto';
import { PROBE } from '../../helpers/callback';
import { SANDBOX_CREDENTIALS, type ServerProcess } from '../../helpers/server-process';

/** An event type no feature registers: the worker stores it as `unhandled`, exactly once per row. */
export const PROBE_EVENT = 'crash_probe';

/** `n` distinct signed-able plaintexts and their inbox dedup keys. */
export function probeEvents(n: number): { texts: string[]; keys: string[] } {
  const run = randomBytes(4).toString('hex');
  const texts = Array.from({ length: n }, (_, i) => PROBE(SANDBOX_CREDENTIALS.corpId, `${run}-${i}`, PROBE_EVENT));
  return { texts, keys: texts.map(sha256Hex) };
}

export interface InboxRowView {
  dedupKey: string;
  status: InboxStatus;
  attempts: number;
  lockedBy: string | null;
  lastError: string | null;
}

export async function inboxRows(ds: DataSource): Promise<Map<string, InboxRowView>> {
  const rows = await ds
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select(['i.dedupKey', 'i.status', 'i.attempts', 'i.lockedBy', 'i.lastError'])
    .getMany();
  return new Map(rows.map((r) => [r.dedupKey, { ...r }]));
}

export async function openCount(ds: DataSource): Promise<number> {
  return ds.getRepository(InboxEvent).createQueryBuilder('i').where("i.status IN ('pending', 'processing')").getCount();
}

/** `wecom_events_unhandled_total{type="crash_probe"}` from a /metrics text. */
export function unhandledProbes(metricsText: string): number {
  const m = new RegExp(`^wecom_events_unhandled_total\\{type="${PROBE_EVENT}"\\} (\\d+)`, 'm').exec(metricsText);
  return m ? Number(m[1]) : 0;
}

/**
 * Freezes the server (SIGSTOP) at a moment when its worker holds claimed rows (status
 * `processing`) and returns how many; the process stays stopped, so what the test does next (a
 * SIGKILL, a SIGTERM then SIGCONT) happens in exactly that state. Between looks it lets the server
 * run a few ms. Returns 0 (still frozen) if no such moment came in `tries` looks.
 */
export async function freezeWhileHolding(server: ServerProcess, ds: DataSource, tries = 400): Promise<number> {
  for (let attempt = 0; attempt < tries; attempt++) {
    server.child.kill('SIGSTOP');
    const held = await ds.getRepository(InboxEvent).countBy({ status: 'processing' });
    if (held > 0 || attempt === tries - 1) return held;
    server.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 2 + (attempt % 7)));
  }
  return 0;
}
