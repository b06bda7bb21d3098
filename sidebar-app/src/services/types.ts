// Wire types of /api/sidebar/*, derived from the server's TypeBox schemas (the one source).
// `import type` only: nothing of the server reaches the bundle.
import type { LibraryTemplateT, SourceReplyT, StageReplyT } from '../../../server/sidebar/library-schemas';
import type {
  Card,
  CorpTagGroup,
  JssdkConfig,
  Me,
  NoteBody,
  TemplatesQuery,
  TodoItem,
  TouchBody,
} from '../../../server/sidebar/schemas';

type LibraryTemplate = LibraryTemplateT;
type SourceReply = SourceReplyT;
type StageReply = StageReplyT;

export type { ImageAttachment, LinkAttachment } from '../../../server/playbook/types';
export type {
  CategoriesReplyT as CategoriesReply,
  CheckReplyT as CheckReply,
  FindingT as Finding,
  LibraryTemplateReplyT as LibraryTemplateReply,
  LibraryTemplatesReplyT as LibraryTemplatesReply,
  LibraryTemplateT as LibraryTemplate,
  PrepareReplyT as PrepareReply,
  SourceReplyT as SourceReply,
  StageReplyT as StageReply,
  TemplateInputBodyT as TemplateInput,
} from '../../../server/sidebar/library-schemas';
export type {
  Attachment,
  Bootstrap,
  CorpTagGroup,
  JssdkConfig,
  LinkBody,
  LinkReply,
  Me,
  NoteBody,
  NoteReply,
  SessionStatus,
  TagsBody,
  TagsReply,
  Template,
  TemplatesReply,
  TimelineItem,
  TimelineReply,
  TodoItem,
  TodoReply,
  Touch,
  TouchBody,
  TouchReply,
} from '../../../server/sidebar/schemas';

export type Role = Me['role'];
export type SignaturePart = JssdkConfig['corp'];
export type CorpTag = CorpTagGroup['tags'][number];
/** What the sidebar records itself: a send or a copy (manual and chat rows are written elsewhere). */
export type TouchChannel = TouchBody['channel'];
export type CardResponse = Card;
export type Customer = Card['customer'];
export type ManagerRef = NonNullable<Customer['owner']>;
export type Allocation = NonNullable<Customer['allocation']>;
export type TemplateQuery = TemplatesQuery;
export type Progress = StageReply['progress'];
export type TemplateSource = SourceReply['source'];
export type TemplateStatus = LibraryTemplate['status'];
export type RiskClass = LibraryTemplate['riskClass'];
export type Profile = NonNullable<Customer['profile']>;
export type MaturingProduct = NonNullable<Customer['maturing']>[number];
export type NoteKind = NoteBody['kind'];
export type TodoKind = TodoItem['kind'];

/** 生成推荐码: the referral QR code (its URL is also the link to share). */
export interface ReferralCodeReply {
  qrCode: string | null;
  created: boolean;
}
