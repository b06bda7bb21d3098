import { adjustLoad } from '../../allocation/service';
import { audit } from '../../audit/audit';
import { markEnrollmentsParted } from '../../campaigns/repo';
import { markReferralParted } from '../../referrals/service';
import { type BaseEvent, type EventOf, field, type HandlerContext } from '../../wecom/events';
import { deleteFollow, openOnjobTransferFrom, updateTransfer } from '../repo';
import { contactOf } from './contact-event';

const eventTime = (event: BaseEvent, fallback: number) => Number(field(event, 'CreateTime')) * 1000 || fallback;

/**
 * del_external_contact: the manager removed the customer. With Source=DELETE_BY_TRANSFER an on-job
 * transfer completed: the follow ends as 'transfer' (not churn) and the waiting transfer succeeded.
 */
export async function managerDeletedCustomer(
  event: EventOf<'event/change_external_contact/del_external_contact'>,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  const ids = contactOf(event);
  if (!ids) return;
  const { externalUserid, userid } = ids;
  const byTransfer = field(event, 'Source') === 'DELETE_BY_TRANSFER';
  const at = eventTime(event, ctx.now());
  const res = await deleteFollow(db, externalUserid, userid, byTransfer ? 'transfer' : 'manager', at);
  if (res.wasActive) adjustLoad(db, userid, -1);
  // A transfer keeps the customer (with another manager): not a parting for campaign retention.
  if (!byTransfer) {
    await markEnrollmentsParted(db, externalUserid, userid, 'manager', at);
    await markReferralParted(db, externalUserid, userid, at);
  }
  let transferId: number | null = null;
  if (byTransfer) {
    const t = await openOnjobTransferFrom(db, externalUserid, userid);
    if (t) {
      transferId = t.id;
      await updateTransfer(db, t.id, { status: 'success', takeoverTime: at, updatedAt: ctx.now() });
    }
  }
  if (!res.wasActive && !transferId) return; // a redelivery: nothing changed
  await audit(db, {
    actor: 'system:callback',
    action: byTransfer ? 'contact.transferred_out' : 'contact.deleted_by_manager',
    subject: `contact:${externalUserid}`,
    detail: { userid, transferId },
  });
}

/** del_follow_user: the customer removed the manager — churn. */
export async function customerDeletedManager(
  event: EventOf<'event/change_external_contact/del_follow_user'>,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  const ids = contactOf(event);
  if (!ids) return;
  const { externalUserid, userid } = ids;
  const at = eventTime(event, ctx.now());
  const res = await deleteFollow(db, externalUserid, userid, 'customer', at);
  // Before the redelivery check: a crash after the follow update must still mark the campaign.
  await markEnrollmentsParted(db, externalUserid, userid, 'customer', at);
  await markReferralParted(db, externalUserid, userid, at);
  if (!res.wasActive && res.existed) return;
  if (res.wasActive) adjustLoad(db, userid, -1);
  await audit(db, {
    actor: 'system:callback',
    action: 'contact.churn',
    subject: `contact:${externalUserid}`,
    detail: { userid, knownBefore: res.existed },
  });
}
