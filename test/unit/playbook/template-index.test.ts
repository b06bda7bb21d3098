// The in-memory template index returns the same suggestions as ranking every script.

import { seededRandom } from '../../../server/lib/seeded-random';
import { rankTemplate, rankTemplates, variantChoices } from '../../../server/playbook/ranking';
import { TemplateIndex } from '../../../server/playbook/template-index';
import type { TemplateCustomer } from '../../../server/playbook/types';
import type { VariantStats } from '../../../server/playbook/variant-performance';
import { generateLibrary } from '../../helpers/template-library';

describe('TemplateIndex', () => {
  const all = generateLibrary(3000, 5000, 50);
  const index = new TemplateIndex(all);
  const now = 10_000;

  it.each([
    [1, '高潜', []],
    [2, '代发', ['代发工资']],
    [4, null, []],
    [3, '流降', []],
  ] as const)('stage %i, segment %s: the same ranking as a full scan', (stage, segment, tags) => {
    for (const manager of ['m1', 'm7', 'nobody']) {
      const customer: TemplateCustomer = {
        externalUserId: `wm-${stage}-${manager}`,
        maskedName: '',
        gender: 0,
        segment,
        bankTags: [...tags],
        usedTemplateIds: [5, 17],
      };
      const env = { campaignProducts: new Set(['基金定投']) };
      const scan = all.filter(
        (t) =>
          t.channel === 'chat' &&
          (t.expiresAt === null || t.expiresAt > now) &&
          (t.ownerUserid === manager ||
            (t.ownerUserid === null && (t.stage === null || Math.abs(t.stage - stage) <= 1))),
      );
      const expected = rankTemplates(scan, customer, stage, '', env, 20).map((x) => [x.t.id, x.score, x.reasons]);
      const got = index
        .rank({ managerUserid: manager, stage, customer, now }, env)
        .map((x) => [x.t.id, x.score, x.reasons]);
      expect(got).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
      // Only this manager's personal scripts, never someone else's; never an expired one.
      for (const [id] of got) {
        const t = all[(id as number) - 1]!;
        expect(t.ownerUserid === null || t.ownerUserid === manager).toBe(true);
        expect(t.expiresAt).toBeNull();
      }
    }
  });

  it('reads far fewer scripts than it holds', () => {
    const customer: TemplateCustomer = {
      externalUserId: 'x',
      maskedName: '',
      gender: 0,
      segment: '高潜',
      bankTags: [],
      usedTemplateIds: [],
    };
    const n = index.candidates({ channel: 'chat', managerUserid: 'm1', stage: 1, customer, now }).length;
    expect(n).toBeLessThan(all.length / 4);
  });

  it('a search looks at every stage', () => {
    const customer: TemplateCustomer = {
      externalUserId: 'x',
      maskedName: '',
      gender: 0,
      segment: '高潜',
      bankTags: [],
      usedTemplateIds: [],
    };
    const hits = index.rank({ managerUserid: 'm1', stage: 1, customer, now, q: '理财', limit: 50 }, {});
    expect(new Set(hits.map((h) => h.t.stage)).size).toBeGreaterThan(2);
  });

  it('rankTemplates returns what the plain definition does: every candidate scored with reasons, one wording per group, sorted by score then id', () => {
    const byTemplate = new Map<number, VariantStats>();
    const r = seededRandom(3);
    for (const t of all) {
      const sends = Math.floor(r() * 300);
      byTemplate.set(t.id, { sends, conversions: Math.floor(sends * r() * 0.2), churns: 0 });
    }
    const env = { campaignProducts: new Set(['基金定投']), performance: { byTemplate, baseline: 0.1 } };
    for (let i = 0; i < 40; i++) {
      const customer: TemplateCustomer = {
        externalUserId: `wm-ref-${i}`,
        maskedName: '',
        gender: 0,
        segment: [null, '代发', '高潜', '流降'][i % 4] ?? null,
        bankTags: i % 3 === 0 ? ['代发工资'] : [],
        usedTemplateIds: [1 + i, 40 + i * 7],
      };
      const stage = 1 + (i % 4);
      const manager = `m${i % 50}`;
      const candidates = index.candidates({ channel: 'chat', managerUserid: manager, stage, customer, now });
      const ranked = candidates.flatMap((t) => {
        const x = rankTemplate(t, customer, stage, '', env);
        return x ? [{ t, ...x }] : [];
      });
      const choices = variantChoices(
        ranked.map((x) => x.t),
        customer,
        env.performance,
      );
      const expected = ranked
        .filter((x) => !x.t.variantGroup || choices.get(x.t.variantGroup) === x.t.id)
        .sort((a, b) => b.score - a.score || a.t.id - b.t.id)
        .slice(0, 20)
        .map((x) => [x.t.id, x.score, x.reasons]);
      const got = rankTemplates(candidates, customer, stage, '', env, 20).map((x) => [x.t.id, x.score, x.reasons]);
      expect(got).toEqual(expected);
    }
  });
});
