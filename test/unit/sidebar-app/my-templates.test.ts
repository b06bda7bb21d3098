import { explainFinding, highlight } from '../../../sidebar-app/src/composables/compliance';
import { toInput, useMyTemplates } from '../../../sidebar-app/src/composables/useMyTemplates';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import type { Finding, LibraryTemplate } from '../../../sidebar-app/src/services/types';
import { flush, scriptedFetch } from './fakes';

const bao: Finding = {
  code: 'sensitive_word',
  field: 'body',
  word: '保本',
  note: '承诺保本，违反资管新规打破刚兑的要求',
  start: 4,
  end: 7,
  matched: '保 本',
  message: '含违规用语“保本”（写作“保 本”）：承诺保本，违反资管新规打破刚兑的要求',
};

function lib(over: Partial<LibraryTemplate> = {}): LibraryTemplate {
  return {
    id: 11,
    lineageId: 11,
    version: 1,
    title: '我的问候',
    body: '{{客户称呼}}您好',
    category: null,
    stage: null,
    segments: [],
    bankTags: [],
    product: null,
    riskClass: 'none',
    channel: 'chat',
    variantGroup: null,
    variant: null,
    owner: 'lilei',
    status: 'review',
    author: 'lilei',
    reviewer: null,
    submittedAt: '2026-11-23T02:00:00.000Z',
    reviewedAt: null,
    reviewComment: null,
    expiresAt: null,
    supersededBy: null,
    disclaimer: null,
    attachments: [],
    ...over,
  };
}

function setup(routes: Parameters<typeof scriptedFetch>[0] = {}) {
  const f = scriptedFetch(routes);
  const toast = useToast({ setTimer: () => 0 });
  const timers: Array<() => void> = [];
  let changed = 0;
  const m = useMyTemplates({
    api: createSidebarApi(createHttpClient({ fetch: f.fetch })),
    toast,
    onChanged: () => void changed++,
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => timers.splice(0),
  });
  return { ...f, m, toast, timers, changed: () => changed };
}

describe('compliance display', () => {
  it('explains a sensitive word in Chinese, naming the evasion as written', () => {
    const text = explainFinding(bao);
    expect(text).toBe(
      '「保本」属于违规营销用语（原文写作「保 本」）：承诺保本，违反资管新规打破刚兑的要求。请删除，或改为客观表述（如“产品有风险，过往业绩不代表未来表现”）。',
    );
    expect(
      explainFinding({ code: 'missing_disclaimer', field: 'disclaimer', message: '理财类话术必须附带风险提示' }),
    ).toBe('理财类话术必须附带风险提示');
    expect(explainFinding({ code: 'unknown_variable', field: 'body', word: '姓名', message: 'x' })).toContain(
      '「{{姓名}}」不是可用的变量',
    );
  });

  it('cuts the text at the findings of one field; overlapping spans merge', () => {
    const body = '这款产品保 本保息，放心';
    const pieces = highlight(body, [bao, { ...bao, word: '保本保息', start: 4, end: 9 }], 'body');
    expect(pieces.map((p) => [p.text, p.finding !== null])).toEqual([
      ['这款产品', false],
      ['保 本保息', true],
      ['，放心', false],
    ]);
    expect(pieces.map((p) => p.text).join('')).toBe(body);
    // findings of another field, or without a position, mark nothing
    expect(
      highlight(
        body,
        [
          { ...bao, field: 'title' },
          { ...bao, start: undefined },
        ],
        'body',
      ),
    ).toEqual([{ text: body, finding: null }]);
  });
});

describe('useMyTemplates', () => {
  it('lists the manager’s own scripts newest first', async () => {
    const s = setup({
      'GET /api/sidebar/my-templates': {
        status: 200,
        body: { templates: [lib({ id: 3 }), lib({ id: 9, status: 'approved' })] },
      },
    });
    await s.m.load();
    expect(s.m.state.items.map((t) => t.id)).toEqual([9, 3]);
    expect(s.m.state.loaded).toBe(true);
  });

  it('checks live while typing: one debounced check, the latest answer wins, marks only for the checked text', async () => {
    const answers: Array<() => void> = [];
    const s = setup({
      'POST /api/sidebar/templates/check': async (call) => {
        const body = (call.body as { body: string }).body;
        await new Promise<void>((r) => answers.push(r));
        return { status: 200, body: { findings: body.includes('保 本') ? [bao] : [] } };
      },
    });
    s.m.openNew();
    s.m.edit('title', '问候');
    s.m.edit('body', '这款产品保 本');
    expect(s.timers).toHaveLength(1);
    s.timers[0]();
    await flush();
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0].body).toEqual({
      title: '问候',
      body: '这款产品保 本',
      category: null,
      stage: null,
      product: null,
      riskClass: 'none',
      disclaimer: null,
    });
    // the manager fixes the word before the first answer arrives
    s.m.edit('body', '这款产品收益稳健');
    s.timers.splice(0)[0]?.();
    s.timers.length = 0;
    await flush();
    answers[1]();
    await flush();
    answers[0]();
    await flush();
    const ed = s.m.state.editor!;
    expect(ed.findings).toEqual([]);
    expect(ed.checkedFor).toEqual({ title: '问候', body: '这款产品收益稳健', disclaimer: '' });
    expect(ed.checking).toBe(false);
  });

  it('saves a new script; 审核中 when the bank reviews personal scripts', async () => {
    const s = setup({
      'POST /api/sidebar/templates/check': { status: 200, body: { findings: [] } },
      'POST /api/sidebar/my-templates': (call) => ({
        status: 200,
        body: { template: lib({ id: 12, title: (call.body as { title: string }).title }) },
      }),
    });
    s.m.openNew();
    s.m.edit('title', '生日问候');
    s.m.edit('body', '{{客户称呼}}生日快乐');
    await expect(s.m.save()).resolves.toBe(true);
    expect(s.m.state.editor).toBeNull();
    expect(s.m.state.items.map((t) => [t.id, t.status])).toEqual([[12, 'review']]);
    expect(s.toast.items.at(-1)?.text).toBe('已提交审核，审核通过后即可使用');
    expect(s.changed()).toBe(1);
  });

  it('a save refused for findings keeps the editor open with them, in Chinese', async () => {
    const s = setup({
      'POST /api/sidebar/my-templates': {
        status: 422,
        body: { error: { code: 'template_noncompliant', message: 'x', details: { findings: [bao] } } },
      },
    });
    s.m.openNew();
    s.m.edit('title', '问候');
    s.m.edit('body', '这款产品保 本');
    await expect(s.m.save()).resolves.toBe(false);
    const ed = s.m.state.editor!;
    expect(ed.findings).toEqual([bao]);
    expect(ed.saveError).toBe('未通过合规检查，请按提示修改后再保存');
    expect(ed.checkedFor?.body).toBe('这款产品保 本');
  });

  it('存为我的话术 starts from the script’s own wording (variables unfilled), attachments kept', async () => {
    const link = { type: 'link', title: '理财产品一览', url: 'https://bank.example/w' };
    const s = setup({
      'GET /api/sidebar/templates/5/source': {
        status: 200,
        body: {
          source: {
            title: '稳健理财推荐',
            body: '{{客户称呼}}，{{产品}}期限灵活。',
            category: '理财',
            stage: 2,
            segments: ['高潜'],
            product: '稳健理财',
            riskClass: 'wealth',
            disclaimer: '【风险提示】理财非存款，产品有风险，投资须谨慎。',
            attachments: [link],
          },
        },
      },
      'POST /api/sidebar/templates/check': { status: 200, body: { findings: [] } },
    });
    await expect(s.m.saveAsMine({ id: 5, title: '稳健理财推荐' })).resolves.toBe(true);
    const ed = s.m.state.editor!;
    expect(ed.id).toBeNull();
    expect(ed.form).toMatchObject({
      title: '稳健理财推荐（我的）',
      body: '{{客户称呼}}，{{产品}}期限灵活。',
      stage: 2,
    });
    expect(toInput(ed.form, ed.carried)).toMatchObject({
      riskClass: 'wealth',
      disclaimer: '【风险提示】理财非存款，产品有风险，投资须谨慎。',
      segments: ['高潜'],
      attachments: [link],
    });
    // the prefilled draft is checked at once
    await flush();
    expect(s.calls.map((c) => c.url)).toEqual(['/api/sidebar/templates/5/source', '/api/sidebar/templates/check']);
  });

  it('deletes only on the second click', async () => {
    const s = setup({
      'GET /api/sidebar/my-templates': { status: 200, body: { templates: [lib({ id: 4 })] } },
      'DELETE /api/sidebar/my-templates/4': { status: 200, body: { template: lib({ id: 4, status: 'retired' }) } },
    });
    await s.m.load();
    const t = s.m.state.items[0];
    await expect(s.m.remove(t)).resolves.toBe(false);
    expect(s.m.state.confirmDeleteId).toBe(4);
    expect(s.calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    await expect(s.m.remove(t)).resolves.toBe(true);
    expect(s.m.state.items).toEqual([]);
    expect(s.toast.items.at(-1)?.text).toBe('已删除');
  });

  it('a disclaimer left from another class is not sent', () => {
    expect(
      toInput({
        title: 't',
        body: 'b',
        category: '',
        stage: 0,
        product: '',
        riskClass: 'none',
        disclaimer: '理财非存款',
      }).disclaimer,
    ).toBeNull();
  });
});
