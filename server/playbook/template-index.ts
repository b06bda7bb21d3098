import type { TemplateChannel } from '../db/entities/playbook';
import { type RankEnv, type RankedInput, rankTemplates, type ScoreInput } from './ranking';
import type { TemplateCustomer } from './types';

/**
 * An in-memory index of the approved script library for ranking at scale (10,000 library scripts
 * plus 100,000 personal ones): library scripts by channel → stage (1–4, or any) → segment (or
 * generic), personal scripts by owner. A suggestion for one customer reads only the buckets that can
 * qualify — stage ±1 and any-stage, the customer's segment and generic scripts, and that manager's
 * own scripts — instead of scanning every row. A search (q) looks at every stage, as the SQL
 * provider does. Expiry is checked at query time, so a script that expires is never suggested even
 * from an index built before. The sidebar's TableTemplateProvider keeps one of the bank library
 * (personal scripts are read per manager from the database) and rebuilds it when the library's
 * cache version moves.
 */

export interface IndexedTemplate extends ScoreInput {
  channel: TemplateChannel;
  /** null = the bank library. */
  ownerUserid: string | null;
  expiresAt: number | null;
}

const ANY = 0;
const GENERIC = '';

export class TemplateIndex<T extends IndexedTemplate = IndexedTemplate> {
  /** channel → stage (0 = any) → segment ('' = generic) → templates. */
  private readonly library = new Map<string, Map<number, Map<string, T[]>>>();
  private readonly personal = new Map<string, T[]>();
  readonly size: number;

  constructor(templates: Iterable<T>) {
    let n = 0;
    for (const t of templates) {
      n++;
      // The campaign match key, once here rather than per ranking (a derived field of the entry).
      if (t.productKey === undefined) t.productKey = t.product ? t.product.trim().toLowerCase() : null;
      if (t.ownerUserid !== null) {
        const list = this.personal.get(t.ownerUserid);
        if (list) list.push(t);
        else this.personal.set(t.ownerUserid, [t]);
        continue;
      }
      let byStage = this.library.get(t.channel);
      if (!byStage) {
        byStage = new Map();
        this.library.set(t.channel, byStage);
      }
      const stage = t.stage ?? ANY;
      let bySegment = byStage.get(stage);
      if (!bySegment) {
        bySegment = new Map();
        byStage.set(stage, bySegment);
      }
      for (const seg of t.segments.length ? t.segments : [GENERIC]) {
        const list = bySegment.get(seg);
        if (list) list.push(t);
        else bySegment.set(seg, [t]);
      }
    }
    this.size = n;
  }

  /** Scripts that may qualify for this customer and manager (unexpired; eligibility is decided by ranking). */
  candidates(opts: {
    channel: TemplateChannel;
    managerUserid: string;
    stage: number;
    customer: TemplateCustomer | null;
    q?: string;
    now: number;
    /** One category only (then every stage, as a search). */
    category?: string;
    /** One stage only: that stage and any-stage scripts (the sidebar's stage filter). */
    onlyStage?: number;
  }): T[] {
    const out: T[] = [];
    // With a customer only generic and one segment's buckets are read: a script is in at most one
    // of them per stage, so no script can come twice. Without, a multi-segment script can.
    const seen = opts.customer ? null : new Set<number>();
    const { category, onlyStage } = opts;
    const live = (t: T) =>
      (t.expiresAt === null || t.expiresAt > opts.now) &&
      (category === undefined || t.category === category) &&
      (onlyStage === undefined || t.stage === null || t.stage === onlyStage);
    const byStage = this.library.get(opts.channel);
    if (byStage) {
      const stages =
        onlyStage !== undefined
          ? onlyStage === ANY
            ? [ANY]
            : [ANY, onlyStage]
          : opts.q || category !== undefined
            ? [...byStage.keys()]
            : [ANY, opts.stage - 1, opts.stage, opts.stage + 1].filter((x, i) => i === 0 || x !== ANY);
      // Without a customer every segment may show (the ranking decides); with one, theirs and generic.
      const segment = opts.customer?.segment ?? null;
      for (const s of stages) {
        const bySegment = byStage.get(s);
        if (!bySegment) continue;
        const lists = opts.customer
          ? [bySegment.get(GENERIC), segment ? bySegment.get(segment) : undefined]
          : [...bySegment.values()];
        for (const list of lists) {
          if (!list) continue;
          for (const t of list) {
            if (!live(t)) continue;
            if (seen) {
              if (seen.has(t.id)) continue;
              seen.add(t.id);
            }
            out.push(t);
          }
        }
      }
    }
    for (const t of this.personal.get(opts.managerUserid) ?? []) {
      if (t.channel === opts.channel && live(t)) out.push(t);
    }
    return out;
  }

  /** The ranked suggestions (ranking.ts) for one customer, as the sidebar shows them. */
  rank(
    opts: {
      managerUserid: string;
      stage: number;
      customer: TemplateCustomer | null;
      q?: string;
      now: number;
      limit?: number;
    },
    env: RankEnv,
  ): RankedInput<T>[] {
    const candidates = this.candidates({ ...opts, channel: 'chat' });
    return rankTemplates(candidates, opts.customer, opts.stage, (opts.q ?? '').trim(), env, opts.limit ?? 20);
  }
}
