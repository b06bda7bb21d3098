import type { DataSource } from 'typeorm';
import { normaliseAttachments } from './attachments';
import { PerformanceSource } from './performance-source';
import { type RankEnv, rankTemplates, type ScoreInput } from './ranking';
import { clampStage } from './stages';
import type { RankedTemplate, StoredTemplate, SuggestContext, TemplateProvider } from './types';
import { fillVariables, variableProblems } from './variables';

function attachmentTitles(raw: string | null): string[] {
  return normaliseAttachments(raw).flatMap((a) => (a.type === 'link' ? [a.title] : []));
}

/** Body, blank line, disclaimer: what reaches the customer by 发送 and by 复制. */
export function sendText(content: string, disclaimer: string | null): string {
  const d = disclaimer?.trim();
  return d ? `${content}\n\n${d}` : content;
}

interface Row {
  id: number;
  title: string;
  content: string;
  stage: number | null;
  segments: string;
  bank_tags: string | null;
  variant_group: string | null;
  product: string | null;
  owner_userid: string | null;
  disclaimer: string | null;
  /** JSON text (raw queries bypass the entity's transformer). */
  attachments: string | null;
  category: string | null;
  version: number;
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
export interface LearningOptions {
  /** Products with an active campaign (CAMPAIGN_PRODUCTS). */
  campaignProducts?: readonly string[];
  /** Conversion statistics per script; default: read from the database, cached 5 minutes. */
  performance?: PerformanceSource;
}

export class TableTemplateProvider implements TemplateProvider {
  private readonly campaignProducts: ReadonlySet<string>;
  private readonly performance: PerformanceSource;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
    learning: LearningOptions = {},
  ) {
    this.campaignProducts = new Set((learning.campaignProducts ?? []).map((p) => p.trim().toLowerCase()));
    this.performance = learning.performance ?? new PerformanceSource(db, now);
  }

  async suggest(ctx: SuggestContext): Promise<RankedTemplate[]> {
    const stage = clampStage(ctx.stage);
    const q = (ctx.q ?? '').trim();
    const params: unknown[] = [this.now(), ctx.manager.userid];
    let stageSql = '';
    if (ctx.category) {
      stageSql += ' AND category = ?';
      params.push(ctx.category);
    }
    if (ctx.onlyStage) {
      stageSql += ' AND (stage IS NULL OR stage = ?)';
      params.push(ctx.onlyStage);
    } else if (!q && !ctx.category) {
      // The manager's own templates are always offered (the 我的话术 tab); corp ones by stage.
      stageSql += ' AND (owner_userid = ? OR stage IS NULL OR stage BETWEEN ? AND ?)';
      params.push(ctx.manager.userid, stage - 1, stage + 1);
    }
    const [rows, performance]: [Row[], RankEnv['performance']] = await Promise.all([
      this.db.query(
        `SELECT id, title, content, stage, segments, bank_tags, variant_group, product, owner_userid, disclaimer, attachments,
                category, version
         FROM script_templates
        WHERE status = 'approved' AND channel = 'chat'
          AND (expires_at IS NULL OR expires_at > ?)
          AND (owner_userid IS NULL OR owner_userid = ?)${stageSql}`,
        params,
      ),
      this.performance.get(),
    ]);
    // Attachments are parsed for the templates that make the cut only.
    // Saved scripts are checked; a row written around the checks never reaches a customer raw.
    const candidates = rows
      .filter((r) => variableProblems(r.content).length === 0)
      .map((r) => ({
        id: Number(r.id),
        title: r.title,
        content: r.content,
        stage: r.stage === null ? null : Number(r.stage),
        segments: splitSegments(r.segments),
        bankTags: splitSegments(r.bank_tags),
        variantGroup: r.variant_group || null,
        product: r.product,
        mine: r.owner_userid === ctx.manager.userid,
        category: r.category,
        attachmentTitles: q ? attachmentTitles(r.attachments) : undefined,
        row: r,
      })) satisfies ScoreInput[];
    const env: RankEnv = { campaignProducts: this.campaignProducts, performance };
    const ranked = rankTemplates(candidates, ctx.customer, stage, q, env, Math.min(MAX_LIMIT, ctx.limit ?? 20));
    return ranked.map(({ t, score, reasons }) => {
      const content = fillVariables(t.content, ctx.customer, ctx.manager, t.product);
      const disclaimer = t.row.disclaimer?.trim() || null;
      return {
        id: t.id,
        title: t.title,
        content,
        disclaimer,
        text: sendText(content, disclaimer),
        category: t.row.category,
        version: Number(t.row.version ?? 1),
        // An any-stage script is shown at the customer's stage.
        stage: t.stage === null ? stage : t.stage,
        segments: t.segments,
        product: t.product,
        owner: t.mine ? 'mine' : 'corp',
        score,
        reasons,
        attachments: normaliseAttachments(t.row.attachments),
      };
    });
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
