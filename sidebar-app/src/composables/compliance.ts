// The live compliance check as the manager sees it: Chinese explanations of the server's findings
// and the text cut into pieces with the offending spans marked. Pure functions, no Vue.
import type { Finding, RiskClass, TemplateStatus } from '../services/types';

/** One finding, in the words a manager reads. */
export function explainFinding(f: Finding): string {
  if (f.code === 'sensitive_word' && f.word) {
    const written = f.matched && f.matched !== f.word ? `（原文写作「${f.matched}」）` : '';
    const why = f.note ? `：${f.note}` : '';
    return `「${f.word}」属于违规营销用语${written}${why}。请删除，或改为客观表述（如“产品有风险，过往业绩不代表未来表现”）。`;
  }
  if (f.code === 'unknown_variable' && f.word) {
    return `「{{${f.word}}}」不是可用的变量，只能使用 {{客户称呼}}、{{客户经理}}、{{网点}}、{{产品}}。`;
  }
  return f.message;
}

export interface Piece {
  text: string;
  /** The explanation when this piece is an offending span. */
  finding: Finding | null;
}

/**
 * `text` cut at the findings of `field` that carry a position: marked pieces for the spans, plain
 * ones between. Overlapping spans (保本 inside 保本保息) are merged into the first one.
 */
export function highlight(text: string, findings: readonly Finding[], field: Finding['field']): Piece[] {
  const spans = findings
    .filter((f) => f.field === field && typeof f.start === 'number' && typeof f.end === 'number')
    .map((f) => ({ start: f.start as number, end: Math.min(text.length, f.end as number), f }))
    .filter((s) => s.start >= 0 && s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const pieces: Piece[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start < at) {
      // overlaps the previous span: widen it
      const last = pieces[pieces.length - 1];
      if (last?.finding && s.end > at) {
        last.text += text.slice(at, s.end);
        at = s.end;
      }
      continue;
    }
    if (s.start > at) pieces.push({ text: text.slice(at, s.start), finding: null });
    pieces.push({ text: text.slice(s.start, s.end), finding: s.f });
    at = s.end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), finding: null });
  return pieces;
}

export const STATUS_ZH: Record<TemplateStatus, string> = {
  draft: '草稿',
  review: '审核中',
  approved: '已通过',
  rejected: '未通过',
  retired: '已停用',
};

export const RISK_CLASS_ZH: Record<RiskClass, string> = {
  none: '无（一般问候）',
  deposit: '存款',
  wealth: '理财',
  fund: '基金',
  insurance: '保险',
  loan: '贷款',
};

/** Risk classes whose scripts must carry a risk disclaimer (the server's DISCLAIMER_RULES). */
export const NEEDS_DISCLAIMER: readonly RiskClass[] = ['wealth', 'fund', 'insurance'];
