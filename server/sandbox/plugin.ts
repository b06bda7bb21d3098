import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { cliRoutes } from './cli-routes';
import { DEMO_MANAGERS, demoFakeSeed } from './demo-data';
import { buildFakeWecom } from './fake-wecom';
import { jssdkMockRoutes } from './jssdk-mock';
import { oauthRoutes } from './oauth';
import { pageRoutes } from './page-routes';
import { newRewardReceiver, rewardReceiverRoutes } from './reward-receiver';
import { seedDemoData } from './seed';
import type { Sandbox } from './state';
import { storyRoutes } from './story';
import { taskRoutes } from './task-routes';

/**
 * The built-in WeCom sandbox (demo mode): the fake API under /sandbox/api/cgi-bin, the JS-SDK mock
 * under /sandbox/api/jssdk, OAuth under /sandbox/oauth, the page and simulator under /sandbox/.
 * Registered only when config.wecom.sandbox is true (config.ts refuses sandbox + real credentials).
 */
export const sandboxPlugin = fp(
  async (app: FastifyInstance) => {
    if (!app.config.wecom.sandbox) return;
    const w = app.config.wecom;
    const fake = buildFakeWecom({
      corpId: w.corpId,
      agentId: w.agentId,
      agentSecret: w.agentSecret,
      contactSecret: w.contactSecret,
      now: () => app.now(),
      seed: demoFakeSeed(),
      qrBase: `${app.config.publicBaseUrl}/sandbox/qr`,
    });
    const sandbox: Sandbox = {
      fake,
      state: { currentManager: DEMO_MANAGERS[1].userid, context: { entry: 'normal' }, sent: [] },
      rewards: newRewardReceiver(),
    };
    app.decorate('sandbox', sandbox);

    await app.register(
      async (api) => {
        await api.register(fake.routes());
        await jssdkMockRoutes(api, sandbox.state);
      },
      // The client already logs every call (api, errcode, ms); the fake's own request lines would double them.
      { prefix: '/sandbox/api', logLevel: 'warn' },
    );
    await app.register(async (o) => oauthRoutes(o, sandbox), { prefix: '/sandbox/oauth' });
    await app.register(async (p) => pageRoutes(p, sandbox), { prefix: '/sandbox' });
    await app.register(async (t) => taskRoutes(t, sandbox), { prefix: '/sandbox' });
    await app.register(async (p) => storyRoutes(p, sandbox), { prefix: '/sandbox' });
    await app.register(async (r) => rewardReceiverRoutes(r, sandbox.rewards), { prefix: '/sandbox' });
    await app.register(cliRoutes, { prefix: '/sandbox' });

    // Seed before any later plugin or request can look at the DB.
    if (app.config.demoData) {
      const seeded = await seedDemoData(app.db, app.now(), app.config.phoneHashSalt);
      if (seeded) app.log.info({ branches: seeded.branches, customers: seeded.customers }, 'sandbox demo data seeded');
    }
  },
  { name: 'sandbox', dependencies: ['wecom'] },
);
