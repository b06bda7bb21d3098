import { type Static, Type } from '@sinclair/typebox';
import { LIMITS, RISK_CLASSES, TEMPLATE_CHANNELS, TEMPLATE_STATUSES } from '../db/entities/playbook-kinds';
import { MAX_STAGE } from '../playbook/stages';

/**
 * Schemas of the script-library routes (我的话术 in the sidebar, and the reviewer console API).
 * Like ./schemas.ts, this module imports only leaf modules: the sidebar imports its types.
 */

const NullableStr = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInt = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const StringEnum = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const OptNullableStr = (max: number) =>
  Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: max }));

/** What authors write. Length limits beyond these are reported as findings, in Chinese. */
export const TemplateInputBody = Type.Object(
  {
    title: Type.String({ maxLength: 1000 }),
    body: Type.String({ maxLength: 20_000 }),
    category: OptNullableStr(LIMITS.category * 4),
    stage: Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'] })),
    segments: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 20 })),
    bankTags: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
    product: OptNullableStr(LIMITS.product * 4),
    riskClass: Type.Optional(StringEnum(RISK_CLASSES)),
    channel: Type.Optional(StringEnum(TEMPLATE_CHANNELS)),
    variantGroup: OptNullableStr(64),
    variant: OptNullableStr(16),
    disclaimer: OptNullableStr(5000),
    attachments: Type.Optional(Type.Unsafe<unknown[] | null>({ type: ['array', 'null'], maxItems: 10 })),
  },
  { additionalProperties: false },
);
export type TemplateInputBodyT = Static<typeof TemplateInputBody>;

export const Finding = Type.Object({
  code: Type.String(),
  field: Type.String(),
  message: Type.String(),
  word: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  start: Type.Optional(Type.Integer()),
  end: Type.Optional(Type.Integer()),
  matched: Type.Optional(Type.String()),
});
export const CheckReply = Type.Object({ findings: Type.Array(Finding) });

export const LibraryTemplate = Type.Object({
  id: Type.Integer(),
  lineageId: Type.Integer(),
  version: Type.Integer(),
  title: Type.String(),
  body: Type.String(),
  category: NullableStr,
  stage: NullableInt,
  segments: Type.Array(Type.String()),
  bankTags: Type.Array(Type.String()),
  product: NullableStr,
  riskClass: StringEnum(RISK_CLASSES),
  channel: StringEnum(TEMPLATE_CHANNELS),
  variantGroup: NullableStr,
  variant: NullableStr,
  owner: NullableStr,
  status: StringEnum(TEMPLATE_STATUSES),
  author: Type.String(),
  reviewer: NullableStr,
  submittedAt: NullableStr,
  reviewedAt: NullableStr,
  reviewComment: NullableStr,
  expiresAt: NullableStr,
  supersededBy: NullableInt,
  disclaimer: NullableStr,
  attachments: Type.Array(Type.Unknown()),
});
export const LibraryTemplateReply = Type.Object({ template: LibraryTemplate });
export const LibraryTemplatesReply = Type.Object({ templates: Type.Array(LibraryTemplate) });
export const LibraryTemplatesApproved = Type.Object({ templates: Type.Array(LibraryTemplate) });

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const PrepareBody = Type.Object(
  { externalUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })) },
  { additionalProperties: false },
);
export const PrepareReply = Type.Object({
  templateId: Type.Integer(),
  version: Type.Integer(),
  text: Type.String(),
  content: Type.String(),
  disclaimer: NullableStr,
  attachments: Type.Array(Type.Unknown()),
});

export const CategoriesReply = Type.Object({ categories: Type.Array(Type.String()) });
export type CategoriesReplyT = Static<typeof CategoriesReply>;

/**
 * A usable script as author input, for "存为我的话术": the manager's copy starts from the script's
 * own wording, variables unfilled ({{客户称呼}} stays a variable, not this customer's name).
 */
export const SourceReply = Type.Object({
  source: Type.Object({
    title: Type.String(),
    body: Type.String(),
    category: NullableStr,
    stage: NullableInt,
    segments: Type.Array(Type.String()),
    product: NullableStr,
    riskClass: StringEnum(RISK_CLASSES),
    disclaimer: NullableStr,
    attachments: Type.Array(Type.Unknown()),
  }),
});
export type SourceReplyT = Static<typeof SourceReply>;

export const StageBody = Type.Object(
  { stage: Type.Integer({ minimum: 1, maximum: MAX_STAGE }) },
  { additionalProperties: false },
);

export const LibraryListQuery = Type.Object({
  status: Type.Optional(StringEnum(TEMPLATE_STATUSES)),
  expiringDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  owner: Type.Optional(Type.String({ maxLength: 64 })),
});

const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}' });
export const ApproveBody = Type.Object(
  {
    ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 500 }),
    expires: DateStr,
    comment: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
export const CreateBody = Type.Object(
  { template: TemplateInputBody, submit: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const ExternalUserIdParams = Type.Object({
  externalUserId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
export const StageReply = Type.Object({
  progress: Type.Object({ touchCount: Type.Integer(), stage: Type.Integer({ minimum: 1, maximum: MAX_STAGE }) }),
});

export type FindingT = Static<typeof Finding>;
export type CheckReplyT = Static<typeof CheckReply>;
export type LibraryTemplateT = Static<typeof LibraryTemplate>;
export type LibraryTemplateReplyT = Static<typeof LibraryTemplateReply>;
export type LibraryTemplatesReplyT = Static<typeof LibraryTemplatesReply>;
export type PrepareReplyT = Static<typeof PrepareReply>;
export type StageReplyT = Static<typeof StageReply>;
