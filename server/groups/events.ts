import { audit } from '../audit/audit';
import type { QuitScene } from '../db/entities';
import { type EventOf, field, type HandlerContext, type XmlValue } from '../wecom/events';
import * as repo from './repo';
import { rereadGroup } from './sync';

/**
 * `change_external_chat` (PROTOCOL-SOP.md §2). add_member/del_member are applied as deltas when
 * the stored member_version equals LastMemVer; a redelivery (stored = CurMemVer) changes nothing;
 * any other stored version means an event was lost or reordered, and the group is re-read.
 * Branching is on ChangeType/UpdateDetail, never on which fields happen to be present.
 */

/** `<MemChangeList><Item>a</Item><Item>b</Item></MemChangeList>` → ['a', 'b']. */
export function memChangeList(event: ChatEvent): string[] {
  const v = event.MemChangeList as XmlValue | undefined;
  if (!v || typeof v === 'string') return [];
  if (Array.isArray(v)) return [];
  const items = (v as { Item?: XmlValue }).Item;
  const list = Array.isArray(items) ? items : items === undefined ? [] : [items];
  return list.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim());
}

type ChatEvent = EventOf<'event/change_external_chat'>;

export async function groupChanged(event: ChatEvent, ctx: HandlerContext): Promise<void> {
  const { db } = ctx;
  const chatId = field(event, 'ChatId');
  if (!chatId) {
    ctx.log.warn('change_external_chat without ChatId; ignored');
    return;
  }
  const now = ctx.now();
  const created = Number(field(event, 'CreateTime')) * 1000;
  const at = Number.isFinite(created) && created > 0 ? created : now;
  const changeType = field(event, 'ChangeType');

  if (changeType === 'dismiss') {
    if (await repo.markDismissed(db, chatId, at, now)) {
      await audit(db, { actor: 'system:callback', action: 'group.dismissed', subject: `group:${chatId}` });
    }
    return;
  }

  const detail = field(event, 'UpdateDetail');
  if (changeType === 'update' && (detail === 'add_member' || detail === 'del_member')) {
    const ids = memChangeList(event);
    const last = field(event, 'LastMemVer');
    const cur = field(event, 'CurMemVer');
    const quitScene: QuitScene | undefined =
      detail === 'del_member' ? repo.quitSceneFromEvent(field(event, 'QuitScene')) : undefined;
    let outcome: repo.DeltaOutcome = 'gap';
    if (last && cur && ids.length) {
      outcome = await repo.applyMemberDelta(db, {
        chatId,
        kind: detail === 'add_member' ? 'add' : 'del',
        lastMemVer: last,
        curMemVer: cur,
        ids,
        at,
        joinScene: detail === 'add_member' ? repo.joinSceneFromEvent(field(event, 'JoinScene')) : undefined,
        quitScene,
        now,
      });
    }
    if (outcome === 'applied' || outcome === 'duplicate') return;
    const quitScenes = quitScene ? new Map(ids.map((id) => [id, quitScene])) : undefined;
    const res = await rereadGroup(db, ctx.wecom, chatId, { now, quitAt: at, quitScenes });
    ctx.log.info({ chatId, outcome, reread: res.kind }, 'group member version gap repaired by a re-read');
    await audit(db, {
      actor: 'system:callback',
      action: 'group.resync',
      subject: `group:${chatId}`,
      detail: {
        reason: outcome,
        event: detail,
        result: res.kind,
        joins: res.kind === 'written' ? res.plan.joins.length : 0,
        quits: res.kind === 'written' ? res.plan.quits.length : 0,
      },
    });
    return;
  }

  // create, change_owner, change_name, change_notice and anything new: the group as WeCom has it now.
  await rereadGroup(db, ctx.wecom, chatId, { now, quitAt: at });
}
