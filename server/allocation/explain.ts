import { formatDistance } from './geo';
import type { Decision, Explanation, LocationUsed, SkipReason } from './types';

/** Facts the summaries are written from; decide() fills them in as the rules run. */
export interface SummaryFacts {
  rule: Explanation['rule'];
  userid: string | null;
  ownerUserid?: string;
  branchName?: string;
  distanceMeters?: number;
  skippedBranches: number;
  /** Why the nearest-branch rule did not decide, when a later rule did. */
  nearestFailure?: 'no_location' | 'nothing_within_max' | 'no_branches';
  maxDistanceMeters: number | null;
  fallbackSize?: number;
  /** Set when distances were measured from a region centroid rather than the customer's own coordinates. */
  centroidRegion?: string;
}

const SKIP_ZH: Record<SkipReason, string> = {
  closed: '网点已关闭',
  no_eligible_manager: '无可分配客户经理',
  beyond_max_distance: '超出最大距离',
  over_capacity: '已满额',
  on_leave: '休假中',
  resigned: '已离职',
  not_accepting: '暂停接新客户',
  role_not_allocatable: '岗位不参与分配',
  segment_mismatch: '客群不匹配',
  unknown_manager: '不在客户经理名单中',
};

function whyNotNearest(f: SummaryFacts): { en: string; zh: string } {
  const max = f.maxDistanceMeters === null ? null : formatDistance(f.maxDistanceMeters);
  switch (f.nearestFailure) {
    case 'no_location':
      return { en: 'Customer has no location', zh: '客户无位置信息' };
    case 'nothing_within_max':
      return max
        ? { en: `No branch with an eligible manager within ${max}`, zh: `${max} 内无可分配客户经理的网点` }
        : { en: 'No branch has an eligible manager', zh: '所有网点均无可分配客户经理' };
    default:
      return { en: 'No branch applies', zh: '无适用网点' };
  }
}

export function summarize(f: SummaryFacts): { summary: string; summaryZh: string } {
  const skipped =
    f.skippedBranches > 0
      ? { en: ` (${f.skippedBranches} nearer branch(es) skipped)`, zh: `（跳过 ${f.skippedBranches} 个更近的网点）` }
      : { en: '', zh: '' };
  const ownerNote = f.ownerUserid
    ? { en: `Owner ${f.ownerUserid} is not available. `, zh: `管户客户经理 ${f.ownerUserid} 不可分配；` }
    : { en: '', zh: '' };
  switch (f.rule) {
    case 'owner':
      return {
        summary: `Owner (管户) ${f.userid} is active; assigned regardless of capacity.`,
        summaryZh: `管户客户经理 ${f.userid} 在岗，直接分配（不受容量限制）`,
      };
    case 'nearest_branch': {
      const from = f.centroidRegion
        ? { en: ` from the centroid of region ${f.centroidRegion}`, zh: `，按区域 ${f.centroidRegion} 中心点计算` }
        : { en: '', zh: '' };
      const dist = formatDistance(f.distanceMeters ?? 0);
      return {
        summary: `${ownerNote.en}Nearest branch ${f.branchName} (${dist}${from.en})${skipped.en}; least-loaded eligible manager ${f.userid}.`,
        summaryZh: `${ownerNote.zh}最近网点 ${f.branchName} (${dist}${from.zh})${skipped.zh}，该网点负载最低的客户经理 ${f.userid}`,
      };
    }
    case 'fallback': {
      const why = whyNotNearest(f);
      return {
        summary: `${ownerNote.en}${why.en}; fallback manager ${f.userid} (least loaded of ${f.fallbackSize} eligible).`,
        summaryZh: `${ownerNote.zh}${why.zh}，分配给兜底客户经理 ${f.userid}（${f.fallbackSize} 人中负载最低）`,
      };
    }
    case 'added_manager': {
      const why = whyNotNearest(f);
      return {
        summary: `${ownerNote.en}${why.en}; kept the manager the customer already added, ${f.userid}.`,
        summaryZh: `${ownerNote.zh}${why.zh}，保留客户已添加的客户经理 ${f.userid}`,
      };
    }
    default: {
      const why = whyNotNearest(f);
      return {
        summary: `${ownerNote.en}${why.en}, and no fallback or added manager is eligible: no manager assigned.`,
        summaryZh: `${ownerNote.zh}${why.zh}，且无可用的兜底或已添加客户经理：未分配`,
      };
    }
  }
}

function describeLocation(loc: LocationUsed): string {
  const at = loc.lat !== undefined ? `${loc.lat.toFixed(5)},${loc.lng?.toFixed(5)}` : '';
  if (loc.source === 'coordinates') return `customer coordinates ${at}`;
  if (loc.source === 'region_centroid') return `centroid of region ${loc.regionCode} (from ${loc.centroidFrom}) ${at}`;
  return loc.regionCode ? `none (region ${loc.regionCode} has no known centroid)` : 'none';
}

/** Multi-line plain-text account of a decision, for the operator CLI. */
export function explainInWords(decision: Decision): string {
  const ex = decision.explanation;
  const lines = [
    ex.summary,
    ex.summaryZh,
    `rule: ${ex.rule}; rule set: ${ex.ruleSetVersion}; manager: ${decision.userid ?? '(none)'}; branch: ${decision.branchCode ?? '-'}`,
    `location: ${describeLocation(ex.location)}`,
    `max distance: ${ex.maxDistanceMeters === null ? 'unlimited' : formatDistance(ex.maxDistanceMeters)}`,
    'steps:',
    ...ex.steps.map((s) => `  ${s.rule}: ${s.outcome} — ${s.detail}`),
  ];
  if (ex.branches.length > 0) {
    lines.push('branches considered (nearest first):');
    for (const b of ex.branches) {
      const why = b.skipReason ? ` — ${b.skipReason} (${SKIP_ZH[b.skipReason]})` : '';
      lines.push(
        `  ${b.outcome === 'chosen' ? '*' : '-'} ${b.code} ${b.name} ${formatDistance(b.distanceMeters)}${why}`,
      );
      for (const m of b.managers ?? []) lines.push(`      ${m.userid}: ${m.reason} (${SKIP_ZH[m.reason]})`);
    }
    if (ex.branchesNotListed > 0) lines.push(`  … ${ex.branchesNotListed} more skipped branch(es) not listed`);
  }
  if (ex.fallbackCandidates && ex.fallbackCandidates.length > 0) {
    lines.push('fallback candidates:');
    for (const c of ex.fallbackCandidates) {
      const load = c.load !== undefined ? ` ${c.load}/${c.capacity}` : '';
      const why = c.skipReason ? ` — ${c.skipReason} (${SKIP_ZH[c.skipReason]})` : '';
      lines.push(`  ${c.outcome === 'chosen' ? '*' : '-'} ${c.userid}${load}${why}`);
    }
  }
  if (decision.mismatch) {
    lines.push(`customer already added another manager; mismatch policy: ${decision.mismatchPolicy}`);
  }
  return lines.join('\n');
}

const MANAGER_IN_SUMMARY = /客户经理 ([A-Za-z0-9_.@-]+)/g;

/** Userids a Chinese summary names ("客户经理 hz_sunlei"), for a name lookup. */
export function managersInSummary(summaryZh: string): string[] {
  return [...new Set([...summaryZh.matchAll(MANAGER_IN_SUMMARY)].map((m) => m[1]))];
}

/**
 * The Chinese summary as a manager reads it: every manager by name, never by userid. Stored
 * explanations keep userids (they are stable; names change); this runs when one is shown. A
 * userid no longer in the managers table becomes a role, not a code.
 */
export function withManagerNames(summaryZh: string, names: ReadonlyMap<string, string>): string {
  return summaryZh.replace(MANAGER_IN_SUMMARY, (_m, id: string) => `客户经理 ${names.get(id) ?? '（已不在名单中）'}`);
}
