import type { RiskClass } from '../../../server/db/entities/playbook';
import { checkTemplate, type TemplateInput } from '../../../server/playbook/compliance/check';
import { missingDisclaimerPhrases } from '../../../server/playbook/compliance/disclaimers';
import { WordMatcher } from '../../../server/playbook/compliance/matcher';
import { normalise } from '../../../server/playbook/compliance/normalize';
import { DEFAULT_SENSITIVE_WORDS } from '../../../server/playbook/compliance/words';
import { variableProblems } from '../../../server/playbook/variables';

const matcher = new WordMatcher(DEFAULT_SENSITIVE_WORDS);
const input = (over: Partial<TemplateInput> = {}): TemplateInput => ({ title: '问候', body: '您好', ...over });

describe('sensitive words see through evasions and point at the original text', () => {
  const cases: [string, string, string][] = [
    ['plain', '这款产品保本，欢迎了解', '保本'],
    ['full-width letters and digits', '１００％安全的选择', '１００％安全'],
    ['spaces between characters', '稳 赚 不 赔哦', '稳 赚 不 赔'],
    ['zero-width characters', '零\u200b风\u200d险产品', '零\u200b风\u200d险'],
    ['punctuation between characters', '收.益-最·高的一款', '收.益-最·高'],
    ['full-width punctuation', '保，证，收，益', '保，证，收，益'],
    ['traditional forms', '這是無風險產品', '無風險'],
    ['traditional and spaces', '剛 性 兌 付', '剛 性 兌 付'],
    ['BOM and word joiner', '刚\ufeff性\u2060兑付', '刚\ufeff性\u2060兑付'],
  ];
  it.each(cases)('%s', (_name, text, matched) => {
    const hits = matcher.find(text);
    expect(hits).toHaveLength(1);
    expect(hits[0].matched).toBe(matched);
    expect(text.slice(hits[0].start, hits[0].end)).toBe(matched);
    expect(hits[0].start).toBe(text.indexOf(matched));
  });

  it('the longest listed word wins at a position (高收益无风险, not 无风险 again)', () => {
    const hits = matcher.find('高收益无风险');
    expect(hits.map((h) => h.word)).toEqual(['高收益无风险']);
  });

  it('finds every occurrence, with positions', () => {
    const text = '保本！还是保本';
    expect(matcher.find(text).map((h) => h.start)).toEqual([0, 5]);
  });

  it('normalisation maps every normalised character back to the original', () => {
    const n = normalise('Ａ b\u200bＣ');
    expect(n.text).toBe('abc');
    expect(n.map).toEqual([0, 2, 4]);
  });

  it('a negated phrase is what the rules want said', () => {
    const f = checkTemplate(input({ body: '理财产品不保本，不能保证收益' }), matcher);
    expect(f.filter((x) => x.code === 'sensitive_word')).toEqual([]);
  });

  it('each finding names the word, the field and the position, in Chinese', () => {
    const f = checkTemplate(input({ title: '稳 赚', body: '零风险' }), matcher);
    expect(f).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'sensitive_word',
          field: 'title',
          word: '稳赚',
          start: 0,
          end: 3,
          matched: '稳 赚',
        }),
        expect.objectContaining({ code: 'sensitive_word', field: 'body', word: '零风险', start: 0, end: 3 }),
      ]),
    );
    expect(f[0].message).toMatch(/违规用语/);
  });
});

describe('variables', () => {
  it('an unknown or malformed variable is an error with its position', () => {
    expect(variableProblems('{{客户称呼}}好，{{客户姓名}}，{{网点')).toEqual([
      { kind: 'unknown_variable', name: '客户姓名', start: 10, end: 18 },
      { kind: 'malformed_variable', name: '{{', start: 19, end: 21 },
    ]);
    const f = checkTemplate(input({ body: '{{客户姓名}}您好' }), matcher);
    expect(f).toEqual([expect.objectContaining({ code: 'unknown_variable', word: '客户姓名', start: 0 })]);
  });

  it('no variables in a disclaimer (it goes out word for word)', () => {
    const f = checkTemplate(input({ disclaimer: '{{网点}}提示' }), matcher);
    expect(f.map((x) => x.code)).toEqual(['invalid_field']);
  });
});

describe('disclaimer rules', () => {
  const wealth = '【风险提示】理财非存款，产品有风险，投资须谨慎。';
  it.each([
    ['wealth', wealth],
    ['fund', '基金有风险，投资需谨慎。'],
    ['insurance', '本产品为保险产品，不同于银行存款。'],
  ] as [RiskClass, string][])('%s needs its disclaimer and accepts a complete one', (riskClass, good) => {
    const missing = checkTemplate(input({ riskClass }), matcher);
    expect(missing).toEqual([expect.objectContaining({ code: 'missing_disclaimer', field: 'disclaimer' })]);
    expect(missing[0].message).toMatch(/必须附带风险提示/);
    expect(checkTemplate(input({ riskClass, disclaimer: good }), matcher)).toEqual([]);
  });

  it('names what an incomplete disclaimer lacks; full-width punctuation does not matter', () => {
    expect(missingDisclaimerPhrases('wealth', '理财非存款。')).toEqual(['产品有风险', '投资须谨慎']);
    expect(missingDisclaimerPhrases('wealth', '理财非存款 ，产品有风险；投资须谨慎！')).toBeNull();
    const f = checkTemplate(input({ riskClass: 'wealth', disclaimer: '理财非存款。' }), matcher);
    expect(f[0].message).toMatch(/缺少“产品有风险”“投资须谨慎”/);
  });

  it('deposit, loan and none need no disclaimer', () => {
    for (const riskClass of ['deposit', 'loan', 'none'] as RiskClass[]) {
      expect(checkTemplate(input({ riskClass }), matcher)).toEqual([]);
    }
  });

  it('fields: stage 1–4 or any, title and body required', () => {
    expect(checkTemplate(input({ stage: 5 }), matcher).map((f) => f.field)).toEqual(['stage']);
    expect(checkTemplate(input({ stage: null }), matcher)).toEqual([]);
    expect(checkTemplate({ title: ' ', body: '' }, matcher).map((f) => f.field)).toEqual(['title', 'body']);
  });
});
