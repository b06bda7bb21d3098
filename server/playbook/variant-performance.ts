import { seededRandom } from '../lib/seeded-random';

/**
 * How well a script's wording works, and which wording of a variant group a customer gets.
 *
 * Statistics per script version (script_templates.id): `sends` real sends (channel send, or a copy
 * the manager confirmed as sent), `conversions` outcomes credited to one of those sends
 * (server/playbook/attribution.ts), `churns` sends after which the customer deleted the manager
 * within 7 days.
 *
 * Posterior: Beta(1 + conversions, 1 + (sends − conversions) + churns). A churn counts against
 * the wording once more, on top of the send that did not convert.
 *
 * Choice inside a group (Thompson sampling with an exploration floor): with probability
 * `explore` the customer gets a wording chosen uniformly (so every wording, new ones included,
 * gets at least explore / n of the traffic), otherwise one draw from each wording's posterior and
 * the highest wins. Every random number comes from a PRNG seeded by customer + group, so the same
 * customer sees the same wording on every reload while the statistics stay the same; a customer
 * who already received a wording of the group keeps it (ranking.ts pins it).
 */

export interface VariantStats {
  sends: number;
  conversions: number;
  churns: number;
}

export const EMPTY_STATS: VariantStats = Object.freeze({ sends: 0, conversions: 0, churns: 0 });

/** Share of traffic spread uniformly over a group's wordings so that a new one gets tried. */
export const DEFAULT_EXPLORE = 0.1;

export function posterior(s: VariantStats): { alpha: number; beta: number } {
  const conversions = Math.max(0, Math.min(s.conversions, s.sends));
  return { alpha: 1 + conversions, beta: 1 + Math.max(0, s.sends - conversions) + Math.max(0, s.churns) };
}

export function posteriorMean(s: VariantStats): number {
  const { alpha, beta } = posterior(s);
  return alpha / (alpha + beta);
}

/** 32-bit FNV-1a of a string: the seed of a customer + group draw. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Standard normal by Box–Muller. */
function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia–Tsang (shape ≥ 1; boosted for shape < 1). */
export function sampleGamma(shape: number, rand: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, rand) * (1 - rand()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(alpha: number, beta: number, rand: () => number): number {
  const x = sampleGamma(alpha, rand);
  const y = sampleGamma(beta, rand);
  return x / (x + y);
}

export interface VariantCandidate {
  id: number;
  stats: VariantStats;
}

/**
 * The wording of `group` this customer gets: stable for the same customer, group and statistics.
 * Candidates are considered in id order, so the caller's order does not matter.
 */
export function chooseVariant(
  customerKey: string,
  group: string,
  candidates: readonly VariantCandidate[],
  explore: number = DEFAULT_EXPLORE,
): number | null {
  if (candidates.length === 0) return null;
  const sorted = [...candidates].sort((a, b) => a.id - b.id);
  if (sorted.length === 1) return sorted[0]!.id;
  const rand = seededRandom(hashSeed(`${customerKey}\u0000${group}`));
  if (rand() < explore) return sorted[Math.min(sorted.length - 1, Math.floor(rand() * sorted.length))]!.id;
  let best = sorted[0]!.id;
  let bestDraw = -1;
  for (const c of sorted) {
    const { alpha, beta } = posterior(c.stats);
    const draw = sampleBeta(alpha, beta, rand);
    if (draw > bestDraw) {
      bestDraw = draw;
      best = c.id;
    }
  }
  return best;
}

/** Wilson score interval for a proportion (95 % with the default z). */
export function wilson(successes: number, n: number, z = 1.959964): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 0 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Minimum sends before a script may be called 转化率高. */
export const HIGH_CONVERSION_MIN_SENDS = 20;

/**
 * 转化率高: enough sends, and the lower Wilson bound of its conversion rate is above the
 * library-wide rate (`baseline`), i.e. it converts better than average with 95 % confidence.
 */
export function isHighConversion(s: VariantStats, baseline: number): boolean {
  if (s.sends < HIGH_CONVERSION_MIN_SENDS || s.conversions === 0) return false;
  return wilson(Math.min(s.conversions, s.sends), s.sends).low > baseline;
}

/** Statistics of the scripts, as read by stats-source.ts; `baseline` is the library-wide conversion rate. */
export interface PerformanceSnapshot {
  byTemplate: ReadonlyMap<number, VariantStats>;
  baseline: number;
}

export const EMPTY_SNAPSHOT: PerformanceSnapshot = { byTemplate: new Map(), baseline: 0 };

export function statsOf(snapshot: PerformanceSnapshot, id: number): VariantStats {
  return snapshot.byTemplate.get(id) ?? EMPTY_STATS;
}

export interface ScoredStats {
  /** Posterior mean conversion rate. */
  mean: number;
  /** 转化率高 (isHighConversion against the snapshot's baseline). */
  high: boolean;
}

const NO_STATS: ScoredStats = Object.freeze({ mean: posteriorMean(EMPTY_STATS), high: false });
const scored = new WeakMap<PerformanceSnapshot, Map<number, ScoredStats>>();

/**
 * posteriorMean and isHighConversion of a script, computed once per snapshot (a snapshot is
 * immutable and lives for minutes; the ranking asks for the same scripts on every card).
 */
export function scoredStatsOf(snapshot: PerformanceSnapshot, id: number): ScoredStats {
  let memo = scored.get(snapshot);
  if (!memo) {
    memo = new Map();
    scored.set(snapshot, memo);
  }
  let v = memo.get(id);
  if (v === undefined) {
    const s = snapshot.byTemplate.get(id);
    v = s ? { mean: posteriorMean(s), high: isHighConversion(s, snapshot.baseline) } : NO_STATS;
    memo.set(id, v);
  }
  return v;
}
