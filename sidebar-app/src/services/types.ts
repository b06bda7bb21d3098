// Wire types of /api/sidebar/*. Keep in step with server/sidebar/schemas.ts.

export interface Bootstrap {
  corpId: string;
  agentId: string;
  oauthBase: string;
  sandbox: boolean;
}

export type Role = 'manager' | 'branch_lead' | 'operator';

export interface Me {
  userid: string;
  name: string;
  role: Role;
  branchCode: string;
}

export interface SignaturePart {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

export interface JssdkConfig {
  corpId: string;
  agentId: string;
  corp: SignaturePart;
  agent: SignaturePart;
}

export interface CorpTag {
  id: string;
  name: string;
  selected: boolean;
}

export interface CorpTagGroup {
  groupId: string;
  groupName: string;
  tags: CorpTag[];
}

export type TouchChannel = 'send' | 'copy';

export interface Touch {
  id: number;
  templateId: number | null;
  title: string | null;
  userid: string;
  sentAt: string;
  channel: TouchChannel;
  stage?: number;
}

export interface ManagerRef {
  userid: string;
  name: string;
  branchCode: string;
  branchName: string | null;
}

export interface Allocation {
  reason: string;
  summaryZh: string;
  ruleVersion: string | null;
}

export interface Customer {
  externalUserId: string;
  name: string;
  segment: string | null;
  bankCustomerId?: string | null;
  owner: ManagerRef | null;
  branchName?: string | null;
  corpTags: CorpTagGroup[];
  bankTags: string[];
  stage: number;
  touchCount: number;
  touches: Touch[];
  allocation: Allocation | null;
  followedSince: string | null;
}

/** Sent after the text; see TemplateAttachment in server/playbook/types.ts (URLs are http(s) only). */
export interface LinkAttachment {
  type: 'link';
  title: string;
  url: string;
  desc?: string;
  imgUrl?: string;
}

/** Sendable only with a mediaId; imgUrl is the thumbnail. */
export interface ImageAttachment {
  type: 'image';
  mediaId?: string;
  imgUrl?: string;
}

export type Attachment = LinkAttachment | ImageAttachment;

export interface Template {
  id: number;
  title: string;
  content: string;
  disclaimer: string | null;
  stage: number;
  segments: string[];
  product: string | null;
  owner: 'corp' | 'mine';
  score: number;
  attachments: Attachment[];
}

export interface CardResponse {
  customer: Customer;
  templates: Template[];
}

export interface TemplateQuery {
  q?: string;
  stage?: number;
  externalUserId?: string;
}
