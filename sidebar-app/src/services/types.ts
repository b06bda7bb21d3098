// Wire types of /api/sidebar/*, derived from the server's TypeBox schemas (the one source).
// `import type` only: nothing of the server reaches the bundle.
import type { Card, CorpTagGroup, JssdkConfig, Me, TemplatesQuery, TouchBody } from '../../../server/sidebar/schemas';

export type { ImageAttachment, LinkAttachment } from '../../../server/playbook/types';
export type {
  Attachment,
  Bootstrap,
  CorpTagGroup,
  JssdkConfig,
  LinkBody,
  LinkReply,
  Me,
  TagsBody,
  TagsReply,
  Template,
  TemplatesReply,
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
