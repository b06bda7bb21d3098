/**
 * The sidebar's view of the template library (话术). The sidebar depends on this interface only; the
 * later template-library work (review workflow, sensitive words, ranking by results) replaces the
 * implementation without touching server/sidebar.
 */

export interface TemplateCustomer {
  externalUserId: string;
  /** Masked display name from the bank's data (张*明), or '' when unknown. */
  maskedName: string;
  /** WeChat gender of the contact: 1 male, 2 female, 0 unknown. */
  gender: number;
  segment: string | null;
  bankTags: string[];
  /** Templates already sent/copied to this customer (ranked lower). */
  usedTemplateIds: number[];
}

export interface TemplateManager {
  userid: string;
  name: string;
  branchName: string | null;
}

export interface SuggestContext {
  customer: TemplateCustomer | null;
  manager: TemplateManager;
  /** Stage of contact 1..4 (第几次触达). */
  stage: number;
  q?: string;
  limit?: number;
  /** Filters of the sidebar's list: one category, one stage (any-stage scripts included). */
  category?: string;
  onlyStage?: number;
}

/**
 * What a template sends after its text (`script_templates.attachments`, a JSON array), one
 * `sendChatMessage` call each, in order:
 *
 *   { type: 'link', title, url, desc?, imgUrl? }  → msgtype 'news', news: { link: url, title, desc, imgUrl }
 *   { type: 'image', mediaId?, imgUrl? }          → msgtype 'image', image: { mediaid: mediaId }
 *
 * URLs are http(s) only. An image needs a WeCom media id to be sent (sendChatMessage takes no image
 * URL); `imgUrl` is only the thumbnail the sidebar shows, so an image without `mediaId` is shown
 * but must be sent by hand. Entries read from the DB go through normaliseAttachments (attachments.ts):
 * malformed ones are dropped, never passed to the browser.
 */
export interface LinkAttachment {
  type: 'link';
  title: string;
  url: string;
  desc?: string;
  imgUrl?: string;
}

export interface ImageAttachment {
  type: 'image';
  mediaId?: string;
  imgUrl?: string;
}

export type TemplateAttachment = LinkAttachment | ImageAttachment;

export interface RankedTemplate {
  id: number;
  title: string;
  /** Variables filled for this customer and manager. */
  content: string;
  disclaimer: string | null;
  /** Exactly what 发送 and 复制 put into the chat: content, then the disclaimer. */
  text: string;
  category: string | null;
  version: number;
  stage: number;
  segments: string[];
  product: string | null;
  owner: 'corp' | 'mine';
  score: number;
  /** Why it is suggested, as short Chinese chips: 第2次触达 · 高潜 · 活动中 · 转化率高 (ranking.ts). */
  reasons: string[];
  /** Sent after the text, in order; [] when the template has none. */
  attachments: TemplateAttachment[];
}

export interface StoredTemplate {
  id: number;
  title: string;
  stage: number;
  ownerUserid: string | null;
}

export interface TemplateProvider {
  suggest(ctx: SuggestContext): Promise<RankedTemplate[]>;
  /** A template the manager may use (approved, not expired, corp or their own), or null. */
  get(id: number, managerUserid: string): Promise<StoredTemplate | null>;
}
