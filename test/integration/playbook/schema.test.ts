import { ScriptTemplate, SensitiveWord } from '../../../server/db/entities';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';

describe.each(DB_TARGETS)('script library migration on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  beforeAll(async () => {
    fresh = await openFreshDb(target);
  });
  afterAll(async () => {
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('installs one approved, neutral welcome script so a fresh install is never silent', async () => {
    const rows = await fresh.ds.getRepository(ScriptTemplate).find();
    expect(rows).toHaveLength(1);
    const [w] = rows;
    expect(w).toMatchObject({
      channel: 'welcome',
      status: 'approved',
      ownerUserid: null,
      stage: null,
      riskClass: 'none',
      expiresAt: null,
      version: 1,
      lineageId: w.id,
      createdBy: 'system',
    });
    expect(w.content).toMatch(/\{\{客户经理\}\}/);
  });

  it('ships the default sensitive words', async () => {
    const words = await fresh.ds.getRepository(SensitiveWord).find();
    const list = words.map((w) => w.word);
    for (const w of ['保本', '稳赚', '无风险', '零风险', '收益最高', '刚性兑付', '高收益无风险', '保证收益']) {
      expect(list).toContain(w);
    }
    expect(words.every((w) => w.source === 'default' && w.note)).toBe(true);
  });

  it('keeps every template column writable, stage null = any', async () => {
    const repo = fresh.ds.getRepository(ScriptTemplate);
    const now = Date.now();
    const res = await repo.insert({
      title: '基金定投',
      content: '{{客户称呼}}好',
      stage: null,
      segments: '高潜',
      bankTags: '理财偏好',
      product: '基金定投',
      riskClass: 'fund',
      channel: 'chat',
      category: '产品推荐',
      variantGroup: 'fund-intro',
      variant: 'B',
      ownerUserid: 'lilei',
      status: 'review',
      lineageId: 7,
      version: 2,
      expiresAt: null,
      disclaimer: '基金有风险，投资须谨慎。',
      attachments: [{ type: 'link', title: 'x', url: 'https://bank.example/' }],
      createdBy: 'lilei',
      submittedAt: now,
      reviewComment: null,
      createdAt: now,
      updatedAt: now,
    });
    const row = await repo.findOneByOrFail({ id: res.identifiers[0].id as number });
    expect(row).toMatchObject({ stage: null, riskClass: 'fund', variantGroup: 'fund-intro', version: 2, lineageId: 7 });
  });
});
