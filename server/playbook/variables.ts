import type { TemplateCustomer, TemplateManager } from './types';

/**
 * Every variable a script may use, in one place. A script naming anything else is refused when it
 * is saved or checked (compliance/check.ts), so nothing unfilled ever reaches a customer.
 */
export interface VariableDef {
  name: string;
  /** What it becomes, for authors (CLI help, sidebar editor). */
  description: string;
  example: string;
}

export const VARIABLES: readonly VariableDef[] = [
  { name: '客户称呼', description: '姓氏加先生/女士；姓名或性别未知时按语境写成“您好”“您”或“客户”', example: '张先生' },
  { name: '客户经理', description: '客户经理姓名', example: '王芳' },
  { name: '网点', description: '客户经理所在网点，未知时为“我行”', example: '西湖支行' },
  { name: '产品', description: '话术关联的产品名称，未设置时为“相关产品”', example: '稳健理财' },
];

const KNOWN = new Set(VARIABLES.map((v) => v.name));
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export interface VariableProblem {
  kind: 'unknown_variable' | 'malformed_variable';
  /** The variable name (unknown_variable) or the stray braces (malformed_variable). */
  name: string;
  start: number;
  end: number;
}

/** Unknown {{names}} and stray {{ / }} in a text, with their positions. */
export function variableProblems(text: string): VariableProblem[] {
  const out: VariableProblem[] = [];
  const covered: [number, number][] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    covered.push([start, end]);
    if (!KNOWN.has(m[1])) out.push({ kind: 'unknown_variable', name: m[1], start, end });
  }
  for (const m of text.matchAll(/\{\{|\}\}/g)) {
    const at = m.index ?? 0;
    if (!covered.some(([s, e]) => at >= s && at < e)) {
      out.push({ kind: 'malformed_variable', name: m[0], start: at, end: at + 2 });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The surname + 先生/女士 from the masked name and WeChat gender, or null when either is unknown. */
export function salutation(customer: TemplateCustomer | null): string | null {
  if (!customer) return null;
  const surname = Array.from(customer.maskedName.trim())[0];
  if (!surname || surname === '*' || !/\p{Script=Han}/u.test(surname)) return null;
  if (customer.gender === 1) return `${surname}先生`;
  if (customer.gender === 2) return `${surname}女士`;
  return null;
}

const SENTENCE_START = /(^|[。！？!?\n；;…])\s*$/;
const COMMA_AFTER = /^[，,：:、！!]/;

/**
 * {{客户称呼}} when the name or gender is unknown, chosen from the words around it so the sentence
 * still reads naturally: "{{客户称呼}}好" → 您好, "{{客户称呼}}您好" → 您好, "尊敬的{{客户称呼}}" →
 * 尊敬的客户, "{{客户称呼}}，根据您的情况" → 您好，根据您的情况, elsewhere 您.
 */
function anonymousSalutation(before: string, after: string): string {
  if (/^(您好|你好|您|你)/.test(after)) return '';
  if (/(尊敬的|亲爱的|各位)\s*$/.test(before)) return '客户';
  if (after.startsWith('好')) return '您';
  if (COMMA_AFTER.test(after) && SENTENCE_START.test(before)) return '您好';
  return '您';
}

export interface RenderContext {
  customer: TemplateCustomer | null;
  manager: TemplateManager;
  /** The script's product ({{产品}}). */
  product?: string | null;
}

/**
 * Fills every known variable. Callers check variableProblems first (a saved script has none); an
 * unknown name left here would be a bug, so it is removed rather than shown raw to a customer.
 */
export function fillVariables(
  text: string,
  customer: TemplateCustomer | null,
  manager: TemplateManager,
  product?: string | null,
): string {
  const named = salutation(customer);
  const values: Record<string, string> = {
    客户经理: manager.name,
    网点: manager.branchName || '我行',
    产品: product?.trim() || '相关产品',
  };
  return text.replace(PLACEHOLDER, (_whole, name: string, offset: number, all: string) => {
    if (name === '客户称呼') {
      return named ?? anonymousSalutation(all.slice(0, offset), all.slice(offset + _whole.length));
    }
    return values[name] ?? '';
  });
}

/** Rendering with a context object (the send path). */
export function render(text: string, ctx: RenderContext): string {
  return fillVariables(text, ctx.customer, ctx.manager, ctx.product);
}
