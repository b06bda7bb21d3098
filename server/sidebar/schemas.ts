import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { MAX_STAGE } from '../playbook/stages';
import type { TemplateAttachment } from '../playbook/types';

/**
 * Request/response schemas of /api/sidebar/*: the one source of the wire types. Each schema's type
 * is exported under the same name (`Static<>`), and the Vue app imports them with `import type`
 * (sidebar-app/src/services/types.ts), so a change here that the app does not follow fails
 * `npm run typecheck`. This module imports nothing from the server but leaf type modules: the
 * sidebar's type check reads it.
 */

/**
 * Nullable values as `type: [T, 'null']`, not anyOf: fast-json-stringify serializes anyOf by
 * validating each branch per value, which cost milliseconds on a card with 20 templates.
 */
const NullableStr = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInt = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
/** A string enum as `enum`, not an anyOf of literals (same serialization cost as above). */
const StringEnum = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

function NullableObject<T extends TProperties>(properties: T) {
  const o = Type.Object(properties);
  return Type.Unsafe<Static<typeof o> | null>({ ...o, type: ['object', 'null'] });
}

export const ExternalUserId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const ExternalUserIdParams = Type.Object({ externalUserId: ExternalUserId });

export const Bootstrap = Type.Object({
  corpId: Type.String(),
  agentId: Type.String(),
  oauthBase: Type.String(),
  sandbox: Type.Boolean(),
});

export const Me = Type.Object({
  userid: Type.String(),
  name: Type.String(),
  role: StringEnum(['manager', 'branch_lead', 'operator'] as const),
  branchCode: Type.String(),
});

/** GET /session: whether the cookie holds a live session of an active manager (never a 401). */
export const SessionStatus = Type.Object({
  authenticated: Type.Boolean(),
  me: Type.Optional(Me),
  reason: Type.Optional(Type.String()),
});

/**
 * A client-made key that makes a write safe to repeat: the sidebar replays a write that met an
 * expired session after signing in again, and the same key never records twice.
 */
const RequestId = Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const SessionBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const JssdkQuery = Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048 }) });
const Signature = Type.Object({ timestamp: Type.Integer(), nonceStr: Type.String(), signature: Type.String() });
export const JssdkConfig = Type.Object({
  corpId: Type.String(),
  agentId: Type.String(),
  corp: Signature,
  agent: Signature,
});

export const CorpTagGroup = Type.Object({
  groupId: Type.String(),
  groupName: Type.String(),
  tags: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), selected: Type.Boolean() })),
});

export const Touch = Type.Object({
  id: Type.Integer(),
  templateId: NullableInt,
  title: NullableStr,
  userid: Type.String(),
  sentAt: Type.String(),
  channel: StringEnum(['send', 'copy', 'chat', 'manual'] as const),
  stage: Type.Integer(),
  confirmed: Type.Boolean(),
});

/**
 * One flat object rather than a union of link and image (anyOf again, see above); the fields that
 * belong to each type are documented on TemplateAttachment in server/playbook/types.ts.
 */
export const Attachment = Type.Unsafe<TemplateAttachment>(
  Type.Object({
    type: StringEnum(['link', 'image'] as const),
    title: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    desc: Type.Optional(Type.String()),
    imgUrl: Type.Optional(Type.String()),
    mediaId: Type.Optional(Type.String()),
  }),
);

export const Template = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  content: Type.String(),
  disclaimer: NullableStr,
  /** Exactly what 发送 / 复制 put into the chat (content + disclaimer). */
  text: Type.String(),
  category: NullableStr,
  version: Type.Integer(),
  stage: Type.Integer(),
  segments: Type.Array(Type.String()),
  product: NullableStr,
  owner: StringEnum(['corp', 'mine'] as const),
  score: Type.Number(),
  /** Why it is suggested, as short Chinese chips (第2次触达 · 高潜 · 活动中 · 转化率高). */
  reasons: Type.Array(Type.String()),
  attachments: Type.Array(Attachment),
});

export const Profile = Type.Object({
  assetTier: NullableStr,
  riskRating: NullableStr,
  riskRatingZh: NullableStr,
  riskRatedOn: NullableStr,
  riskExpired: Type.Boolean(),
  birthday: NullableStr,
  birthdayToday: Type.Boolean(),
  preferredBranch: NullableStr,
});

export const Maturing = Type.Object({
  product: Type.String(),
  productType: Type.String(),
  amountBand: Type.String(),
  maturesOn: Type.String(),
  daysLeft: Type.Integer(),
});

/**
 * One entry of the 跟进记录 timeline: a script sent/copied, or a note. `templateId` is the script a
 * touch used (存为我的 starts from it); null for notes and touches without a script.
 */
export const TimelineItem = Type.Object({
  kind: StringEnum(['touch', 'note'] as const),
  id: Type.Integer(),
  templateId: NullableInt,
  userid: Type.String(),
  managerName: Type.String(),
  at: Type.String(),
  label: Type.String(),
  text: Type.String(),
  nextFollowUp: NullableStr,
});

export const NoteBody = Type.Object(
  {
    kind: StringEnum(['visit', 'call', 'chat', 'other'] as const),
    text: Type.String({ minLength: 1, maxLength: 1000 }),
    nextFollowUp: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 10 })),
    requestId: Type.Optional(RequestId),
  },
  { additionalProperties: false },
);
export const NoteReply = Type.Object({ note: TimelineItem });
export const TimelineReply = Type.Object({ timeline: Type.Array(TimelineItem), nextFollowUp: NullableStr });

const TodoKindE = StringEnum(['followup_due', 'maturing', 'birthday', 'new_stage1', 'stale', 'deleted'] as const);
const TodoCounts = Type.Object({
  followup_due: Type.Integer(),
  maturing: Type.Integer(),
  birthday: Type.Integer(),
  new_stage1: Type.Integer(),
  stale: Type.Integer(),
  deleted: Type.Integer(),
});
export const TodoItem = Type.Object({
  kind: TodoKindE,
  kindZh: Type.String(),
  externalUserId: Type.String(),
  customerName: Type.String(),
  segment: NullableStr,
  detail: Type.String(),
  canChat: Type.Boolean(),
});
export const SopTodo = Type.Object({
  planId: Type.String(),
  planName: Type.String(),
  channelZh: Type.String(),
  detail: Type.String(),
});
const TodoListProps = {
  userid: Type.String(),
  name: Type.String(),
  total: Type.Integer(),
  counts: TodoCounts,
  items: Type.Array(TodoItem),
  truncated: Type.Boolean(),
  sop: Type.Array(SopTodo),
};
export const TodoList = Type.Object(TodoListProps);
/** 今日待办 of the signed-in manager; a branch lead also gets the branch by manager. */
export const TodoReply = Type.Object({
  day: Type.String(),
  ...TodoListProps,
  branch: NullableObject({ branchCode: Type.String(), managers: Type.Array(TodoList) }),
});

export const Card = Type.Object({
  customer: Type.Object({
    externalUserId: Type.String(),
    name: Type.String(),
    segment: NullableStr,
    bankCustomerId: Type.Optional(NullableStr),
    owner: NullableObject({
      userid: Type.String(),
      name: Type.String(),
      branchCode: Type.String(),
      branchName: NullableStr,
    }),
    branchName: Type.Optional(NullableStr),
    corpTags: Type.Array(CorpTagGroup),
    bankTags: Type.Array(Type.String()),
    stage: Type.Integer({ minimum: 1, maximum: MAX_STAGE }),
    touchCount: Type.Integer(),
    touches: Type.Array(Touch),
    allocation: NullableObject({ reason: Type.String(), summaryZh: Type.String(), ruleVersion: NullableStr }),
    followedSince: NullableStr,
    /** The manager serving this customer in WeCom (the viewer's follow, else the first active one). */
    /** What the segment badge shows: follows the segment tag in WeCom (see SidebarService.segmentBadge). */
    segmentBadge: Type.Optional(NullableStr),
    servingManager: Type.Optional(NullableObject({ userid: Type.String(), name: Type.String() })),
    profile: Type.Optional(Profile),
    maturing: Type.Optional(Type.Array(Maturing)),
    lastContactAt: Type.Optional(NullableStr),
    nextFollowUp: Type.Optional(NullableStr),
    timeline: Type.Optional(Type.Array(TimelineItem)),
  }),
  templates: Type.Array(Template),
});

const TagId = Type.String({ minLength: 1, maxLength: 64 });
export const TagsBody = Type.Object(
  {
    add: Type.Array(TagId, { maxItems: 50, default: [] }),
    remove: Type.Array(TagId, { maxItems: 50, default: [] }),
  },
  { additionalProperties: false },
);
export const TagsReply = Type.Object({
  corpTags: Type.Array(CorpTagGroup),
  /** The segment badge after the change (see SidebarService.segmentBadge). */
  segmentBadge: Type.Optional(NullableStr),
});

/**
 * The proof that the contact is this bank customer: the phone number the customer gives, with the
 * customer number or alone. The phone's format is checked by the service (400 invalid_phone).
 */
export const LinkBody = Type.Object(
  {
    bankCustomerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S+$' })),
    phone: Type.String({ minLength: 1, maxLength: 32 }),
  },
  { additionalProperties: false },
);
export const LinkReply = Type.Object({
  linked: Type.Object({ externalUserId: Type.String(), bankCustomerId: Type.String() }),
});

/** 生成推荐码: the referral QR code (also a link) of the customer on the card, adding the viewer. */
export const ReferralCodeReply = Type.Object({
  qrCode: Type.Union([Type.String(), Type.Null()]),
  /** false: the customer already had a code for this manager (the same QR is shown again). */
  created: Type.Boolean(),
});

export const TemplatesQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 64 })),
  stage: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STAGE })),
  externalUserId: Type.Optional(ExternalUserId),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  /** Only scripts of this stage (and any-stage ones); `stage` only moves the ranking. */
  onlyStage: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STAGE })),
});
export const TemplatesReply = Type.Object({ templates: Type.Array(Template) });

export const TouchBody = Type.Object(
  {
    externalUserId: ExternalUserId,
    templateId: Type.Integer({ minimum: 1 }),
    channel: StringEnum(['send', 'copy'] as const),
    requestId: Type.Optional(RequestId),
  },
  { additionalProperties: false },
);
/** The customer's touch count and stage after a write (the list refreshes with it). */
export const Progress = Type.Object({
  touchCount: Type.Integer(),
  stage: Type.Integer({ minimum: 1, maximum: MAX_STAGE }),
});
export const TouchReply = Type.Object({ touch: Touch, progress: Progress });

export type Bootstrap = Static<typeof Bootstrap>;
export type Me = Static<typeof Me>;
export type SessionBody = Static<typeof SessionBody>;
export type SessionStatus = Static<typeof SessionStatus>;
export type NoteBody = Static<typeof NoteBody>;
export type NoteReply = Static<typeof NoteReply>;
export type TimelineItem = Static<typeof TimelineItem>;
export type TimelineReply = Static<typeof TimelineReply>;
export type TodoReply = Static<typeof TodoReply>;
export type TodoItem = Static<typeof TodoItem>;
export type JssdkQuery = Static<typeof JssdkQuery>;
export type JssdkConfig = Static<typeof JssdkConfig>;
export type CorpTagGroup = Static<typeof CorpTagGroup>;
export type Touch = Static<typeof Touch>;
export type Attachment = Static<typeof Attachment>;
export type Template = Static<typeof Template>;
export type Card = Static<typeof Card>;
export type TagsBody = Static<typeof TagsBody>;
export type TagsReply = Static<typeof TagsReply>;
export type LinkBody = Static<typeof LinkBody>;
export type LinkReply = Static<typeof LinkReply>;
export type TemplatesQuery = Static<typeof TemplatesQuery>;
export type TemplatesReply = Static<typeof TemplatesReply>;
export type TouchBody = Static<typeof TouchBody>;
export type TouchReply = Static<typeof TouchReply>;
