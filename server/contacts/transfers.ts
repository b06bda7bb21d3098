import type { DataSource } from 'typeorm';
import { adjustLoad } from '../allocation/service';
import { audit } from '../audit/audit';
import type { Transfer, TransferKind, TransferStatus } from '../db/entities';
import type { TransferResultItem, WecomApi } from '../wecom/api-types';
import { ERR_ALREADY_IN_TRANSFER, ERR_TRANSFER_LIMIT, wecomErrorInfo } from '../wecom/errors';
import {
  countTransfersSince,
  deleteFollow,
  insertTransfer,
  transfersInStatus,
  transfersOfPair,
  updateTransfer,
  upsertFollow,
} from './repo';

/**
 * Customer transfers (在职继承 / 离职继承), tracked row by row in `transfers`. WeCom allows two
 * on-job transfers per customer per 90 days (40128); we count our own first so the third is never
 * sent, and still treat 40128 as final for transfers made elsewhere (console, other apps).
 */

export const ONJOB_LIMIT = 2;
export const LIMIT_WINDOW_MS = 90 * 24 * 3600 * 1000;
/** transfer_customer / resigned/transfer_customer take at most 100 customers per call. */
export const MAX_BATCH = 100;
/** Statuses that used one of the customer's two on-job transfers (a refusal still counts at WeCom). */
const COUNTED: TransferStatus[] = ['requested', 'waiting', 'success', 'refused'];
const OPEN: TransferStatus[] = ['requested', 'waiting', 'queued'];

export interface TransferRequest {
  handover: string;
  takeover: string;
  kind: TransferKind;
  externalUserids: string[];
  actor: string;
  /** Why (mismatch, reassign …), stored on the row. */
  reason: string;
  now: number;
  /**
   * Skip customers that already have a transfer for the same pair requested at or after this time,
   * so rerunning the same event does not ask twice. Open transfers for the pair are always skipped.
   */
  dedupeSince?: number;
  transferSuccessMsg?: string;
}

export interface TransferOutcome {
  externalUserid: string;
  status: TransferStatus | 'skipped';
  errcode: number | null;
  transferId?: number;
}

/** On-job transfers of this customer within the 90-day window that count against the limit. */
export async function onjobTransfersInWindow(db: DataSource, externalUserid: string, now: number): Promise<number> {
  return countTransfersSince(db, { externalUserid, kind: 'onjob', statuses: COUNTED, since: now - LIMIT_WINDOW_MS });
}

function statusForErrcode(errcode: number): TransferStatus {
  if (errcode === 0) return 'waiting';
  if (errcode === ERR_TRANSFER_LIMIT) return 'limit';
  return 'failed';
}

function reasonForErrcode(errcode: number, fallback: string): string {
  if (errcode === ERR_TRANSFER_LIMIT) return 'limit_40128';
  if (ERR_ALREADY_IN_TRANSFER.includes(errcode)) return 'already_in_transfer';
  return fallback;
}

/** A whole call failed: busy or unreachable WeCom is queued for a retry; the rest is final. */
function statusForFailedCall(err: unknown): { status: TransferStatus; errcode: number | null } {
  const { kind, errcode } = wecomErrorInfo(err);
  return { status: kind === 'retryable' ? 'queued' : errcode === ERR_TRANSFER_LIMIT ? 'limit' : 'failed', errcode };
}

/** Transfers grouped by (kind, handover, takeover): one WeCom call serves each group. */
function byPair(transfers: Transfer[]): Transfer[][] {
  const groups = new Map<string, Transfer[]>();
  for (const t of transfers) {
    const key = `${t.kind}\u0000${t.handoverUserid}\u0000${t.takeoverUserid}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()];
}

async function callTransfer(wecom: WecomApi, req: TransferRequest, ids: string[]) {
  if (req.kind === 'resigned') {
    return wecom.resignedTransferCustomer({
      handover_userid: req.handover,
      takeover_userid: req.takeover,
      external_userid: ids,
    });
  }
  return wecom.transferCustomer({
    handover_userid: req.handover,
    takeover_userid: req.takeover,
    external_userid: ids,
    ...(req.transferSuccessMsg ? { transfer_success_msg: req.transferSuccessMsg.slice(0, 200) } : {}),
  });
}

/**
 * Asks WeCom to move customers from one manager to another, in batches of ≤ 100, after dropping
 * those already in transfer and (on-job) those at the limit, which are recorded as `limit` without
 * a call. A retryable failure of the whole call records the batch as `queued` for retryQueuedTransfers.
 */
export async function requestTransfers(
  db: DataSource,
  wecom: WecomApi,
  req: TransferRequest,
): Promise<TransferOutcome[]> {
  const out: TransferOutcome[] = [];
  const toSend: string[] = [];
  const rows: Omit<Transfer, 'id'>[] = [];
  const row = (externalUserid: string, status: TransferStatus, errcode: number | null, reason: string) => ({
    externalUserid,
    handoverUserid: req.handover,
    takeoverUserid: req.takeover,
    kind: req.kind,
    status,
    errcode,
    reason: reason.slice(0, 64),
    requestedAt: req.now,
    updatedAt: req.now,
    takeoverTime: null,
  });

  for (const externalUserid of [...new Set(req.externalUserids)]) {
    const previous = await transfersOfPair(db, externalUserid, req.handover, req.takeover);
    const dup = previous.some(
      (t) => OPEN.includes(t.status) || (req.dedupeSince !== undefined && t.requestedAt >= req.dedupeSince),
    );
    if (dup) {
      out.push({ externalUserid, status: 'skipped', errcode: null });
      continue;
    }
    if (req.kind === 'onjob' && (await onjobTransfersInWindow(db, externalUserid, req.now)) >= ONJOB_LIMIT) {
      rows.push(row(externalUserid, 'limit', null, 'local_limit'));
      continue;
    }
    toSend.push(externalUserid);
  }

  for (let i = 0; i < toSend.length; i += MAX_BATCH) {
    const batch = toSend.slice(i, i + MAX_BATCH);
    try {
      const answer = await callTransfer(wecom, req, batch);
      const byId = new Map(answer.map((a) => [a.external_userid, a.errcode]));
      for (const id of batch) {
        const errcode = byId.get(id) ?? 0;
        rows.push(row(id, statusForErrcode(errcode), errcode || null, reasonForErrcode(errcode, req.reason)));
      }
    } catch (err) {
      const { status, errcode } = statusForFailedCall(err);
      for (const id of batch) rows.push(row(id, status, errcode, req.reason));
    }
  }

  for (const r of rows) {
    const id = await insertTransfer(db, r);
    out.push({ externalUserid: r.externalUserid, status: r.status, errcode: r.errcode, transferId: id });
  }
  if (rows.length) {
    await audit(
      db,
      rows.map((r) => ({
        actor: req.actor,
        action: `transfer.${r.status}`,
        subject: `contact:${r.externalUserid}`,
        detail: {
          handover: r.handoverUserid,
          takeover: r.takeoverUserid,
          kind: r.kind,
          errcode: r.errcode,
          reason: r.reason,
        },
      })),
    );
  }
  return out;
}

/** Sends the `queued` transfers again (WeCom was busy or unreachable). Returns the new outcomes. */
export async function retryQueuedTransfers(
  db: DataSource,
  wecom: WecomApi,
  actor: string,
  now: number,
): Promise<TransferOutcome[]> {
  const queued = await transfersInStatus(db, ['queued']);
  const out: TransferOutcome[] = [];
  for (const list of byPair(queued)) {
    const { kind, handoverUserid: handover, takeoverUserid: takeover } = list[0];
    const req = { kind, handover, takeover, externalUserids: [], actor, reason: 'retry', now };
    for (let i = 0; i < list.length; i += MAX_BATCH) {
      const batch = list.slice(i, i + MAX_BATCH);
      let results: { t: Transfer; status: TransferStatus; errcode: number | null }[];
      try {
        const answer = await callTransfer(
          wecom,
          req,
          batch.map((t) => t.externalUserid),
        );
        const byId = new Map(answer.map((a) => [a.external_userid, a.errcode]));
        results = batch.map((t) => {
          const errcode = byId.get(t.externalUserid) ?? 0;
          return { t, status: statusForErrcode(errcode), errcode: errcode || null };
        });
      } catch (err) {
        const { status, errcode } = statusForFailedCall(err);
        results = batch.map((t) => ({ t, status, errcode }));
      }
      for (const r of results) {
        await updateTransfer(db, r.t.id, { status: r.status, errcode: r.errcode, updatedAt: now });
        out.push({ externalUserid: r.t.externalUserid, status: r.status, errcode: r.errcode, transferId: r.t.id });
      }
      await audit(
        db,
        results.map((r) => ({
          actor,
          action: `transfer.retry.${r.status}`,
          subject: `contact:${r.t.externalUserid}`,
          detail: { transferId: r.t.id, errcode: r.errcode },
        })),
      );
    }
  }
  return out;
}

const RESULT_STATUS: Record<number, { status: TransferStatus; reason?: string }> = {
  1: { status: 'success' },
  2: { status: 'waiting' },
  3: { status: 'refused', reason: 'customer_refused' },
  4: { status: 'failed', reason: 'takeover_full' },
  5: { status: 'failed', reason: 'no_record' },
};

/** A transfer completed: the handover's follow ends as a transfer (not churn), the takeover's begins. */
export async function recordTransferSuccess(db: DataSource, t: Transfer, at: number): Promise<void> {
  const gone = await deleteFollow(db, t.externalUserid, t.handoverUserid, 'transfer', at);
  if (gone.wasActive) adjustLoad(db, t.handoverUserid, -1);
  const added = await upsertFollow(db, {
    externalUserid: t.externalUserid,
    userid: t.takeoverUserid,
    state: null,
    addedAt: at,
    half: false,
  });
  if (added) adjustLoad(db, t.takeoverUserid, 1);
}

/**
 * Asks transfer_result / resigned/transfer_result for every pair with waiting transfers and
 * records the outcome. Returns how many transfers changed status.
 */
export async function pollTransferResults(
  db: DataSource,
  wecom: WecomApi,
  opts: { actor: string; now: number },
): Promise<{ checked: number; changed: number; byStatus: Record<string, number> }> {
  const waiting = await transfersInStatus(db, ['waiting', 'requested']);
  let changed = 0;
  const byStatus: Record<string, number> = {};
  for (const list of byPair(waiting)) {
    const { kind, handoverUserid, takeoverUserid } = list[0];
    const items = new Map<string, TransferResultItem>();
    let cursor: string | undefined;
    do {
      const req = { handover_userid: handoverUserid, takeover_userid: takeoverUserid, cursor };
      const page = kind === 'resigned' ? await wecom.resignedTransferResult(req) : await wecom.transferResult(req);
      for (const c of page.customer) items.set(c.external_userid, c);
      cursor = page.next_cursor || undefined;
    } while (cursor);
    for (const t of list) {
      const item = items.get(t.externalUserid);
      if (!item) continue;
      const next = RESULT_STATUS[item.status];
      if (!next || next.status === t.status) continue;
      const takeoverTime = item.takeover_time ? item.takeover_time * 1000 : null;
      await updateTransfer(db, t.id, {
        status: next.status,
        reason: next.reason ?? t.reason,
        takeoverTime,
        updatedAt: opts.now,
      });
      if (next.status === 'success') await recordTransferSuccess(db, t, takeoverTime ?? opts.now);
      await audit(db, {
        actor: opts.actor,
        action: `transfer.${next.status}`,
        subject: `contact:${t.externalUserid}`,
        detail: { transferId: t.id, handover: handoverUserid, takeover: takeoverUserid, kind },
      });
      changed++;
      byStatus[next.status] = (byStatus[next.status] ?? 0) + 1;
    }
  }
  return { checked: waiting.length, changed, byStatus };
}
