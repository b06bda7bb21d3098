import type { ScriptTemplate } from '../db/entities';
import { normaliseAttachments } from './attachments';
import { fromRow } from './library';

const iso = (ms: number | null) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

/** A library row as the console, the sidebar's 我的话术 and `templates list --json` show it. */
export function templateView(t: ScriptTemplate) {
  return {
    id: t.id,
    lineageId: t.lineageId ?? t.id,
    version: t.version,
    // The author's fields exactly as a re-check or an export reads them.
    ...fromRow(t),
    owner: t.ownerUserid,
    status: t.status,
    author: t.createdBy,
    reviewer: t.reviewer,
    submittedAt: iso(t.submittedAt),
    reviewedAt: iso(t.reviewedAt),
    reviewComment: t.reviewComment,
    expiresAt: iso(t.expiresAt),
    supersededBy: t.supersededBy,
    attachments: normaliseAttachments(t.attachments) as unknown[],
  };
}
export type TemplateView = ReturnType<typeof templateView>;
