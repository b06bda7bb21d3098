/**
 * The script library's enumerations and field limits, in a leaf module (no TypeORM, no other
 * imports): the wire schemas (server/sidebar/library-schemas.ts) use them, and the sidebar's type
 * check reads those schemas. The entity (server/db/entities/playbook.ts) re-exports them.
 */

/**
 * draft → review → approved → retired, or review → rejected (with the reason in reviewComment).
 * An approved version replaced by a newer approved one is retired with supersededBy set.
 */
export type TemplateStatus = 'draft' | 'review' | 'approved' | 'rejected' | 'retired';
export const TEMPLATE_STATUSES: readonly TemplateStatus[] = ['draft', 'review', 'approved', 'rejected', 'retired'];

export type RiskClass = 'deposit' | 'wealth' | 'fund' | 'insurance' | 'loan' | 'none';
export const RISK_CLASSES: readonly RiskClass[] = ['deposit', 'wealth', 'fund', 'insurance', 'loan', 'none'];

/** Where a script may be used: 1:1 chat (sidebar), welcome message, customer groups, moments (朋友圈). */
export type TemplateChannel = 'chat' | 'welcome' | 'group' | 'moments';
export const TEMPLATE_CHANNELS: readonly TemplateChannel[] = ['chat', 'welcome', 'group', 'moments'];

/** Field lengths the compliance check enforces (findings in Chinese beyond these). */
export const LIMITS = { title: 128, body: 2000, disclaimer: 500, category: 32, product: 64, segments: 255 };
