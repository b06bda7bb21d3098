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
}

export interface RankedTemplate {
  id: number;
  title: string;
  /** Variables filled for this customer and manager. */
  content: string;
  disclaimer: string | null;
  stage: number;
  segments: string[];
  product: string | null;
  owner: 'corp' | 'mine';
  score: number;
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
