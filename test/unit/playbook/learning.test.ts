// Suggestions that learn (issue 12): Thompson sampling over variant posteriors, attribution of
// bank outcomes to sends, and the ranking's reasons (pure, no I/O).

import { seededRandom } from '../../../server/lib/seeded-random';
import {
  attribute,
  churnedAfter,
  isRealSend,
  REASON,
  rankTemplate,
  rankTemplates,
  SCORE,
  variantChoices,
} from '../../../server/playbook';
import type { AttributableTouch } from '../../../server/playbook/attribution';
import type { ScoreInput } from '../../../server/playbook/ranking';
import type { TemplateCustomer } from '../../../server/playbook/types';
import {
  chooseVariant,
  isHighConversion,
  posterior,
  sampleBeta,
  type VariantStats,
  wilson,
} from '../../../server/playbook/variant-performance';

const DAY = 86_400_000;

describe('Thompson sampling of variants', () => {
  /** Simulates `rounds` customers: each gets a wording, converts with that wording's true rate. */
  function simulate(trueRates: number[], rounds: number, seed: number, explore?: number) {
    const stats: VariantStats[] = trueRates.map(() => ({ sends: 0, conversions: 0, churns: 0 }));
    const shown = trueRates.map(() => 0);
    const world = seededRandom(seed);
    for (let i = 0; i < rounds; i++) {
      const pick = chooseVariant(
        `cust-${seed}-${i}`,
        'grp',
        stats.map((s, id) => ({ id: id + 1, stats: s })),
        explore,
      )!;
      const k = pick - 1;
      shown[k]++;
      stats[k].sends++;
      if (world() < trueRates[k]) stats[k].conversions++;
    }
    return { shown, stats };
  }

  it('gives most of the traffic to the better wording in a seeded simulation', () => {
    const { shown } = simulate([0.05, 0.15], 3000, 7);
    expect(shown[1] / 3000).toBeGreaterThan(0.75);
    // The worse one is not starved: the exploration floor keeps it in play.
    expect(shown[0]).toBeGreaterThan(3000 * 0.04);
  });

  it('still tries a new wording next to an established winner (exploration floor)', () => {
    const established: VariantStats = { sends: 5000, conversions: 1000, churns: 0 };
    const fresh: VariantStats = { sends: 0, conversions: 0, churns: 0 };
    let freshShown = 0;
    for (let i = 0; i < 2000; i++) {
      const pick = chooseVariant(`c${i}`, 'g', [
        { id: 1, stats: established },
        { id: 2, stats: fresh },
      ]);
      if (pick === 2) freshShown++;
    }
    // 10 % explore split over two wordings: at least ~5 % goes to the new one, plus what its wide prior wins.
    expect(freshShown / 2000).toBeGreaterThan(0.04);
  });

  it('without the floor a hopeless wording would be dropped (the floor is what keeps it)', () => {
    const winner: VariantStats = { sends: 5000, conversions: 2500, churns: 0 };
    const loser: VariantStats = { sends: 5000, conversions: 50, churns: 0 };
    let withFloor = 0;
    let without = 0;
    for (let i = 0; i < 1000; i++) {
      const c = [
        { id: 1, stats: winner },
        { id: 2, stats: loser },
      ];
      if (chooseVariant(`c${i}`, 'g', c) === 2) withFloor++;
      if (chooseVariant(`c${i}`, 'g', c, 0) === 2) without++;
    }
    expect(without).toBe(0);
    expect(withFloor).toBeGreaterThan(20);
  });

  it('is stable per customer and group: the same answer on every reload, whatever the order given', () => {
    const c = [
      { id: 3, stats: { sends: 10, conversions: 2, churns: 0 } },
      { id: 1, stats: { sends: 10, conversions: 2, churns: 0 } },
      { id: 2, stats: { sends: 10, conversions: 2, churns: 0 } },
    ];
    const picks = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const first = chooseVariant('wmCUST1', 'welcome-wealth', c);
      expect(chooseVariant('wmCUST1', 'welcome-wealth', [...c].reverse())).toBe(first);
      picks.add(chooseVariant(`wm${i}`, 'welcome-wealth', c)!);
    }
    // …while different customers are spread over the wordings.
    expect(picks.size).toBe(3);
  });

  it('counts churn after touch against a wording', () => {
    expect(posterior({ sends: 10, conversions: 3, churns: 2 })).toEqual({ alpha: 4, beta: 10 });
  });

  it('draws Beta samples with the right mean', () => {
    const rand = seededRandom(1);
    let sum = 0;
    for (let i = 0; i < 4000; i++) sum += sampleBeta(3, 7, rand);
    expect(sum / 4000).toBeCloseTo(0.3, 1);
  });

  it('Wilson interval: known values, empty sample, extremes', () => {
    const w = wilson(10, 100);
    expect(w.low).toBeCloseTo(0.0552, 3);
    expect(w.high).toBeCloseTo(0.1744, 3);
    expect(wilson(0, 0)).toEqual({ low: 0, high: 0 });
    expect(wilson(0, 20).low).toBe(0);
    expect(wilson(20, 20).high).toBeCloseTo(1, 10);
  });

  it('转化率高 needs enough sends and a lower bound above the library rate', () => {
    expect(isHighConversion({ sends: 10, conversions: 8, churns: 0 }, 0.05)).toBe(false);
    expect(isHighConversion({ sends: 100, conversions: 30, churns: 0 }, 0.1)).toBe(true);
    expect(isHighConversion({ sends: 100, conversions: 12, churns: 0 }, 0.1)).toBe(false);
  });
});

describe('attribution of outcomes', () => {
  const t = (over: Partial<AttributableTouch>): AttributableTouch => ({
    id: 1,
    templateId: 10,
    product: null,
    channel: 'send',
    sentAt: 0,
    confirmedAt: null,
    ...over,
  });
  const at = 100 * DAY;

  it('credits a send inside the window and not one outside it', () => {
    expect(attribute({ occurredAt: at, product: null }, [t({ sentAt: at - 13 * DAY })])?.id).toBe(1);
    expect(attribute({ occurredAt: at, product: null }, [t({ sentAt: at - 14 * DAY })])?.id).toBe(1);
    expect(attribute({ occurredAt: at, product: null }, [t({ sentAt: at - 14 * DAY - 1 })])).toBeNull();
    // A send after the outcome did not cause it.
    expect(attribute({ occurredAt: at, product: null }, [t({ sentAt: at + 1 })])).toBeNull();
    // The window comes from configuration.
    expect(attribute({ occurredAt: at, product: null }, [t({ sentAt: at - 20 * DAY })], 30 * DAY)?.id).toBe(1);
  });

  it('the last send wins', () => {
    const touches = [
      t({ id: 1, sentAt: at - 5 * DAY }),
      t({ id: 2, sentAt: at - 2 * DAY }),
      t({ id: 3, sentAt: at - 9 * DAY }),
    ];
    expect(attribute({ occurredAt: at, product: null }, touches)?.id).toBe(2);
    // Same time: the later row.
    expect(attribute({ occurredAt: at, product: null }, [t({ id: 4, sentAt: at }), t({ id: 5, sentAt: at })])?.id).toBe(
      5,
    );
  });

  it('matches by product when the event names one', () => {
    const touches = [
      t({ id: 1, sentAt: at - 5 * DAY, product: '稳享理财' }),
      t({ id: 2, sentAt: at - 1 * DAY, product: '手机银行' }),
      t({ id: 3, sentAt: at - 1 * DAY, product: null }),
    ];
    expect(attribute({ occurredAt: at, product: '稳享理财' }, touches)?.id).toBe(1);
    expect(attribute({ occurredAt: at, product: '信用卡' }, touches)).toBeNull();
    // No product named: the last send of any script.
    expect(attribute({ occurredAt: at, product: '' }, touches)?.id).toBe(3);
  });

  it('a copy does not count unless the manager confirmed it as sent', () => {
    const copy = t({ id: 7, channel: 'copy', sentAt: at - DAY });
    expect(isRealSend(copy)).toBe(false);
    expect(attribute({ occurredAt: at, product: null }, [copy])).toBeNull();
    const confirmed = { ...copy, confirmedAt: at - DAY + 60_000 };
    expect(attribute({ occurredAt: at, product: null }, [confirmed])?.id).toBe(7);
    // A confirmed copy earlier than a real send loses to the later send.
    expect(attribute({ occurredAt: at, product: null }, [confirmed, t({ id: 8, sentAt: at - 1000 })])?.id).toBe(8);
    // Manual stage changes and template-less touches never take credit.
    expect(attribute({ occurredAt: at, product: null }, [t({ channel: 'manual', sentAt: at - 1 })])).toBeNull();
    expect(attribute({ occurredAt: at, product: null }, [t({ templateId: null, sentAt: at - 1 })])).toBeNull();
  });

  it('churn after touch: the customer deleted the manager within 7 days of the send', () => {
    expect(churnedAfter(0, 7 * DAY, 'customer')).toBe(true);
    expect(churnedAfter(0, 7 * DAY + 1, 'customer')).toBe(false);
    expect(churnedAfter(0, DAY, 'manager')).toBe(false);
    expect(churnedAfter(DAY, 0, 'customer')).toBe(false);
    expect(churnedAfter(0, null, null)).toBe(false);
  });
});

describe('ranking with reasons', () => {
  const customer = (over: Partial<TemplateCustomer> = {}): TemplateCustomer => ({
    externalUserId: 'wmC1',
    maskedName: '王*明',
    gender: 1,
    segment: '高潜',
    bankTags: ['理财客户'],
    usedTemplateIds: [],
    ...over,
  });
  const s = (over: Partial<ScoreInput> = {}): ScoreInput => ({
    id: 1,
    title: '问候',
    content: '您好',
    stage: 2,
    segments: ['高潜'],
    product: null,
    mine: false,
    ...over,
  });

  it('names the stage, segment, tag, campaign and results as Chinese chips', () => {
    const performance = { byTemplate: new Map([[1, { sends: 200, conversions: 60, churns: 0 }]]), baseline: 0.05 };
    const r = rankTemplate(s({ product: '稳享理财', bankTags: ['理财客户'] }), customer(), 2, '', {
      campaignProducts: new Set(['稳享理财']),
      performance,
    });
    expect(r?.reasons).toEqual([REASON.stage(2), '高潜', '理财客户', REASON.campaign, REASON.highConversion]);
    expect(REASON.stage(2)).toBe('第2次触达');
  });

  it('a script targeting bank tags the customer lacks is not suggested', () => {
    expect(rankTemplate(s({ bankTags: ['代发工资'] }), customer(), 2, '')).toBeNull();
  });

  it('an active campaign and a better conversion record rank higher', () => {
    const base = rankTemplate(s({ product: 'A' }), customer(), 2, '')!.score;
    const campaign = rankTemplate(s({ product: 'A' }), customer(), 2, '', { campaignProducts: new Set(['a']) })!.score;
    expect(campaign - base).toBe(SCORE.campaign);
    const good = { byTemplate: new Map([[1, { sends: 100, conversions: 40, churns: 0 }]]), baseline: 0.1 };
    const bad = { byTemplate: new Map([[1, { sends: 100, conversions: 1, churns: 5 }]]), baseline: 0.1 };
    expect(rankTemplate(s(), customer(), 2, '', { performance: good })!.score).toBeGreaterThan(
      rankTemplate(s(), customer(), 2, '', { performance: bad })!.score,
    );
  });

  it('never suggests a received script first', () => {
    const list = rankTemplates(
      [s({ id: 1 }), s({ id: 2, stage: 4, segments: [] })],
      customer({ usedTemplateIds: [1] }),
      2,
      '',
      {},
      10,
    );
    expect(list.map((x) => x.t.id)).toEqual([2, 1]);
    expect(list[1]!.reasons).toContain(REASON.repeat);
  });

  it('offers one wording per variant group, the same one on every reload, and keeps a received one', () => {
    const group = [1, 2, 3].map((id) => s({ id, variantGroup: 'fund-intro' }));
    const first = rankTemplates(group, customer(), 2, '', {}, 10);
    expect(first).toHaveLength(1);
    expect(rankTemplates([...group].reverse(), customer(), 2, '', {}, 10)[0]!.t.id).toBe(first[0]!.t.id);
    const received = first[0]!.t.id === 3 ? 2 : 3;
    expect(variantChoices(group, customer({ usedTemplateIds: [received] })).get('fund-intro')).toBe(received);
    // A search shows every wording.
    expect(rankTemplates(group, customer(), 2, '问候', {}, 10)).toHaveLength(3);
  });

  it('chooses among the wordings the customer is eligible for', () => {
    const group = [s({ id: 1, variantGroup: 'g', segments: ['代发'] }), s({ id: 2, variantGroup: 'g' })];
    for (let i = 0; i < 20; i++) {
      expect(rankTemplates(group, customer({ externalUserId: `c${i}` }), 2, '', {}, 10).map((x) => x.t.id)).toEqual([
        2,
      ]);
    }
  });
});
