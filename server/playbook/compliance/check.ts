import { RISK_CLASSES, type RiskClass, TEMPLATE_CHANNELS, type TemplateChannel } from '../../db/entities/playbook';
import { LIMITS } from '../../db/entities/playbook-kinds';
import { isStage, MAX_STAGE } from '../stages';
import { variableProblems } from '../variables';
import { DISCLAIMER_RULES, missingDisclaimerPhrases } from './disclaimers';
import type { WordMatcher } from './matcher';

/** A script as authors write it (CLI files, sidebar editor, HTTP API). `body` is stored as `content`. */
export interface TemplateInput {
  title: string;
  body: string;
  category?: string | null;
  /** 1..4, or null = any stage. */
  stage?: number | null;
  segments?: string[];
  bankTags?: string[];
  product?: string | null;
  riskClass?: RiskClass;
  channel?: TemplateChannel;
  variantGroup?: string | null;
  variant?: string | null;
  disclaimer?: string | null;
  attachments?: unknown[] | null;
}

export type FindingCode =
  | 'sensitive_word'
  | 'unknown_variable'
  | 'malformed_variable'
  | 'missing_disclaimer'
  | 'invalid_field';

export type FindingField = 'title' | 'body' | 'disclaimer' | 'stage' | 'riskClass' | 'channel' | 'category' | 'product';

export interface Finding {
  code: FindingCode;
  field: FindingField;
  /** Chinese, for managers and reviewers. */
  message: string;
  /** The listed word (sensitive_word) or the variable name. */
  word?: string;
  note?: string;
  /** [start, end) in the field's text, UTF-16 indices. */
  start?: number;
  end?: number;
  /** What the author wrote there, evasions included. */
  matched?: string;
}

/** A negation just before a listed word turns it into what the rules want said (不保本, 不能保证收益). */
const NEGATIONS = ['不', '非', '未', '无法', '并非', '不能', '不会', '不代表', '不承诺', '不等于', '不是'];

export { LIMITS };

function wordFindings(field: FindingField, text: string, matcher: WordMatcher): Finding[] {
  const out: Finding[] = [];
  for (const hit of matcher.find(text)) {
    const before = text.slice(Math.max(0, hit.start - 4), hit.start).replace(/[\s\p{P}\u200b-\u200f\ufeff]/gu, '');
    if (NEGATIONS.some((n) => before.endsWith(n))) continue;
    out.push({
      code: 'sensitive_word',
      field,
      word: hit.word,
      note: hit.note,
      start: hit.start,
      end: hit.end,
      matched: hit.matched,
      message: `含违规用语“${hit.word}”${hit.matched !== hit.word ? `（写作“${hit.matched}”）` : ''}：${hit.note}`,
    });
  }
  return out;
}

function variableFindings(field: FindingField, text: string): Finding[] {
  return variableProblems(text).map((p) => ({
    code: p.kind,
    field,
    word: p.name,
    start: p.start,
    end: p.end,
    matched: text.slice(p.start, p.end),
    message:
      p.kind === 'unknown_variable'
        ? `未知变量“{{${p.name}}}”：只能使用 {{客户称呼}}、{{客户经理}}、{{网点}}、{{产品}}`
        : `变量括号不完整“${p.name}”`,
  }));
}

const invalid = (field: FindingField, message: string): Finding => ({ code: 'invalid_field', field, message });

/** Every finding for one script: wording, variables, disclaimer, fields. Empty = may be saved. */
export function checkTemplate(input: TemplateInput, matcher: WordMatcher): Finding[] {
  const out: Finding[] = [];
  const title = input.title ?? '';
  const body = input.body ?? '';
  const disclaimer = input.disclaimer ?? '';
  if (!title.trim()) out.push(invalid('title', '标题不能为空'));
  if (title.length > LIMITS.title) out.push(invalid('title', `标题不能超过${LIMITS.title}字`));
  if (!body.trim()) out.push(invalid('body', '正文不能为空'));
  if (body.length > LIMITS.body) out.push(invalid('body', `正文不能超过${LIMITS.body}字`));
  if (disclaimer.length > LIMITS.disclaimer) out.push(invalid('disclaimer', `风险提示不能超过${LIMITS.disclaimer}字`));
  if ((input.category ?? '').length > LIMITS.category) out.push(invalid('category', '分类过长'));
  if ((input.product ?? '').length > LIMITS.product) out.push(invalid('product', '产品名称过长'));
  const stage = input.stage;
  if (stage !== null && stage !== undefined && !isStage(stage)) {
    out.push(invalid('stage', `触达阶段只能是 1–${MAX_STAGE} 或留空（任意阶段）`));
  }
  const riskClass = input.riskClass ?? 'none';
  if (!RISK_CLASSES.includes(riskClass)) {
    out.push(invalid('riskClass', `风险类别只能是 ${RISK_CLASSES.join('/')}`));
  }
  if (input.channel !== undefined && !TEMPLATE_CHANNELS.includes(input.channel)) {
    out.push(invalid('channel', `渠道只能是 ${TEMPLATE_CHANNELS.join('/')}`));
  }

  out.push(...wordFindings('title', title, matcher), ...wordFindings('body', body, matcher));
  out.push(...wordFindings('disclaimer', disclaimer, matcher));
  out.push(...variableFindings('title', title), ...variableFindings('body', body));
  // The disclaimer goes out word for word: no variables in it.
  if (/\{\{|\}\}/.test(disclaimer)) out.push(invalid('disclaimer', '风险提示中不能使用变量'));

  const rule = DISCLAIMER_RULES[riskClass];
  const missing = rule ? missingDisclaimerPhrases(riskClass, disclaimer) : null;
  if (rule && missing) {
    out.push({
      code: 'missing_disclaimer',
      field: 'disclaimer',
      message: disclaimer.trim()
        ? `${rule.label}类话术的风险提示缺少“${missing.join('”“')}”，例如：${rule.suggested}`
        : `${rule.label}类话术必须附带风险提示，例如：${rule.suggested}`,
    });
  }
  return out;
}
