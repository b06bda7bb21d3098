import type { Page } from 'playwright-core';
import { DEMO_CUSTOMERS, DEMO_MANAGERS } from '../../server/sandbox/demo-data';
import { shot, useBrowserSuite } from './helpers';

/**
 * The sandbox page's guided story (演示剧本) as a newcomer runs it on a phone (360 px): five
 * clicks from the QR scan to the report, the sidebar opened from step 3 in its own window. The
 * callback worker runs (the welcome and the delete go through it).
 */
describe('sandbox guided story at 360 px', () => {
  const e2e = useBrowserSuite({ env: { WORKER_ENABLED: 'true' }, context: 'all' });
  const managerNames = DEMO_MANAGERS.map((m) => m.name);

  const noSideScroll = async (p: Page) =>
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);

  it('runs from step 1 to step 5, each step showing what it did, without horizontal scroll', async () => {
    const { server, context, page } = e2e;
    await page.goto(`${server.base}/sandbox/`);
    await page.waitForSelector('[data-testid="story-customer"] option', { state: 'attached' });
    await noSideScroll(page);
    // Nobody is named by userid anywhere a reader sees (folded 技术细节 may show ids).
    await page.locator('#hdrManager', { hasNotText: '…' }).waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, without folded details
    expect(await page.innerText('body')).not.toMatch(/hz_[a-z]+/);
    await shot(page, 'story-0-start-360');

    // 1. Scan: the allocation with its reason, naming the manager.
    const customerId = await page.inputValue('[data-testid="story-customer"]');
    const customer = DEMO_CUSTOMERS.find((c) => c.id === customerId);
    expect(customer?.externalUserid).toBeUndefined();
    await page.click('[data-testid="step1"]');
    const r1 = page.locator('[data-testid="step1-result"]');
    await r1.filter({ hasText: '分配原因' }).waitFor();
    const text1 = (await r1.textContent()) ?? '';
    const manager = managerNames.find((n) => text1.includes(`分配给 ${n}`)) as string;
    expect(manager).toBeDefined();
    expect(text1).toContain(customerId);
    expect(text1).not.toMatch(/hz_/);
    await noSideScroll(page);
    await shot(page, 'story-1-scan-360');

    // 2. Add: the welcome appears in the mock chat, the contact is linked to the bank customer.
    await page.click('[data-testid="step2"]');
    await page.waitForSelector('[data-testid="chat"] [data-kind="welcome"]');
    expect(await page.textContent('[data-testid="chat"] [data-kind="welcome"]')).toContain(manager);
    expect(await page.textContent('[data-testid="step2-result"]')).toContain(`已关联银行客户 ${customerId}`);
    await noSideScroll(page);
    await shot(page, 'story-2-welcome-360');

    // 3. The sidebar as that manager, in that chat: the card with the allocation reason and scripts.
    const [sidebar] = await Promise.all([context.waitForEvent('page'), page.click('[data-testid="step3"]')]);
    await sidebar.waitForSelector('main[data-phase="card"]', { timeout: 20_000 });
    expect(await sidebar.textContent('[data-testid="allocation"]')).toContain(manager);
    expect(await sidebar.textContent('[data-testid="customer-name"]')).toContain(customer?.maskedName.slice(0, 1));
    expect(await sidebar.locator('li[data-testid^="template-"]').count()).toBeGreaterThan(0);
    expect(await sidebar.textContent('body')).not.toMatch(/不在会话中|无权限/);
    await shot(sidebar, 'story-3-sidebar-360');

    // 4. Send a script: it appears in the chat on the page.
    const first = sidebar.locator('li[data-testid^="template-"]').first();
    const content = ((await first.locator('[data-testid="template-content"]').textContent()) ?? '').trim();
    await first.locator('[data-testid="send"]').click();
    await sidebar.waitForSelector('[data-testid="toast"]:has-text("已发送")');
    await sidebar.close();
    await page.bringToFront();
    await page.waitForSelector('[data-testid="chat"] [data-kind="sent"]');
    expect(await page.textContent('[data-testid="chat"] [data-kind="sent"]')).toContain(content.slice(0, 20));
    expect(await page.getAttribute('#s4', 'class')).toBe('done');
    await shot(page, 'story-4-sent-360');

    // 5. The customer deletes the manager: the report's churn for that manager goes up by one.
    await page.click('[data-testid="step5"]');
    const r5 = page.locator('[data-testid="step5-result"]');
    await r5.filter({ hasText: '流失' }).waitFor();
    const text5 = (await r5.textContent()) ?? '';
    expect(text5).toContain(manager);
    expect(text5).toMatch(/流失 0 → 1 位/);
    expect(text5).toContain('npm run ops -- report --by manager');
    expect(await page.getAttribute('#s5', 'class')).toBe('done');
    await noSideScroll(page);
    await shot(page, 'story-5-report-360');
  });

  it('the identity follows: switching the manager moves the forms and the chat with them', async () => {
    const { server, page } = e2e;
    await page.goto(`${server.base}/sandbox/`);
    await page.waitForSelector('[data-testid="cur-manager"] option', { state: 'attached' });
    await page.selectOption('[data-testid="cur-manager"]', 'hz_liuyang');
    await page.locator('#hdrManager', { hasText: '刘洋' }).waitFor();
    await page.locator('#hdrPlace', { hasText: '单聊' }).waitFor();
    expect(await page.inputValue('#addMgr')).toBe('hz_liuyang');
    expect(await page.inputValue('#cdMgr')).toBe('hz_liuyang');
    const ctx = (await (await fetch(`${server.base}/sandbox/api/jssdk/context`)).json()) as {
      entry: string;
      externalUserId?: string;
    };
    expect(ctx.entry).toBe('single_chat_tools');
    const follows = server.app.sandbox?.fake.followsOf(ctx.externalUserId as string) ?? [];
    expect(follows.map((f) => f.userid)).toContain('hz_liuyang');
    // Dropdown labels are names and branches, never userids.
    const labels = await page.$$eval('select option', (os) => os.map((o) => o.textContent ?? ''));
    expect(labels.join('\n')).not.toMatch(/hz_|wmsbx|wrsbx/);
    await page.click('#more summary');
    await noSideScroll(page);
    await shot(page, 'story-more-360');
  });
});
