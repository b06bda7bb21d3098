import type { DataSource } from 'typeorm';
import { normaliseAttachments } from './attachments';
import { scoreTemplate } from './ranking';
import type { RankedTemplate, StoredTemplate, SuggestContext, TemplateProvider } from './types';
import { fillVariables } from './variables';

interface Row {
  id: number;
  title: string;
  content: string;
  stage: number | null;
  segments: string;
  product: string | null;
  owner_userid: string | null;
  disclaimer: string | null;
  /** JSON text (raw queries bypass the entity's transformer). */
  attachments: string | null;
}

const MAX_LIMIT = 50;

export function splitSegments(s: string | null): string[] {
  return (s ?? '')
    .split(/[,，]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * Templates straight from `script_templates`: approved, not expired, not welcome messages, corp
 * templates or the manager's own. Without a search, corp templates are read for stages within ±1
 * only (index idx_templates_stage) and the manager's own at every stage; a search looks at every
 * stage. The score orders them.
 */
export class TableTemplateProvider implements TemplateProvider {
  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
  ) {}

  async suggest(ctx: SuggestContext): Promise<RankedTemplate[]> {
    const stage = Math.min(4, Math.max(1, Math.round(ctx.stage)));
    const q = (ctx.q ?? '').trim();
    const params: unknown[] = [this.now(), ctx.manager.userid];
    let stageSql = '';
    if (!q) {
      // The manager's own templates are always offered (the 我的话术 tab); corp ones by stage.
      stageSql = ' AND (owner_userid = ? OR stage IS NULL OR stage BETWEEN ? AND ?)';
      params.push(ctx.manager.userid, stage - 1, stage + 1);
    }
    const rows: Row[] = await this.db.query(
      `SELECT id, title, content, stage, segments, product, owner_userid, disclaimer, attachments
         FROM script_templates
        WHERE status = 'approved' AND channel = 'chat'
          AND (expires_at IS NULL OR expires_at > ?)
          AND (owner_userid IS NULL OR owner_userid = ?)${stageSql}`,
      params,
    );
    // Attachments are parsed for the templates that make the cut only.
    const ranked: { t: RankedTemplate; attachments: string | null }[] = [];
    for (const r of rows) {
      const segments = splitSegments(r.segments);
      const mine = r.owner_userid === ctx.manager.userid;
      const score = scoreTemplate(
        {
          id: Number(r.id),
          title: r.title,
          content: r.content,
          stage: r.stage === null ? null : Number(r.stage),
          segments,
          product: r.product,
          mine,
        },
        ctx.customer,
        stage,
        q,
      );
      if (score === null) continue;
      ranked.push({
        attachments: r.attachments,
        t: {
          id: Number(r.id),
          title: r.title,
          content: fillVariables(r.content, ctx.customer, ctx.manager),
          disclaimer: r.disclaimer || null,
          // An any-stage script is shown at the customer's stage.
          stage: r.stage === null ? stage : Number(r.stage),
          segments,
          product: r.product,
          owner: mine ? 'mine' : 'corp',
          score,
          attachments: [],
        },
      });
    }
    ranked.sort((a, b) => b.t.score - a.t.score || a.t.id - b.t.id);
    return ranked
      .slice(0, Math.min(MAX_LIMIT, ctx.limit ?? 20))
      .map(({ t, attachments }) => ({ ...t, attachments: normaliseAttachments(attachments) }));
  }

  async get(id: number, managerUserid: string): Promise<StoredTemplate | null> {
    const rows: { id: number; title: string; stage: number; owner_userid: string | null }[] = await this.db.query(
      `SELECT id, title, stage, owner_userid FROM script_templates
        WHERE id = ? AND status = 'approved' AND (expires_at IS NULL OR expires_at > ?)
          AND (owner_userid IS NULL OR owner_userid = ?)`,
      [id, this.now(), managerUserid],
    );
    const r = rows[0];
    return r ? { id: Number(r.id), title: r.title, stage: Number(r.stage), ownerUserid: r.owner_userid } : null;
  }
}
