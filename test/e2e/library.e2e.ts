// The script library in the sidebar, in Chromium at 360 px against the sandbox: 我的话术 with the
// live compliance check, a wealth script's disclaimer reaching the chat, 已发送 after 复制, the
// stage by hand, and a script that expired after the card loaded.
import { bumpCacheVersion } from '../../server/db/cache-version';
import { currentManager, followedLinkedCustomer, sandboxJson, shot, useBrowserSuite } from './helpers';

interface Sent {
  msgtype: string;
  text?: { content: string };
  externalUserId?: string;
  userid?: string;
}

describe('script library in the sidebar (Chromium, 360 px, sandbox)', () => {
  const e2e = useBrowserSuite({ clipboard: true });
  let manager: string;
  /** A customer the current manager follows, not touched yet (every demo segment has a wealth or fund script). */
  let customer: string;

  const sandbox = (method: 'GET' | 'PUT', path: string, body?: unknown) =>
    sandboxJson<{ sent: Sent[] }>(e2e.server, method, `api/jssdk/${path}`, body);
  const open = async () => {
    await sandbox('PUT', 'context', { entry: 'single_chat_tools', externalUserId: customer });
    await e2e.page.goto(`${e2e.server.base}/sidebar/`);
    await e2e.page.waitForSelector('main[data-phase="card"]');
  };
  const stageSelect = () => e2e.page.locator('[data-testid="stage-select"]');

  beforeAll(async () => {
    manager = currentManager(e2e.server);
    const [row] = await e2e.server.app.db.query(
      `SELECT f.external_userid AS ext FROM follows f
         JOIN external_contacts ec ON ec.external_userid = f.external_userid
         JOIN customers c ON c.id = ec.customer_id
        WHERE f.userid = ? AND f.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM touches t WHERE t.external_userid = f.external_userid)
        ORDER BY f.external_userid LIMIT 1`,
      [manager],
    );
    if (!row) throw new Error('the demo data has no untouched customer for the current manager');
    customer = row.ext;
  });

  it('creates a personal script: the live check marks a forbidden word (even written 保 本), fixed, saved, 审核中', async () => {
    const { server, page } = e2e;
    await open();
    await page.click('[data-testid="tab-mine"]');
    await page.click('[data-testid="my-new"]');
    await page.fill('[data-testid="edit-title"]', '我的稳健开场');
    await page.fill('[data-testid="edit-body"]', '{{客户称呼}}好，这款产品保 本，收益也稳健。');
    // marked in the text as written, and explained in Chinese
    const mark = page.locator('[data-testid="check-preview"] [data-testid="finding-mark"]');
    await mark.first().waitFor();
    expect(await mark.first().textContent()).toBe('保 本');
    const explained = (await page.locator('[data-testid="finding"]').allTextContents()).join('\n');
    expect(explained).toContain('「保本」属于违规营销用语');
    expect(explained).not.toMatch(/sensitive_word|errcode|userid/);
    expect(await page.isDisabled('[data-testid="edit-save"]')).toBe(true);
    await shot(page, 'my-template-check-360');

    await page.fill('[data-testid="edit-body"]', '{{客户称呼}}好，这款产品期限灵活，有需要我帮您看看。');
    await page.waitForSelector('[data-testid="check-ok"]');
    expect(await page.locator('[data-testid="finding-mark"]').count()).toBe(0);
    await page.click('[data-testid="edit-save"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("已提交审核")');
    const item = page.locator('li[data-testid^="my-template-"]:has(.item-title:has-text("我的稳健开场"))');
    await item.waitFor();
    expect(await item.locator('[data-testid="my-status"]').textContent()).toBe('审核中');
    // not usable yet: no 发送 / 复制 on it
    expect(await item.locator('[data-testid="my-send"], [data-testid="my-copy"]').count()).toBe(0);
    const [saved] = await server.app.db.query(
      'SELECT status, owner_userid AS owner, content FROM script_templates WHERE title = ?',
      ['我的稳健开场'],
    );
    expect(saved).toEqual({
      status: 'review',
      owner: manager,
      content: '{{客户称呼}}好，这款产品期限灵活，有需要我帮您看看。',
    });
    await shot(page, 'my-template-review-360');
  });

  it('复制 alone leaves the stage; 已发送 moves it (跟进记录 then shows it sent; 存为我的 from there); the stage can be set by hand', async () => {
    const { server, page } = e2e;
    await open();
    expect(await stageSelect().inputValue()).toBe('1');
    const first = page.locator('li[data-testid^="template-"]').first();
    // the list is ranked again after 已发送: the copied script's id is kept for 存为我的 below
    const templateId = Number(((await first.getAttribute('data-testid')) as string).replace('template-', ''));
    await first.locator('[data-testid="copy"]').click();
    await page.waitForSelector('[data-testid="pending-confirm"]');
    expect(await stageSelect().inputValue()).toBe('1');
    await shot(page, 'copy-confirm-360');
    const [copy] = await server.app.db.query(
      'SELECT channel, confirmed_at FROM touches WHERE external_userid = ? ORDER BY id DESC LIMIT 1',
      [customer],
    );
    expect(copy).toEqual({ channel: 'copy', confirmed_at: null });
    await page.click('[data-testid="confirm-sent"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("已记录发送")');
    await page.waitForFunction(
      `document.querySelector('[data-testid="stage-select"]').value === '2' && !document.querySelector('[data-testid="pending-confirm"]')`,
    );
    // 跟进记录 shows the confirmed copy as sent; 存为我的 there opens the editor with the script's own wording
    await page.click('[data-testid="follow-ups-toggle"]');
    const entry = page.locator('[data-testid="timeline"] li[data-testid="timeline-touch"]').first();
    expect(await entry.locator('.badge').textContent()).toBe('发送话术');
    await entry.locator('[data-testid="timeline-save-mine"]').click();
    await page.waitForSelector('[data-testid="template-editor"]');
    const [own] = await server.app.db.query('SELECT title, content FROM script_templates WHERE id = ?', [templateId]);
    expect(await page.inputValue('[data-testid="edit-body"]')).toBe(own.content);
    expect(await page.inputValue('[data-testid="edit-title"]')).toBe(`${own.title}（我的）`);
    expect(await page.getAttribute('[data-testid="tab-mine"]', 'aria-selected')).toBe('true');
    await shot(page, 'timeline-save-mine-360');
    await page.click('[data-testid="edit-cancel"]');
    await stageSelect().selectOption('3');
    await page.waitForSelector('[data-testid="toast"]:has-text("已调整为第3次触达")');
    await page.waitForFunction(`document.querySelector('[data-testid="stage-select"]').value === '3'`);
    // the card agrees after a reload: the stage is the server's
    await open();
    expect(await stageSelect().inputValue()).toBe('3');
  });

  it('sends a wealth script: the risk disclaimer arrives in the sandbox chat', async () => {
    const { page } = e2e;
    await open();
    await page.selectOption('[data-testid="filter-category"]', '产品推荐');
    const wealth = page.locator('li[data-testid^="template-"]:has([data-testid="disclaimer"])').first();
    await wealth.waitFor();
    const shown = ((await wealth.locator('[data-testid="template-content"]').textContent()) ?? '').trim();
    expect(shown).toContain('【风险提示】');
    const before = (await sandbox('GET', 'sent')).sent.length;
    await wealth.locator('[data-testid="send"]').click();
    await page.waitForSelector('[data-testid="toast"]:has-text("已发送")');
    const sent = (await sandbox('GET', 'sent')).sent.slice(before);
    expect(sent[0]).toMatchObject({ msgtype: 'text', externalUserId: customer, userid: manager });
    const text = sent[0].text?.content ?? '';
    expect(text).toBe(shown);
    // the wealth or fund disclaimer, after the body
    expect(text).toMatch(/\n\n【风险提示】(理财非存款，产品有风险|基金有风险)，投资须谨慎。/);
    expect(text).not.toContain('{{');
    await shot(page, 'wealth-sent-360');
  });

  it('a script that expired after the card loaded is refused in Chinese and leaves the list', async () => {
    const { server, page } = e2e;
    await open();
    const item = page.locator('li[data-testid^="template-"]').first();
    const testid = (await item.getAttribute('data-testid')) as string;
    const id = Number(testid.replace('template-', ''));
    // The expiry as a write on another instance makes it: the row and the library's cache version.
    await server.app.db.query('UPDATE script_templates SET expires_at = ? WHERE id = ?', [Date.now() - 1000, id]);
    await bumpCacheVersion(server.app.db, 'script_library', Date.now());
    const before = (await sandbox('GET', 'sent')).sent.length;
    await item.locator('[data-testid="send"]').click();
    await page.waitForSelector('[data-testid="toast"]:has-text("该话术已过期，请选择其他话术")');
    await page.waitForSelector(`[data-testid="${testid}"]`, { state: 'detached' });
    expect((await sandbox('GET', 'sent')).sent.length).toBe(before);
    await shot(page, 'expired-refused-360');
  });
});

describe('我的话术 when the bank does not review personal scripts (PERSONAL_TEMPLATES_REVIEW=false)', () => {
  const e2e = useBrowserSuite({ env: { PERSONAL_TEMPLATES_REVIEW: 'false' }, context: 'all' });
  let customer: string;

  beforeAll(async () => {
    customer = await followedLinkedCustomer(e2e.server, currentManager(e2e.server));
  });

  it('a clean personal script is usable at once (已通过) and 发送 fills its variables', async () => {
    const { server, page } = e2e;
    await fetch(`${server.base}/sandbox/api/jssdk/context`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entry: 'single_chat_tools', externalUserId: customer }),
    });
    await page.goto(`${server.base}/sidebar/`);
    await page.waitForSelector('main[data-phase="card"]');
    await page.click('[data-testid="tab-mine"]');
    await page.click('[data-testid="my-new"]');
    await page.fill('[data-testid="edit-title"]', '我的周末问候');
    await page.fill('[data-testid="edit-body"]', '{{客户称呼}}周末好，我是{{客户经理}}，有需要随时找我。');
    await page.waitForSelector('[data-testid="check-ok"]');
    await page.click('[data-testid="edit-save"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("已保存，可直接使用")');
    const item = page.locator('li[data-testid^="my-template-"]:has(.item-title:has-text("我的周末问候"))');
    expect(await item.locator('[data-testid="my-status"]').textContent()).toBe('已通过');
    const sentNow = async () => (await sandboxJson<{ sent: Sent[] }>(server, 'GET', 'api/jssdk/sent')).sent;
    const before = (await sentNow()).length;
    await item.locator('[data-testid="my-send"]').click();
    await page.waitForSelector('[data-testid="toast"]:has-text("已发送")');
    const sent = await sentNow();
    expect(sent.slice(before)).toHaveLength(1);
    const text = sent[sent.length - 1].text?.content ?? '';
    expect(text).toMatch(/周末好，我是.+，有需要随时找我。$/);
    expect(text).not.toContain('{{');
    await shot(page, 'my-template-approved-sent-360');
  });
});
