import { audit } from '../../audit/audit';
import type { TransferStatus } from '../../db/entities';
import { type EventOf, field, type HandlerContext } from '../../wecom/events';
import { openTransferTo, updateTransfer } from '../repo';
import { contactOf } from './contact-event';

const STATUS: Record<string, TransferStatus> = {
  customer_refused: 'refused',
  customer_limit_exceed: 'limit',
};

/**
 * transfer_fail: UserID is the takeover member. The customer's newest open transfer to that member
 * records the failure. No retry: a refusal is the customer's answer, and each try uses up one of
 * the two on-job transfers per 90 days.
 */
export async function transferFailed(
  event: EventOf<'event/change_external_contact/transfer_fail'>,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  // UserID names the takeover member here.
  const ids = contactOf(event);
  if (!ids) return;
  const { externalUserid, userid: takeover } = ids;
  const reason = field(event, 'FailReason') || 'unknown';
  const t = await openTransferTo(db, externalUserid, takeover);
  if (!t) {
    ctx.log.info({ externalUserid, takeover }, 'transfer_fail for no open transfer of ours; ignored');
    return;
  }
  const status = STATUS[reason] ?? 'failed';
  await updateTransfer(db, t.id, { status, reason: reason.slice(0, 64), updatedAt: ctx.now() });
  await audit(db, {
    actor: 'system:callback',
    action: `transfer.${status}`,
    subject: `contact:${externalUserid}`,
    detail: { transferId: t.id, handover: t.handoverUserid, takeover, failReason: reason },
  });
}
