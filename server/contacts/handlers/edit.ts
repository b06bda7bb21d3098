import { audit } from '../../audit/audit';
import type { ExternalContactDetail } from '../../wecom/api-types';
import { wecomErrorInfo } from '../../wecom/errors';
import { type EventOf, field, type HandlerContext } from '../../wecom/events';
import { findContact, findFollow, setContactTags, setFollowRemark, upsertContact } from '../repo';
import { resyncTagLibrary } from '../tags';

/**
 * edit_external_contact: the manager changed remark, description or tags in the client. Refresh the
 * contact and that follow's corp tags from externalcontact/get (the event carries no details).
 */
export async function contactEdited(
  event: EventOf<'event/change_external_contact/edit_external_contact'>,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  const externalUserid = field(event, 'ExternalUserID');
  const userid = field(event, 'UserID');
  if (!externalUserid) return;
  let detail: ExternalContactDetail;
  try {
    detail = await ctx.wecom.getExternalContact(externalUserid);
  } catch (err) {
    // 84061/40096: the relation is gone already; a later delete event records that.
    if (wecomErrorInfo(err).kind === 'data') return;
    throw err;
  }
  const now = ctx.now();
  const existing = await findContact(db, externalUserid);
  await upsertContact(
    db,
    detail.external_contact,
    { customerId: existing?.customerId ?? null, matchedBy: existing?.matchedBy ?? null },
    now,
  );
  const follow = detail.follow_user.find((f) => f.userid === userid);
  if (follow && (await findFollow(db, externalUserid, userid))) {
    await setFollowRemark(db, externalUserid, userid, follow.remark ?? null);
    const corpTagIds = (follow.tags ?? []).filter((t) => t.type === 1 && t.tag_id).map((t) => t.tag_id as string);
    await setContactTags(db, externalUserid, userid, corpTagIds, now);
  }
  await audit(db, {
    actor: 'system:callback',
    action: 'contact.edit',
    subject: `contact:${externalUserid}`,
    detail: { userid },
  });
}

/** change_external_tag (create/update/delete/shuffle): the library changed in the console; mirror it again. */
export async function tagLibraryChanged(
  event: EventOf<'event/change_external_tag'>,
  ctx: HandlerContext,
): Promise<void> {
  const { db } = ctx;
  const result = await resyncTagLibrary(db, ctx.wecom, ctx.now());
  await audit(db, {
    actor: 'system:callback',
    action: 'tag.resync',
    subject: `tag:${field(event, 'Id') || '(library)'}`.slice(0, 128),
    detail: { changeType: field(event, 'ChangeType'), tagType: field(event, 'TagType') || null, ...result },
  });
}
