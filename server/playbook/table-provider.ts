import type { DataSource } from 'typeorm';
import { readCacheVersion } from '../db/cache-version';
import type { TemplateChannel } from '../db/entities/playbook';
import { normaliseAttachments } from './attachments';
import { libraryGeneration } from './generation';
import { PerformanceSource } from './performance-source';
import { type RankEnv, rankTemplates } from './ranking';
import { clampStage } from './stages';
import { type IndexedTemplate, TemplateIndex } from './template-index';
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
  expires_at: number | string | null;
  channel: TemplateChannel;
}

const MAX_LIMIT = 50;

export function splitSegments(s: string | null): string[] {
  return (s ?? '')
    .split(/[,，]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * Suggestions for the sidebar: approved, unexpired chat scripts of the bank library and the
 * manager's own, ranked by ranking.ts.
 *
 * The bank library (up to tens of thousands of scripts) is held in memory as a TemplateIndex,
 * read once and rebuilt when it changes: every request first reads the `script_library` cache
 * version (one primary-key lookup, bumped in the transaction of every library write on any
 * instance, server/db/cache-version.ts), and a write in this process drops it at once. A copy
 * older than LIBRARY_MAX_AGE_MS is refreshed in the background even with an unchanged version,
 * for rows changed around the library service. Expiry is evaluated per request, so a script whose
 * approval ends is never suggested. The manager's own scripts are read per request by owner
 * (index idx_templates_owner). Without a search, library scripts are read for stages within ±1
 * only and the manager's own at every stage; a search or a category looks at every stage.
 */
export interface LearningOptions {
  /** Products with an active campaign (CAMPAIGN_PRODUCTS). */
  campaignProducts?: readonly string[];
  /** Conversion statistics per script; default: read from the database, cached 5 minutes. */
  performance?: PerformanceSource;
}

/** Rebuild the library copy after this long even if its version did not move. */
export const LIBRARY_MAX_AGE_MS = 60_000;

type Entry = IndexedTemplate & { row: Row };

const COLUMNS = `id, title, content, stage, segments, bank_tags, variant_group, product, owner_userid, disclaimer,
                attachments, category, version, expires_at, channel`;

function toEntry(r: Row, mine: boolean): Entry {
  return {
    id: Number(r.id),
    title: r.title,
    content: r.content,
    stage: r.stage === null ? null : Number(r.stage),
    segments: splitSegments(r.segments),
    bankTags: splitSegments(r.bank_tags),
    variantGroup: r.variant_group || null,
    product: r.product,
    mine,
    category: r.category,
    attachmentTitles: attachmentTitles(r.attachments),
    channel: r.channel,
    ownerUserid: r.owner_userid,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    row: r,
  };
}

interface LibraryCopy {
  index: TemplateIndex<Entry>;
  /** cache_versions.version when it was read (null: no row, the age alone decides). */
  version: string | null;
  /** libraryGeneration() when it was read: a write in this process. */
  generation: number;
  /** Wall-clock time of the read (not the app clock, which tests move). */
  loadedAt: number;
  seq: number;
}

export class TableTemplateProvider implements TemplateProvider {
  private readonly campaignProducts: ReadonlySet<string>;
  private readonly performance: PerformanceSource;
  private library: LibraryCopy | null = null;
  private loading: { version: string | null; generation: number; copy: Promise<LibraryCopy> } | null = null;
  private seq = 0;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
    learning: LearningOptions = {},
  ) {
    this.campaignProducts = new Set((learning.campaignProducts ?? []).map((p) => p.trim().toLowerCase()));
    this.performance = learning.performance ?? new PerformanceSource(db, now);
  }

  /** The bank library as of this request: the copy in memory if its version is current, else a fresh read. */
  async libraryIndex(): Promise<TemplateIndex<Entry>> {
    const version = await readCacheVersion(this.db, 'script_library');
    const generation = libraryGeneration(this.db);
    const cur = this.library;
    if (cur && cur.generation === generation && (version === null || cur.version === version)) {
      if (Date.now() - cur.loadedAt >= LIBRARY_MAX_AGE_MS) this.load(version, generation).catch(() => undefined);
      return cur.index;
    }
    return (await this.load(version, generation)).index;
  }

  /** One read at a time per version: concurrent requests after a change share it. */
  private load(version: string | null, generation: number): Promise<LibraryCopy> {
    const l = this.loading;
    if (l && l.version === version && l.generation === generation) return l.copy;
    const seq = ++this.seq;
    const copy = this.db
      .query(
        `SELECT ${COLUMNS} FROM script_templates
          WHERE status = 'approved' AND channel = 'chat' AND owner_userid IS NULL`,
      )
      .then((rows: Row[]) => {
        // Saved scripts are checked; a row written around the checks never reaches a customer raw.
        const entries = rows.filter((r) => variableProblems(r.content).length === 0).map((r) => toEntry(r, false));
        const c: LibraryCopy = { index: new TemplateIndex(entries), version, generation, loadedAt: Date.now(), seq };
        if (!this.library || this.library.seq < seq) this.library = c;
        return c;
      })
      .finally(() => {
        if (this.loading?.copy === copy) this.loading = null;
      });
    this.loading = { version, generation, copy };
    return copy;
  }

  /** The manager's own approved, unexpired chat scripts (filtered like the library). */
  private async personal(ctx: SuggestContext, category: string | undefined, onlyStage: number | undefined) {
    const params: unknown[] = [ctx.manager.userid, this.now()];
    let where = '';
    if (category !== undefined) {
      where += ' AND category = ?';
      params.push(category);
    }
    if (onlyStage !== undefined) {
      where += ' AND (stage IS NULL OR stage = ?)';
      params.push(onlyStage);
    }
    const rows: Row[] = await this.db.query(
      `SELECT ${COLUMNS} FROM script_templates
        WHERE owner_userid = ? AND status = 'approved' AND channel = 'chat'
          AND (expires_at IS NULL OR expires_at > ?)${where}`,
      params,
    );
    return rows.filter((r) => variableProblems(r.content).length === 0).map((r) => toEntry(r, true));
  }

  async suggest(ctx: SuggestContext): Promise<RankedTemplate[]> {
    const stage = clampStage(ctx.stage);
    const q = (ctx.q ?? '').trim();
    const category = ctx.category || undefined;
    const onlyStage = ctx.onlyStage || undefined;
    const [library, own, performance] = await Promise.all([
      this.libraryIndex(),
      this.personal(ctx, category, onlyStage),
      this.performance.get(),
    ]);
    const candidates: Entry[] = library.candidates({
      channel: 'chat',
      managerUserid: ctx.manager.userid,
      stage,
      customer: ctx.customer,
      q,
      now: this.now(),
      category,
      onlyStage,
    });
    for (const t of own) candidates.push(t);
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
