import { addDays, chinaDay, chinaDayStart } from '../../server/lib/china-day';
import { DEMO_TAG_GROUPS } from '../../server/sandbox/demo-data';
import { DEMO_SOP_PLAN_ID } from '../../server/sandbox/seed-sop';
import { currentManager, followedLinkedCustomer, sandboxJson, shot, useBrowserSuite } from './helpers';

/**
 * Issue 13 in Chromium at 360 px: the compact card (first 发送 on the first screen with the whole
 * tag library), the tag sheet, 跟进记录, 今日待办 from the seeded demo, and no lost work when the
 * session expires during a tag change or a send.
 */
/** A script card without attachments: one 发送 puts exactly one message into the chat. */
const TEXT_ONLY = 'li[data-testid^="template-"]:not(:has([data-testid="attachments"])) [data-testid="send"]';

interface Sent {
  msgtype: string;
  text?: { content: string };
  externalUserId?: string;
}

describe('workbench sidebar at 360 px', () => {
  // Quiet hours off: the SOP case creates head-office tasks at any hour.
  const e2e = useBrowserSuite({ clipboard: true, env: { SOP_QUIET_HOURS: 'off' } });
  let manager: string;
  let mine: string;
  const sandbox = <T>(method: 'GET' | 'PUT', path: string, body?: unknown) =>
    sandboxJson<T>(e2e.server, method, path, body);
  const sent = async () => (await sandbox<{ sent: Sent[] }>('GET', 'api/jssdk/sent')).sent;
  const chatWith = (externalUserId: string) =>
    sandbox('PUT', 'api/jssdk/context', { entry: 'single_chat_tools', externalUserId });
  const open = async () => {
    await e2e.page.goto(`${e2e.server.base}/sidebar/`);
    await e2e.page.waitForSelector('main:not([data-phase="loading"]):not([data-phase="redirecting"])');
  };
  const count = async (sql: string, params: unknown[]) => Number((await e2e.server.app.db.query(sql, params))[0].n);

  beforeAll(async () => {
    manager = currentManager(e2e.server);
    mine = await followedLinkedCustomer(e2e.server, manager);
  });

  it('the first script’s 发送 is on the first screen with every tag of the library selected', async () => {
    const { server, page } = e2e;
    // Worst case for the card: every tag of the demo library selected on this customer.
    const all = DEMO_TAG_GROUPS.flatMap((g) => g.tag.map((t) => t.id));
    await server.app.db.query('DELETE FROM contact_tags WHERE external_userid = ? AND userid = ?', [mine, manager]);
    for (const id of all) {
      await server.app.db.query(
        'INSERT INTO contact_tags (external_userid, userid, tag_id, created_at) VALUES (?, ?, ?, ?)',
        [mine, manager, id, Date.now()],
      );
    }
    await chatWith(mine);
    await open();
    expect(await page.getAttribute('main', 'data-phase')).toBe('card');
    expect(await page.locator('[data-testid^="selected-tag-"]').count()).toBe(all.length);
    // The library itself is not on the card: only in the sheet.
    expect(await page.locator('[data-testid="tag-sheet"]').count()).toBe(0);
    const send = page.locator('[data-testid="send"]').first();
    const box = await send.boundingBox();
    const viewport = page.viewportSize();
    expect(box).not.toBeNull();
    expect((box?.y ?? 1e9) + (box?.height ?? 0)).toBeLessThanOrEqual(viewport?.height ?? 0);
    expect(await page.evaluate('window.scrollY')).toBe(0);
    // The card names people, never userids; the profile and the maturing product are there.
    const card = (await page.textContent('[data-testid="customer-card"]')) ?? '';
    expect(card).not.toMatch(/hz_[a-z]+/);
    expect(await page.textContent('[data-testid="serving"]')).toBe('王强');
    await page.waitForSelector('[data-testid="maturing"]');
    expect(await page.textContent('[data-testid="risk"]')).toMatch(/C\d/);
    await page.screenshot({ path: `${__dirname}/../../test-artifacts/e2e/workbench-first-screen-360.png` });
    await shot(page, 'workbench-card-360');
  });

  it('outside a chat: 今日待办 lists the seeded items by kind; a row opens the chat with a suggested script', async () => {
    const { page } = e2e;
    await sandbox('PUT', 'api/jssdk/context', { entry: 'normal' });
    await open();
    expect(await page.getAttribute('main', 'data-phase')).toBe('todo');
    for (const kind of ['followup_due', 'maturing', 'birthday']) {
      await page.waitForSelector(`[data-testid="todo-group-${kind}"]`);
      expect(await page.textContent(`[data-testid="todo-group-${kind}"]`)).toContain('*');
    }
    const maturing = (await page.textContent('[data-testid="todo-group-maturing"]')) ?? '';
    expect(maturing).toContain('到期');
    await shot(page, 'workbench-todo-360');
    await page.locator('[data-testid="todo-group-maturing"] [data-testid="todo-row"]').first().click();
    await page.waitForSelector('[data-testid="todo-script"]');
    await shot(page, 'workbench-todo-suggestion-360');
    await page.click('[data-testid="todo-open-chat"]');
    await page.waitForSelector('main[data-phase="card"]');
    expect(await page.getAttribute('[data-testid="back-to-todo"]', 'data-testid')).toBe('back-to-todo');
    const ctx = await sandbox<{ entry: string; externalUserId?: string }>('GET', 'api/jssdk/context');
    expect(ctx).toEqual({ entry: 'single_chat_tools', externalUserId: mine });
  });

  it('总行任务: a head-office task waiting for this manager shows in 今日待办 until it is sent', async () => {
    const { server, page } = e2e;
    const post = (path: string, body: unknown) =>
      fetch(`${server.base}/sandbox/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('tasks/run', { plan: DEMO_SOP_PLAN_ID })).status).toBe(200);
    const { tasks } = await sandbox<{ tasks: { id: string; sender: string; kind: string; targets: string[] }[] }>(
      'GET',
      'tasks',
    );
    // A group owner (one task per owner) signs in to the sidebar.
    const own = tasks.find((t) => t.kind === 'group');
    expect(own).toBeDefined();
    await sandbox('PUT', 'current-manager', { userid: own!.sender });
    try {
      await sandbox('PUT', 'api/jssdk/context', { entry: 'normal' });
      await open();
      const sop = page.locator('[data-testid="todo-sop"]');
      await sop.waitFor();
      const text = (await sop.textContent()) ?? '';
      expect(text).toContain('总行任务');
      expect(text).toContain('每周财富沙龙预告');
      expect(text).toContain(`请在企业微信「客户群群发」中确认发送到 ${own!.targets.length} 个客户群`);
      expect(text).not.toMatch(/hz_[a-z]+|msgid|group/);
      await shot(page, 'workbench-todo-sop-360');
      const total = async () =>
        Number(/共 (\d+) 项/.exec((await page.textContent('[data-testid="todo-total"]')) ?? '')?.[1]);
      const before = await total();
      // The manager sends it in WeCom (the sandbox's 确认发送): it leaves the list.
      expect((await post(`tasks/${encodeURIComponent(own!.id)}/confirm`, { userid: own!.sender })).status).toBe(200);
      await open();
      await page.waitForSelector('[data-testid="todo-total"]');
      expect(await page.locator('[data-testid="todo-sop"]').count()).toBe(0);
      expect(await total()).toBe(before - 1);
    } finally {
      await sandbox('PUT', 'current-manager', { userid: manager });
    }
  });

  it('编辑标签 opens the library in a sheet; a tap saves; removing the segment tag removes the badge', async () => {
    const { server, page } = e2e;
    await server.app.db.query('DELETE FROM contact_tags WHERE external_userid = ? AND userid = ?', [mine, manager]);
    await server.app.db.query(
      'INSERT INTO contact_tags (external_userid, userid, tag_id, created_at) VALUES (?, ?, ?, ?)',
      [mine, manager, 'etsbxtag_potential', Date.now()],
    );
    await chatWith(mine);
    await open();
    expect(await page.textContent('[data-testid="segment"]')).toBe('高潜');
    await page.click('[data-testid="edit-tags"]');
    await page.waitForSelector('[data-testid="tag-sheet"]');
    const groups = await page.locator('[data-testid="tag-sheet"] .group-name').allTextContents();
    expect(groups).toEqual(DEMO_TAG_GROUPS.map((g) => g.group_name));
    await shot(page, 'workbench-tag-sheet-360');
    await page.click('[data-testid="tag-etsbxtag_potential"]');
    await page.waitForSelector('[data-testid="tag-etsbxtag_potential"][aria-pressed="false"]:not([disabled])');
    await page.click('[data-testid="tag-sheet-done"]');
    expect(await page.locator('[data-testid="segment"]').count()).toBe(0);
    expect(await page.locator('[data-testid="selected-tag-etsbxtag_potential"]').count()).toBe(0);
    expect(
      await count('SELECT COUNT(*) AS n FROM contact_tags WHERE external_userid = ? AND tag_id = ?', [
        mine,
        'etsbxtag_potential',
      ]),
    ).toBe(0);
  });

  it('跟进记录: a note with a next follow-up shows first in the timeline, with the earlier manager’s note', async () => {
    const { page } = e2e;
    await chatWith(mine);
    await open();
    await page.click('[data-testid="follow-ups-toggle"]');
    const before = await page.locator('[data-testid="timeline"] li[data-testid^="timeline-"]').count();
    // The demo has a note by 陈静, who served the customer before.
    expect(await page.textContent('[data-testid="timeline"]')).toContain('陈静');
    await page.click('[data-testid="note-new"]');
    await page.click('[data-testid="note-kind-visit"]');
    await page.fill('[data-testid="note-text"]', '到网点面谈，客户想了解大额存单续存');
    const next = await page.evaluate(
      `(() => { const d = new Date(Date.now() + 3 * 86400000); return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); })()`,
    );
    await page.fill('[data-testid="note-next"]', String(next));
    await page.click('[data-testid="note-save"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("跟进记录已保存")');
    const first = page.locator('[data-testid="timeline"] li[data-testid^="timeline-"]').first();
    expect(await first.textContent()).toContain('到网点面谈');
    expect(await first.textContent()).toContain('拜访');
    expect(await page.locator('[data-testid="timeline"] li[data-testid^="timeline-"]').count()).toBe(before + 1);
    expect(await page.textContent('[data-testid="next-follow-up"]')).not.toContain('未约');
    await shot(page, 'workbench-notes-360');
  });

  it('dates are China’s in a browser set to UTC or New York: today’s follow-up says 今天, times are China time', async () => {
    const { server } = e2e;
    // 03:00 on China's today is still the day before in UTC (19:00) and New York (14:00): a
    // browser-local calendar would call the server's today 明天.
    const today = chinaDay(Date.now());
    const browserNow = chinaDayStart(today) + 3 * 3_600_000;
    const created = Date.now();
    const note = (text: string, next: string, at: number) =>
      server.app.db.query(
        'INSERT INTO follow_notes (external_userid, userid, kind, text, next_follow_up, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [mine, manager, 'call', text, next, at],
      );
    // The newest note's follow-up is the card's 下次跟进.
    await note('时区检查：约了明天', addDays(today, 1), created - 60_000);
    await note('时区检查：约了今天', today, created);
    const china = new Date(created + 8 * 3_600_000).toISOString();
    const chinaTime = `${china.slice(5, 10)} ${china.slice(11, 16)}`;
    try {
      await chatWith(mine);
      for (const timezoneId of ['UTC', 'America/New_York']) {
        const p = await e2e.reopen(360, 780, { timezoneId });
        await p.clock.setFixedTime(browserNow);
        // The case is real: this browser's own calendar is on the day before China's.
        expect(await p.evaluate('new Date().getDate()')).not.toBe(Number(today.slice(8, 10)));
        await p.goto(`${server.base}/sidebar/`);
        await p.waitForSelector('main[data-phase="card"]');
        const next = p.locator('[data-testid="next-follow-up"]');
        expect(await next.textContent()).toBe('下次跟进：今天');
        expect(await next.getAttribute('class')).toContain('due');
        await p.click('[data-testid="follow-ups-toggle"]');
        const todays = p.locator('[data-testid="timeline-note"]', { hasText: '时区检查：约了今天' });
        expect(await todays.textContent()).toContain('约定下次跟进：今天');
        expect(await todays.textContent()).toContain(chinaTime);
        const tomorrows = p.locator('[data-testid="timeline-note"]', { hasText: '时区检查：约了明天' });
        expect(await tomorrows.textContent()).toContain('约定下次跟进：明天');
        await p.click('[data-testid="note-new"]');
        expect(await p.getAttribute('[data-testid="note-next"]', 'min')).toBe(today);
        await shot(p, `workbench-timezone-${timezoneId.replace('/', '-')}-360`);
      }
    } finally {
      await server.app.db.query("DELETE FROM follow_notes WHERE external_userid = ? AND text LIKE '时区检查%'", [mine]);
    }
  });

  it('a cold open logs no 401 and no console error', async () => {
    const { page } = e2e;
    const statuses: number[] = [];
    const errors: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/sidebar/')) statuses.push(r.status());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await chatWith(mine);
    await open();
    expect(await page.getAttribute('main', 'data-phase')).toBe('card');
    expect(statuses.filter((s) => s >= 400)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('an expired session during a tag change: signs in again and saves the tag once', async () => {
    const { server, context, page } = e2e;
    await server.app.db.query('DELETE FROM contact_tags WHERE external_userid = ? AND userid = ?', [mine, manager]);
    await chatWith(mine);
    await open();
    await page.click('[data-testid="edit-tags"]');
    await context.clearCookies();
    const relogin = page.waitForRequest((r) => r.url().endsWith('/api/sidebar/session') && r.method() === 'POST');
    await page.click('[data-testid="tag-etsbxtag_fund"]');
    await relogin;
    await page.waitForSelector('main[data-phase="card"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("重新登录后已保存")');
    expect(await page.textContent('[data-testid="toast"]')).toContain('基金定投');
    await page.waitForSelector('[data-testid="selected-tag-etsbxtag_fund"]');
    expect(
      await count('SELECT COUNT(*) AS n FROM contact_tags WHERE external_userid = ? AND userid = ? AND tag_id = ?', [
        mine,
        manager,
        'etsbxtag_fund',
      ]),
    ).toBe(1);
    expect(await page.locator('[data-testid="unsaved"]').count()).toBe(0);
    await shot(page, 'workbench-resumed-tag-360');
  });

  it('an expired session when 发送 is pressed: nothing goes out, and after sign-in the page says to press it again', async () => {
    const { context, page } = e2e;
    await chatWith(mine);
    await open();
    const sentBefore = (await sent()).length;
    const touchesBefore = await count('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', [mine]);
    await context.clearCookies();
    const relogin = page.waitForRequest((r) => r.url().endsWith('/api/sidebar/session') && r.method() === 'POST');
    await page.locator(TEXT_ONLY).first().click();
    await relogin;
    await page.waitForSelector('main[data-phase="card"]');
    await page.waitForSelector('[data-testid="unsaved"]');
    expect(await page.textContent('[data-testid="unsaved"]')).toContain('请重新点击发送');
    expect((await sent()).length).toBe(sentBefore);
    await page.click('[data-testid="unsaved-dismiss"]');
    await page.locator(TEXT_ONLY).first().click();
    await page.waitForSelector('[data-testid="toast"]:has-text("已发送")');
    expect((await sent()).length).toBe(sentBefore + 1);
    expect(await count('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', [mine])).toBe(touchesBefore + 1);
  });

  it('a session that expires after the message went out: the touch is recorded once after sign-in', async () => {
    const { context, page } = e2e;
    await chatWith(mine);
    await open();
    const sentBefore = (await sent()).length;
    const touchesBefore = await count('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', [mine]);
    // The session ends between prepare (the text) and the touch: that request arrives without it.
    let stripped = false;
    await page.route('**/api/sidebar/touches', async (route) => {
      if (stripped) return route.continue();
      stripped = true;
      await context.clearCookies();
      const headers = { ...route.request().headers() };
      delete headers.cookie;
      await route.continue({ headers });
    });
    const relogin = page.waitForRequest((r) => r.url().endsWith('/api/sidebar/session') && r.method() === 'POST');
    await page.locator(TEXT_ONLY).first().click();
    await relogin;
    await page.waitForSelector('main[data-phase="card"]');
    await page.waitForSelector('[data-testid="toast"]:has-text("重新登录后已保存")');
    expect(stripped).toBe(true);
    expect((await sent()).length).toBe(sentBefore + 1);
    expect(await count('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', [mine])).toBe(touchesBefore + 1);
    // Opening again does not record it a second time.
    await open();
    expect(await count('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', [mine])).toBe(touchesBefore + 1);
    await shot(page, 'workbench-resumed-touch-360');
  });

  it('when sign-in cannot complete, the manager is told what was not saved', async () => {
    const { server, context, page } = e2e;
    await chatWith(mine);
    await open();
    await page.click('[data-testid="edit-tags"]');
    await context.clearCookies();
    // The OAuth page is unreachable: the round trip never completes, the page comes back without a code.
    await page.route('**/sandbox/oauth/**', (route) =>
      route.fulfill({ status: 302, headers: { location: `${server.base}/sidebar/` } }),
    );
    await page.click('[data-testid="tag-etsbxtag_card"]');
    // Three round trips without a cookie: the loop guard stops and the kept change is reported.
    await page.waitForSelector('[data-testid="unsaved"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="unsaved"]')).toContain('信用卡');
    expect(
      await count('SELECT COUNT(*) AS n FROM contact_tags WHERE external_userid = ? AND tag_id = ?', [
        mine,
        'etsbxtag_card',
      ]),
    ).toBe(0);
    await shot(page, 'workbench-unsaved-360');
  });

  it('a failed send says what to do in plain Chinese, in a toast that covers no button', async () => {
    const { page } = e2e;
    await chatWith(mine);
    await open();
    // The chat went away under the page (the sandbox answers like WeCom outside a chat).
    await sandbox('PUT', 'api/jssdk/context', { entry: 'normal' });
    const item = page.locator('li[data-testid^="template-"]').first();
    await item.locator('[data-testid="send"]').click();
    const toast = page.locator('[data-testid="toast"]');
    await toast.waitFor();
    const text = (await toast.textContent()) ?? '';
    expect(text).toContain('发送失败');
    expect(text).toContain('复制');
    expect(text).not.toMatch(/sendChatMessage|fail|permission/i);
    const t = await toast.boundingBox();
    for (const b of await page.locator('button:visible').all()) {
      const bb = await b.boundingBox();
      if (!t || !bb) continue;
      const overlap = t.x < bb.x + bb.width && bb.x < t.x + t.width && t.y < bb.y + bb.height && bb.y < t.y + t.height;
      expect(overlap ? await b.textContent() : null).toBeNull();
    }
    await shot(page, 'workbench-send-failed-360');
  });

  it('a branch lead sees the branch by manager with counts', async () => {
    const { page } = e2e;
    await sandbox('PUT', 'current-manager', { userid: 'hz_chenjing' });
    try {
      await sandbox('PUT', 'api/jssdk/context', { entry: 'normal' });
      await open();
      expect(await page.getAttribute('main', 'data-phase')).toBe('todo');
      await page.click('[data-testid="todo-tab-branch"]');
      const row = page.locator('[data-testid="todo-manager-hz_wangqiang"]');
      await row.waitFor();
      expect(await row.textContent()).toContain('王强');
      expect(await row.textContent()).toMatch(/\d+ 项/);
      expect(await page.textContent('[data-testid="todo-branch"]')).not.toMatch(/hz_[a-z]+/);
      await shot(page, 'workbench-todo-branch-360');
    } finally {
      await sandbox('PUT', 'current-manager', { userid: manager });
    }
  });
});
