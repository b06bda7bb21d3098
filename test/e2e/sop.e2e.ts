import { DEMO_MOMENTS_PLAN_ID, DEMO_SOP_PLAN_ID } from '../../server/sandbox/seed-sop';
import { planStatus } from '../../server/sop/service';
import { shot, useBrowserSuite } from './helpers';

/**
 * A head-office SOP plan in the sandbox: 立即执行本期 runs the demo's weekly group plan, its
 * mass-send tasks appear on the page (one per group owner), the "manager" confirms one with
 * 确认发送, and `sop status` (the service the CLI prints) shows it sent. Quiet hours are off so
 * the test runs at any hour.
 */
describe('sandbox SOP tasks in the browser', () => {
  const e2e = useBrowserSuite({ env: { SOP_QUIET_HOURS: 'off' }, context: 'all', width: 1280, height: 900 });

  it('a plan task appears, the manager confirms it, status shows it sent', async () => {
    const { server, page } = e2e;
    await page.goto(`${server.base}/sandbox/`);
    await page.waitForSelector(`#sopPlan option[value="${DEMO_SOP_PLAN_ID}"]`, { state: 'attached' });
    await page.selectOption('#sopPlan', DEMO_SOP_PLAN_ID);
    await page.click('#sopRun');
    await page.locator('#sopRunMsg', { hasText: '个任务' }).waitFor();
    const confirm = page.locator('#sopTasks button', { hasText: '确认发送' }).first();
    await confirm.waitFor();
    const rows = await page.locator('#sopTasks tr[data-task-row]').count();
    expect(rows).toBeGreaterThan(0);
    const row = page.locator('#sopTasks tr[data-task-row]').first();
    expect(await row.textContent()).toContain('客户群群发');
    expect(await row.textContent()).toContain('待确认');
    const taskId = await row.getAttribute('data-task-row');
    await shot(page, 'sop-1-tasks');

    // Each sender's reminder is an app textcard: 欢迎语与应用消息 shows it as text, not as its HTML.
    const card = page.locator('#outbox tr', { hasText: '总行SOP' }).first();
    await card.waitFor({ timeout: 15_000 });
    const cardText = (await card.textContent()) ?? '';
    expect(cardText).toContain('应用消息（卡片）');
    expect(cardText).toContain('中确认发送');
    expect(cardText).toMatch(/按钮「知道了」打开 http:\/\/127\.0\.0\.1:\d+\/sidebar\//);
    expect(cardText).not.toMatch(/<\/?div|class=/);
    expect(await card.locator('td').nth(3).locator('br').count()).toBeGreaterThanOrEqual(3);
    await card.scrollIntoViewIfNeeded();
    await shot(page, 'sop-app-message-card');

    await page.locator(`#sopTasks tr[data-task-row="${taskId}"] button`).click();
    await page.locator(`#sopTasks tr[data-task-row="${taskId}"]`, { hasText: '已发送' }).waitFor();
    await shot(page, 'sop-2-confirmed');

    const status = await planStatus(server.app.db, DEMO_SOP_PLAN_ID);
    expect(status.totals.tasks).toBe(rows);
    expect(status.totals.sent).toBe(1);
    const sender = server.app.sandbox!.fake.massSend.tasks.get(taskId as string)!.sender;
    expect(status.rows.find((r) => r.sender === sender)).toMatchObject({ sent: 1, notSent: 0, open: 0 });
    expect(status.rows.filter((r) => r.open > 0)).toHaveLength(rows - 1);
  });

  it('a moments plan: one WeCom task carries every manager; each publishes on their own', async () => {
    const { server, page } = e2e;
    await page.goto(`${server.base}/sandbox/`);
    await page.waitForSelector(`#sopPlan option[value="${DEMO_MOMENTS_PLAN_ID}"]`, { state: 'attached' });
    await page.selectOption('#sopPlan', DEMO_MOMENTS_PLAN_ID);
    await page.click('#sopRun');
    await page.locator('#sopRunMsg', { hasText: '位客户经理待发表朋友圈' }).waitFor();
    const rows = page.locator('#sopTasks tr[data-task-row]', { hasText: '客户朋友圈' });
    await rows.first().waitFor();
    const n = await rows.count();
    expect(n).toBeGreaterThan(1);
    // Every manager's row is the same WeCom task (one add_moment_task for all of them).
    const ids = new Set<string>();
    for (let i = 0; i < n; i++) ids.add((await rows.nth(i).getAttribute('data-task-row')) as string);
    expect(ids.size).toBe(1);
    expect(server.app.sandbox!.fake.count('externalcontact/add_moment_task')).toBe(1);
    // Times on the page are China time, whatever the browser's zone (the machine's: UTC here).
    const moment = [...server.app.sandbox!.fake.massSend.moments.values()][0];
    const china = new Date(moment.createdAt).toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
    expect((await rows.first().locator('td').first().textContent())?.trim()).toBe(china);
    const first = rows.first();
    const sender = (await first.getAttribute('data-sender')) as string;
    expect(await first.textContent()).toContain('待确认');
    await first.locator('button', { hasText: '确认发送' }).click();
    await page
      .locator(`#sopTasks tr[data-sender="${sender}"]`, { hasText: '客户朋友圈' })
      .filter({ hasText: '已发送' })
      .waitFor();
    await shot(page, 'sop-3-moment-published');

    const status = await planStatus(server.app.db, DEMO_MOMENTS_PLAN_ID);
    expect(status.momentJobs).toMatchObject({ total: 1, senders: n, published: 1 });
    expect(status.rows.find((r) => r.sender === sender)).toMatchObject({ senderConfirmed: 1, open: 0 });
    expect(status.rows.filter((r) => r.open > 0)).toHaveLength(n - 1);
  });
});
