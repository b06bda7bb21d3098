import { Referral, ReferralCode } from '../../server/db/entities';
import { simulateAddContact } from '../../server/sandbox/simulator';
import { currentManager, followedLinkedCustomer, sandboxJson, shot, useBrowserSuite } from './helpers';

/**
 * 生成推荐码 in Chromium against the sandbox: the manager opens a customer's card, makes the
 * customer's referral code, sees its QR link; a friend adding through it (a sandbox scan) is
 * attributed to the customer.
 */
describe('sidebar 生成推荐码 in Chromium', () => {
  // The callback worker runs: the friend's add goes through the real inbox.
  const e2e = useBrowserSuite({ env: { WORKER_ENABLED: 'true' }, context: 'all' });
  let manager: string;
  let mine: string;

  beforeAll(async () => {
    manager = currentManager(e2e.server);
    mine = await followedLinkedCustomer(e2e.server, manager);
    await sandboxJson(e2e.server, 'PUT', 'api/jssdk/context', { entry: 'single_chat_tools', externalUserId: mine });
  });

  it('makes the code from the card, shows its link, and a friend adding through it is the customer’s referral', async () => {
    const { server, page } = e2e;
    await page.goto(`${server.base}/sidebar/`);
    await page.waitForSelector('main[data-phase="card"]');
    await page.click('[data-testid="referral-generate"]');
    await page.waitForSelector('[data-testid="referral-link"]');
    const link = await page.getAttribute('[data-testid="referral-link"]', 'href');
    const code = await server.app.db.manager.findOneByOrFail(ReferralCode, { referrerExternalUserid: mine });
    expect(code.userid).toBe(manager);
    expect(link).toBe(code.qrCode);
    expect(await page.textContent('[data-testid="referral"]')).toContain('好友添加后计入推荐');
    // Nothing internal on screen: no state, no userid.
    expect(await page.textContent('main')).not.toContain(code.state);
    await shot(page, 'referral-code');

    // Asking again shows the same code.
    await page.click('[data-testid="referral-generate"]');
    await page.waitForSelector('[data-testid="referral-generate"]:not([disabled])');
    expect(await page.getAttribute('[data-testid="referral-link"]', 'href')).toBe(code.qrCode);
    expect(await server.app.db.manager.countBy(ReferralCode, { referrerExternalUserid: mine })).toBe(1);

    // A friend scans it in the sandbox.
    const friend = await simulateAddContact(server.app, { userid: manager, state: code.state });
    const deadline = Date.now() + 30_000;
    let referral: Referral | null = null;
    while (!referral && Date.now() < deadline) {
      referral = await server.app.db.manager.findOneBy(Referral, { referredExternalUserid: friend.externalUserId! });
      if (!referral) await new Promise((r) => setTimeout(r, 100));
    }
    expect(referral).toMatchObject({ referrerExternalUserid: mine, userid: manager, reason: 'eligible' });
  });
});
