import { sendText } from '../../../server/playbook/library';
import type { TemplateCustomer } from '../../../server/playbook/types';
import { fillVariables, VARIABLES, variableProblems } from '../../../server/playbook/variables';
import { DEMO_TEMPLATES } from '../../../server/sandbox/demo-data';

const manager = { userid: 'lilei', name: '李雷', branchName: '西湖支行' };
const customer = (maskedName: string, gender: number): TemplateCustomer => ({
  externalUserId: 'wm1',
  maskedName,
  gender,
  segment: null,
  bankTags: [],
  usedTemplateIds: [],
});

/** The four name/gender combinations. */
const COMBOS: [string, TemplateCustomer | null][] = [
  ['name and gender known', customer('张*明', 1)],
  ['name known, gender unknown', customer('张*明', 0)],
  ['name unknown, gender known', customer('', 2)],
  ['neither known', customer('', 0)],
];

/** Phrases that read as broken Chinese: an orphan 您 before a comma, 您您, a raw placeholder. */
const UNNATURAL = [/(^|[。！？])您[，,：]/, /您您/, /\{\{|\}\}/, /的您/, /^[，,]/, /您好好/];

describe('rendering reads as natural Chinese for every demo script and every name/gender combination', () => {
  const scripts = DEMO_TEMPLATES.map((t) => [t.title, t.content, t.product] as const);
  for (const [label, c] of COMBOS) {
    it.each(scripts)(`${label}: %s`, (_title, content, product) => {
      expect(variableProblems(content)).toEqual([]);
      const out = fillVariables(content, c, manager, product);
      for (const bad of UNNATURAL) expect(out).not.toMatch(bad);
      if (label === 'name and gender known') expect(out).toMatch(/^张先生/);
      else expect(out).not.toMatch(/张/);
    });
  }

  it('the known failure: "{{客户称呼}}，根据您的情况" no longer renders as "您，根据您的情况"', () => {
    expect(fillVariables('{{客户称呼}}，根据您的情况…', null, manager)).toBe('您好，根据您的情况…');
    expect(fillVariables('{{客户称呼}}，根据您的情况…', customer('王*', 2), manager)).toBe('王女士，根据您的情况…');
  });

  it('salutation by context when unknown', () => {
    expect(fillVariables('{{客户称呼}}好', null, manager)).toBe('您好');
    expect(fillVariables('{{客户称呼}}您好！', null, manager)).toBe('您好！');
    expect(fillVariables('尊敬的{{客户称呼}}：', null, manager)).toBe('尊敬的客户：');
    expect(fillVariables('感谢{{客户称呼}}的支持', null, manager)).toBe('感谢您的支持');
  });

  it('the registry lists every variable the demo scripts use', () => {
    const used = new Set(DEMO_TEMPLATES.flatMap((t) => [...t.content.matchAll(/\{\{(.+?)\}\}/g)].map((m) => m[1])));
    const names = new Set(VARIABLES.map((v) => v.name));
    for (const u of used) expect(names).toContain(u);
  });

  it('the send text is the filled body with the disclaimer appended', () => {
    expect(sendText('正文', '【风险提示】理财非存款')).toBe('正文\n\n【风险提示】理财非存款');
    expect(sendText('正文', null)).toBe('正文');
    expect(sendText('正文', '  ')).toBe('正文');
  });
});
