import type { TemplateCustomer } from './types';

/**
 * The ranking score, kept simple and explainable (higher first, ties by id):
 *   stage      exact +100, any-stage script +60, neighbour (±1) +40, further away +0 (only through search)
 *   segment    template names the customer's segment +30, generic (no segments) +10,
 *              names other segments only → not suggested
 *   owner      the manager's own template +20
 *   product    the product appears among the customer's bank tags +15
 *   search     q in the title +25, q only in the content +10, q in neither → not suggested
 *   repeat     already sent or copied to this customer −50
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
}

export const SCORE = {
  stageExact: 100,
  stageAny: 60,
  stageNeighbour: 40,
  segmentMatch: 30,
  segmentGeneric: 10,
  mine: 20,
  product: 15,
  qTitle: 25,
  qContent: 10,
  repeat: -50,
} as const;

/** null = not a suggestion for this customer. */
export function scoreTemplate(
  t: ScoreInput,
  customer: TemplateCustomer | null,
  stage: number,
  q: string,
): number | null {
  let score = 0;
  const distance = t.stage === null ? null : Math.abs(t.stage - stage);
  if (distance === null) score += SCORE.stageAny;
  else if (distance === 0) score += SCORE.stageExact;
  else if (distance === 1) score += SCORE.stageNeighbour;

  if (t.segments.length === 0) score += SCORE.segmentGeneric;
  else if (customer?.segment && t.segments.includes(customer.segment)) score += SCORE.segmentMatch;
  else if (customer) return null;

  if (t.mine) score += SCORE.mine;
  if (t.product && customer?.bankTags.some((tag) => tag.includes(t.product as string))) score += SCORE.product;

  if (q) {
    const needle = q.toLowerCase();
    if (t.title.toLowerCase().includes(needle)) score += SCORE.qTitle;
    else if (t.content.toLowerCase().includes(needle)) score += SCORE.qContent;
    else return null;
  }
  if (customer?.usedTemplateIds.includes(t.id)) score += SCORE.repeat;
  return score;
}
