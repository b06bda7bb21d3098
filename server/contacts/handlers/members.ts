import { findManager } from '../../allocation/repo';
import { invalidateAllocationCache } from '../../allocation/service';
import { audit } from '../../audit/audit';
import type { Manager, ManagerStatus } from '../../db/entities';
import { type EventOf, field, type HandlerContext } from '../../wecom/events';
import { insertNewMember, renameManager, updateManager } from '../repo';

/**
 * change_contact for members (create_user / update_user / delete_user): keeps `managers` in step
 * with the address book. Branch, role and capacity come from the bank's import, not from WeCom,
 * so a new member starts without a branch and with capacity 0 until an operator imports them.
 * Any change invalidates the allocation index.
 */

/** WeCom member status → ours: 1 active; 2 disabled (cannot serve, but has not left). */
function statusOf(wecomStatus: string): ManagerStatus | undefined {
  if (wecomStatus === '1') return 'active';
  if (wecomStatus === '2') return 'leave';
  return undefined;
}

export async function memberChanged(
  event: EventOf<
    'event/change_contact/create_user' | 'event/change_contact/update_user' | 'event/change_contact/delete_user'
  >,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  const changeType = field(event, 'ChangeType');
  const userid = field(event, 'UserID');
  if (!userid) return;
  const now = ctx.now();
  const existing = await findManager(db, userid);
  const name = field(event, 'Name');
  const status = statusOf(field(event, 'Status'));
  let action: string | null = null;
  const detail: Record<string, unknown> = { changeType };

  if (changeType === 'delete_user') {
    if (existing && existing.status !== 'resigned') {
      await updateManager(db, userid, { status: 'resigned', accepting: false, updatedAt: now });
      action = 'manager.resigned';
    }
  } else if (!existing) {
    await insertNewMember(db, { userid, name: name || userid, status: status ?? 'active', now });
    action = 'manager.create';
  } else {
    // update_user carries only the changed fields.
    const patch: Partial<Manager> = {};
    if (name && name !== existing.name) patch.name = name.slice(0, 64);
    if (status && status !== existing.status && existing.status !== 'resigned') patch.status = status;
    const newUserid = field(event, 'NewUserID');
    if (newUserid && newUserid !== userid) {
      await renameManager(db, userid, newUserid);
      detail.newUserid = newUserid;
      action = 'manager.rename';
    }
    if (Object.keys(patch).length) {
      await updateManager(db, newUserid || userid, { ...patch, updatedAt: now });
      detail.fields = Object.keys(patch);
      action = action ?? 'manager.update';
    }
  }
  if (!action) return;
  invalidateAllocationCache(db);
  await audit(db, { actor: 'system:callback', action, subject: `manager:${userid}`, detail });
}
