import type { ScriptTemplate } from '../db/entities';
import { normaliseAttachments } from './attachments';
import { splitSegments } from './table-provider';

const iso = (ms: number | null) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

/** A library row as the console, the sidebar's 我的话术 and `templates list --json` show it. */
export function templateView(t: ScriptTemplate) {
  return {
    id: t.id,
    lineageId: t.lineageId ?? t.id,
    version: t.version,
    title: t.title,
    body: t.content,
    category: t.category,
    stage: t.stage,
    segments: splitSegments(t.segments),
    bankTags: splitSegments(t.bankTags),
    product: t.product,
    riskClass: t.riskClass,
    channel: t.channel,
    variantGroup: t.variantGroup,
    variant: t.variant,
    owner: t.ownerUserid,
    status: t.status,
    author: t.createdBy,
    reviewer: t.reviewer,
    submittedAt: iso(t.submittedAt),
    reviewedAt: iso(t.reviewedAt),
    reviewComment: t.reviewComment,
    expiresAt: iso(t.expiresAt),
    supersededBy: t.supersededBy,
    disclaimer: t.disclaimer,
    attachments: normaliseAttachments(t.attachments) as unknown[],
  };
}
export type TemplateView = ReturnType<typeof templateView>;
