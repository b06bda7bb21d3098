import { seededRandom } from '../../server/lib/seeded-random';
import type { IndexedTemplate } from '../../server/playbook/template-index';

/**
 * A generated script library for the index test and the ranking benchmark: `library` bank scripts
 * and `personal` ones spread over `managers` managers, mixed stages, segments, channels, variant
 * groups, products, a few expired. Deterministic for a seed.
 */
const SEGMENTS = ['代发', '高潜', '流降'];
const CHANNELS = ['chat', 'chat', 'chat', 'welcome', 'group'] as const;

export function generateLibrary(library: number, personal: number, managers: number, seed = 1): IndexedTemplate[] {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: IndexedTemplate[] = [];
  for (let i = 0; i < library + personal; i++) {
    const own = i >= library;
    out.push({
      id: i + 1,
      title: `话术${i}${r() < 0.1 ? '理财' : ''}`,
      content: `{{客户称呼}}您好，第${i}号`,
      stage: r() < 0.2 ? null : 1 + Math.floor(r() * 4),
      segments: r() < 0.3 ? [] : [pick(SEGMENTS)],
      bankTags: r() < 0.1 ? ['代发工资'] : [],
      product: r() < 0.3 ? pick(['稳享理财', '基金定投', '手机银行']) : null,
      mine: own,
      variantGroup: r() < 0.2 ? `g${Math.floor(r() * 500)}` : null,
      channel: pick(CHANNELS),
      ownerUserid: own ? `m${Math.floor(r() * managers)}` : null,
      expiresAt: r() < 0.05 ? 1_000 : null,
    });
  }
  return out;
}
