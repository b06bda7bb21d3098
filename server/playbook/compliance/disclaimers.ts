import type { RiskClass } from '../../db/entities/playbook';
import { normalise } from './normalize';

/**
 * Risk disclaimers (风险提示) by risk class. Wealth, fund and insurance scripts must carry one that
 * says at least what the rule requires (each entry: one of the alternatives must appear; compared on
 * normalised text, so punctuation and full-width forms do not matter). `suggested` is only offered
 * in the refusal message: a missing disclaimer is never filled in silently.
 */
export interface DisclaimerRule {
  label: string;
  required: string[][];
  suggested: string;
}

export const DISCLAIMER_RULES: Partial<Record<RiskClass, DisclaimerRule>> = {
  wealth: {
    label: '理财',
    required: [['理财非存款', '理财产品不是存款', '理财产品不同于存款'], ['产品有风险'], ['投资须谨慎', '投资需谨慎']],
    suggested: '【风险提示】理财非存款，产品有风险，投资须谨慎。',
  },
  fund: {
    label: '基金',
    required: [['基金有风险'], ['投资须谨慎', '投资需谨慎']],
    suggested: '【风险提示】基金有风险，投资须谨慎。',
  },
  insurance: {
    label: '保险',
    required: [['保险产品'], ['不同于银行存款', '不同于存款', '非存款', '不是存款']],
    suggested: '【风险提示】本产品为保险产品，不同于银行存款，投保前请仔细阅读保险条款。',
  },
};

/** null = fine; else the missing phrases (first alternative of each missing entry). */
export function missingDisclaimerPhrases(riskClass: RiskClass, disclaimer: string | null | undefined): string[] | null {
  const rule = DISCLAIMER_RULES[riskClass];
  if (!rule) return null;
  const text = normalise(disclaimer ?? '').text;
  const missing = rule.required.filter((alts) => !alts.some((a) => text.includes(normalise(a).text))).map((a) => a[0]);
  return missing.length ? missing : null;
}
