import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { InboxEvent, type InboxStatus } from '../../../server/db/entities';
import { sha256Hex } from '../../../server/wecom/crypto';
import { PROBE } from '../../helpers/callback';
import { SANDBOX_CREDENTIALS } from '../../helpers/server-process';

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
