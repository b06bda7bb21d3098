import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { build } from '../../../server/app';
import { InboxEvent } from '../../../server/db/entities';
import { signEntry } from '../../../server/entry/signature';
import type { FakeWecom } from '../../../server/sandbox/fake-wecom';
import { type DbTarget, openFreshDb, testConfig } from '../../helpers/db';
import { seedOrg, seedWelcomeTemplate } from '../allocation/seed';

/**
 * The whole service on a fresh database with the sandbox as WeCom: the real callback route and
 * inbox worker, the fake API behind app.wecom. Time is a settable clock shared by app and fake.
 */
export interface Harness {
  app: FastifyInstance;
  fake: FakeWecom;
  clock: { now: number };
  /** Runs the worker until no inbox row is pending or processing (bounded). */
  settle(): Promise<void>;
  allocate(body: object, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const SANDBOX_MEMBERS = ['wang_hz01', 'li_hz01', 'zhao_hz02', 'chen_sh01'];

export async function harness(target: DbTarget, env: Record<string, string> = {}): Promise<Harness> {
  const fresh = await openFreshDb(target);
  const clock = { now: Date.now() };
  await seedOrg(fresh.ds, clock.now);
  await seedWelcomeTemplate(fresh.ds, clock.now);
  const app = await build(testConfig(fresh.url, env), { db: fresh.ds, now: () => clock.now, worker: false });
  await app.ready();
  const fake = app.sandbox!.fake;
  fake.load({
    users: SANDBOX_MEMBERS.map((userid) => ({ userid, name: userid, department: [1], main_department: 1, status: 1 })),
  });

  const settle = async () => {
    // Bounded by time, not by turns: an expedited add (welcome first, then the slow part) can take
    // a while on a loaded CI machine.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await app.worker.drain();
      const busy = await fresh.ds.manager
        .createQueryBuilder(InboxEvent, 'i')
        .where("i.status IN ('pending', 'processing')")
        .getCount();
      if (busy === 0) return;
      // An expedited row is being processed outside drain(): let it run.
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('inbox did not settle');
  };

  const allocate = (body: object, headers: Record<string, string> = {}) => {
    const raw = JSON.stringify(body);
    const ts = String(Math.floor(clock.now / 1000));
    return app.inject({
      method: 'POST',
      url: '/api/entry/allocate',
      headers: {
        'content-type': 'application/json',
        'x-entry-timestamp': ts,
        'x-entry-signature': signEntry(app.config.entrySecret, ts, raw),
        ...headers,
      },
      payload: raw,
    });
  };

  return {
    app,
    fake,
    clock,
    settle,
    allocate,
    close: async () => {
      await app.close();
      await fresh.ds.destroy();
      await fresh.drop();
    },
  };
}
