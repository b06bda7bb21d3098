import type { TemplateCustomer } from './types';
import { chooseVariant, EMPTY_SNAPSHOT, type PerformanceSnapshot, scoredStatsOf, statsOf } from './variant-performance';

/**
 * The ranking score, kept simple and explainable (higher first, ties by id). Eligibility first —
 * the caller only passes approved, unexpired chat scripts — then:
 *   stage      exact +100, any-stage script +60, neighbour (±1) +40, further away +0 (only through search)
 *   segment    template names the customer's segment +30, generic (no segments) +10,
 *              names other segments only → not suggested
 *   bank tags  template targets tags: the customer has one +20, none → not suggested
 *   owner      the manager's own template +20
 *   product    the product appears among the customer's bank tags +15
 *   campaign   the product has an active campaign +25
 *   results    +40 × the posterior mean conversion rate of this wording (variant-performance.ts)
 *   search     q in the title +25, q only in the content, product, category or an attachment
 *              title +10, q in none of them → not suggested
 *   repeat     already sent or copied to this customer −1000 (shown last, never suggested first)
 * Inside a variant group only the wording Thompson sampling picks for this customer is suggested
 * (rankTemplates); a search shows every wording.
 *
 * Every suggestion carries its reasons as short Chinese chips: 第2次触达 · 高潜 · 活动中 · 转化率高.
 */
export interface ScoreInput {
  id: number;
  title: string;
  content: string;
  /** null = any stage. */
  stage: number | null;
  segments: string[];
  product: string | null;
  mine: boolean;
  /** Bank tags the script targets; empty/absent = any. */
  bankTags?: string[];
  variantGroup?: string | null;
  category?: string | null;
  /** Titles of the script's attachments (searched like the content). */
  attachmentTitles?: string[];
  /** product trimmed and lower-cased (the campaign match), precomputed by an index. */
  productKey?: string | null;
}

export const SCORE = {
  stageExact: 100,
  stageAny: 60,
  stageNeighbour: 40,
  segmentMatch: 30,
  segmentGeneric: 10,
  tagMatch: 20,
  mine: 20,
  product: 15,
  campaign: 25,
  performance: 40,
  qTitle: 25,
  qContent: 10,
  repeat: -1000,
} as const;

export const REASON = {
  stage: (n: number) => `第${n}次触达`,
  campaign: '活动中',
  highConversion: '转化率高',
  mine: '我的话术',
  repeat: '已发过',
} as const;

export interface RankEnv {
  /** Products with an active campaign (活动中), compared case-insensitively. */
  campaignProducts?: ReadonlySet<string>;
  performance?: PerformanceSnapshot;
}

export interface Ranked {
  score: number;
  reasons: string[];
}

/** null = not a suggestion for this customer. */
export function rankTemplate(
  t: ScoreInput,
  customer: TemplateCustomer | null,
  stage: number,
  q: string,
  env: RankEnv = {},
): Ranked | null {
  const reasons: string[] = [];
  const score = scoreWith(t, customer, stage, q, env, reasons);
  return score === null ? null : { score, reasons };
}

/** The score alone (see rankTemplate); null = not a suggestion for this customer. */
export function scoreTemplate(
  t: ScoreInput,
  customer: TemplateCustomer | null,
  stage: number,
  q: string,
  env: RankEnv = {},
): number | null {
  return scoreWith(t, customer, stage, q, env, null);
}

/**
 * The one scoring rule. `reasons` collects the chips when given; ranking scores every candidate
 * without them (no allocation per candidate) and asks again, with them, for the few it returns.
 */
function scoreWith(
  t: ScoreInput,
  customer: TemplateCustomer | null,
  stage: number,
  q: string,
  env: RankEnv,
  reasons: string[] | null,
): number | null {
  let score = 0;
  const distance = t.stage === null ? null : Math.abs(t.stage - stage);
  if (distance === null) score += SCORE.stageAny;
  else if (distance === 0) {
    score += SCORE.stageExact;
    reasons?.push(REASON.stage(stage));
  } else if (distance === 1) score += SCORE.stageNeighbour;

  if (t.segments.length === 0) score += SCORE.segmentGeneric;
  else if (customer?.segment && t.segments.includes(customer.segment)) {
    score += SCORE.segmentMatch;
    reasons?.push(customer.segment);
  } else if (customer) return null;

  // Plain loops, no closures: this runs for every candidate of every card.
  const tags = t.bankTags;
  if (tags?.length && customer) {
    let hit: string | undefined;
    for (const tag of tags) {
      if (customer.bankTags.includes(tag)) {
        hit = tag;
        break;
      }
    }
    if (hit === undefined) return null;
    score += SCORE.tagMatch;
    reasons?.push(hit);
  }

  if (t.mine) score += SCORE.mine;
  const product = t.product;
  if (product) {
    if (customer) {
      for (const tag of customer.bankTags) {
        if (tag.includes(product)) {
          score += SCORE.product;
          break;
        }
      }
    }
    if (env.campaignProducts?.size && env.campaignProducts.has(t.productKey ?? product.trim().toLowerCase())) {
      score += SCORE.campaign;
      reasons?.push(REASON.campaign);
    }
  }
  if (env.performance) {
    const s = scoredStatsOf(env.performance, t.id);
    score += Math.round(SCORE.performance * s.mean * 100) / 100;
    if (s.high) reasons?.push(REASON.highConversion);
  }

  if (q) {
    const needle = q.toLowerCase();
    if (t.title.toLowerCase().includes(needle)) score += SCORE.qTitle;
    else if (
      [t.content, t.product ?? '', t.category ?? '', ...(t.attachmentTitles ?? [])].some((x) =>
        x.toLowerCase().includes(needle),
      )
    )
      score += SCORE.qContent;
    else return null;
  }
  if (customer?.usedTemplateIds.includes(t.id)) {
    score += SCORE.repeat;
    reasons?.push(REASON.repeat);
  }
  return score;
}

/**
 * The wording of one variant group this customer gets, among `ids` (its wordings this customer is
 * eligible for): the one they already received (the latest), else the Thompson-sampling choice
 * (stable per customer + group).
 */
function chooseInGroup(
  group: string,
  ids: readonly number[],
  customer: TemplateCustomer | null,
  used: ReadonlySet<number> | null,
  performance: PerformanceSnapshot,
  explore?: number,
): number | null {
  let received: number | undefined;
  if (used) for (const id of ids) if (used.has(id) && (received === undefined || id > received)) received = id;
  if (received !== undefined) return received;
  return chooseVariant(
    customer?.externalUserId ?? '',
    group,
    ids.map((id) => ({ id, stats: statsOf(performance, id) })),
    explore,
  );
}

/**
 * For each variant group among `candidates`, the one wording this customer gets: the wording they
 * already received, else the Thompson-sampling choice (stable per customer + group). Scripts
 * without a group are not in the map.
 */
export function variantChoices(
  candidates: readonly ScoreInput[],
  customer: TemplateCustomer | null,
  performance: PerformanceSnapshot = EMPTY_SNAPSHOT,
  explore?: number,
): Map<string, number> {
  const groups = groupIds(candidates);
  const chosen = new Map<string, number>();
  const used = customer ? new Set(customer.usedTemplateIds) : null;
  for (const [group, ids] of groups) {
    const pick = chooseInGroup(group, ids, customer, used, performance, explore);
    if (pick !== null) chosen.set(group, pick);
  }
  return chosen;
}

function groupIds(candidates: Iterable<ScoreInput>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const t of candidates) {
    if (!t.variantGroup) continue;
    const ids = groups.get(t.variantGroup);
    if (ids) ids.push(t.id);
    else groups.set(t.variantGroup, [t.id]);
  }
  return groups;
}

export interface RankedInput<T extends ScoreInput> extends Ranked {
  t: T;
}

const ID_SPAN = 2 ** 26;
const SCORE_BIAS = 10_000_000;

/**
 * The eligible candidates (score not null), score descending then id ascending. Scores are whole
 * hundredths (SCORE values are integers, the results term is rounded to 0.01), so with ids below
 * 2^26 the order packs exactly into one number per candidate and a Float64Array sorts it without a
 * comparator call; any other input takes the comparator sort.
 */
function sortByScore<T extends ScoreInput>(
  candidates: readonly T[],
  scoreOf: (t: T) => number | null,
): { t: T; score: number }[] {
  const eligible: { t: T; score: number }[] = [];
  const keys = new Float64Array(candidates.length);
  let packable = true;
  for (const t of candidates) {
    const score = scoreOf(t);
    if (score === null) continue;
    const hundredths = Math.round(score * 100);
    if (
      packable &&
      (!Number.isInteger(t.id) || t.id < 0 || t.id >= ID_SPAN || Math.abs(score * 100 - hundredths) > 1e-6)
    ) {
      packable = false;
    }
    keys[eligible.length] = (SCORE_BIAS - hundredths) * ID_SPAN + t.id;
    eligible.push({ t, score });
  }
  if (!packable || eligible.length < 2) {
    return eligible.sort((a, b) => b.score - a.score || a.t.id - b.t.id);
  }
  const byId = new Map<number, { t: T; score: number }>();
  for (const e of eligible) byId.set(e.t.id, e);
  if (byId.size !== eligible.length) return eligible.sort((a, b) => b.score - a.score || a.t.id - b.t.id);
  const sorted = keys.subarray(0, eligible.length).sort();
  const out: { t: T; score: number }[] = new Array(eligible.length);
  for (let i = 0; i < sorted.length; i++) out[i] = byId.get(sorted[i]! % ID_SPAN) as { t: T; score: number };
  return out;
}

/**
 * Scores every candidate, keeps one wording per variant group (unless searching), sorts (score
 * desc, id asc) and returns the first `limit`. The wording of a group is chosen among the wordings
 * this customer is eligible for, and only for the groups that reach the top of the list (the
 * choice of a group further down changes nothing returned); reasons are built for the returned
 * scripts only.
 */
export function rankTemplates<T extends ScoreInput>(
  candidates: readonly T[],
  customer: TemplateCustomer | null,
  stage: number,
  q: string,
  env: RankEnv,
  limit: number,
): RankedInput<T>[] {
  const eligible = sortByScore(candidates, (t) => scoreWith(t, customer, stage, q, env, null));
  let keep: (t: T) => boolean = () => true;
  if (!q) {
    const groups = groupIds(eligible.map((e) => e.t));
    const chosen = new Map<string, number | null>();
    const used = customer ? new Set(customer.usedTemplateIds) : null;
    const performance = env.performance ?? EMPTY_SNAPSHOT;
    keep = (t) => {
      const g = t.variantGroup;
      if (!g) return true;
      let pick = chosen.get(g);
      if (pick === undefined) {
        pick = chooseInGroup(g, groups.get(g) ?? [t.id], customer, used, performance);
        chosen.set(g, pick);
      }
      return pick === t.id;
    };
  }
  const out: RankedInput<T>[] = [];
  for (const e of eligible) {
    if (out.length >= limit) break;
    if (!keep(e.t)) continue;
    const reasons: string[] = [];
    scoreWith(e.t, customer, stage, q, env, reasons);
    out.push({ t: e.t, score: e.score, reasons });
  }
  return out;
}
