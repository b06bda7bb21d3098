import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { SopTask } from '../../server/db/entities';
import { buildFakeWecom, type FakeWecom } from '../../server/sandbox/fake-wecom';

import { applyPlan } from '../../server/sop/service';
import { DB_TARGETS, openFreshDb } from '../helpers/db';
import { seedOrg } from '../integration/allocation/seed';
import { SANDBOX_MEMBERS } from '../integration/contacts/harness';
import { seedSop } from '../integration/sop/seed';
import { type OpsRun, spawnOps } from './ops-process';

/**
 * Exactly one WeCom mass-send task per sender across a `kill -9` between add_msg_template and its
 * record. WeCom has no idempotency key for it. The SOP runner is a real process (`ops sop run
 * --apply`, the sop-delivery job's work) talking to the fake WeCom over HTTP. The fake carries out
 * the first add_msg_template (the task exists in WeCom) and never sends the answer; the runner is
 * SIGKILLed while it waits. A second run while the dead claim is live creates the other sender's
 * task only; a run after the claim expires finds the lost task with get_groupmsg_list_v2 and adopts
 * it: one task per sender in WeCom, each recorded.
 */

const CORP = 'wwsopkill9corp01';
const AGENT_SECRET = 'sop-kill9-agent-secret';
const CONTACT_SECRET = 'sop-kill9-contact-secret';
const LEASE_SECONDS = 5;

interface SwallowingWecom {
  fake: FakeWecom;
  url: string;
  /** Resolves once the first add_msg_template was carried out and its answer withheld. */
  swallowed: Promise<void>;
  close(): Promise<void>;
}

async function startWecom(): Promise<SwallowingWecom> {
  const fake = buildFakeWecom({
    corpId: CORP,
    agentId: '1000002',
    agentSecret: AGENT_SECRET,
    contactSecret: CONTACT_SECRET,
    now: () => Date.now(),
    seed: {
      users: SANDBOX_MEMBERS.map((userid) => ({
        userid,
        name: userid,
        department: [1],
        main_department: 1,
        status: 1,
      })),
      departments: [{ id: 1, name: '总行', parentid: 0, order: 1 }],
    },
  });
  let swallow = true;
  let onSwallow: () => void = () => {};
  const swallowed = new Promise<void>((r) => {
    onSwallow = r;
  });
  const app: FastifyInstance = Fastify({ logger: false });
  app.addHook('onSend', async (req, _reply, payload) => {
    if (swallow && req.url.includes('/externalcontact/add_msg_template')) {
      swallow = false;
      onSwallow();
      // WeCom made the task; the answer never leaves.
      await new Promise(() => {});
    }
    return payload;
  });
  await app.register(fake.routes());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    fake,
    url: `http://127.0.0.1:${port}`,
    swallowed,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

function sopRun(dbUrl: string, apiBase: string, planId: string): OpsRun {
  return spawnOps(['sop', 'run', planId, '--apply', '--json', '--lease-seconds', String(LEASE_SECONDS)], {
    DATABASE_URL: dbUrl,
    WECOM_SANDBOX: 'false',
    WECOM_CORP_ID: CORP,
    WECOM_CALLBACK_TOKEN: 'Qm8bKsYcT4wNv2Lr',
    WECOM_CALLBACK_AES_KEY: 'bAnK7cRm9QxW2eTz5yHu8jPk3LnV6sDf4gJa1oIq0Zd',
    WECOM_AGENT_ID: '1000002',
    WECOM_AGENT_SECRET: AGENT_SECRET,
    WECOM_CONTACT_SECRET: CONTACT_SECRET,
    WECOM_API_BASE: apiBase,
    SESSION_SECRET: 's'.repeat(32),
    ENTRY_SECRET: 'e'.repeat(32),
    PHONE_HASH_SALT: 'p'.repeat(32),
    SECRETS_KEY: 'd'.repeat(64),
    PUBLIC_BASE_URL: 'https://cm.bank.example',
    SOP_QUIET_HOURS: 'off',
  });
}

describe.each(DB_TARGETS)('SOP mass sends across kill -9 on %s', (target) => {
  it('one WeCom task per sender: a runner killed between add_msg_template and its record', async () => {
    const fresh = await openFreshDb(target);
    const wecom = await startWecom();
    try {
      const now = Date.now();
      await seedOrg(fresh.ds, now);
      const tpl = await seedSop(fresh.ds, wecom.fake, now);
      await applyPlan(
        fresh.ds,
        {
          id: 'k9-chat',
          name: '手机银行活动',
          channel: 'chat',
          audience: { customers: { branches: ['HZ01'] } },
          schedule: '0 10 * * *',
          template: tpl.chat,
        },
        { actor: 'test', now, apply: true },
      );
      const bySender = () => {
        const out = new Map<string, string[]>();
        for (const t of wecom.fake.massSend.tasks.values()) out.set(t.sender, [...(out.get(t.sender) ?? []), t.msgid]);
        return out;
      };

      // 1. The runner creates its first task in WeCom; kill -9 before the answer arrives.
      const first = sopRun(fresh.url, wecom.url, 'k9-chat');
      await wecom.swallowed;
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      const made = bySender();
      expect([...made.values()].map((ids) => ids.length)).toEqual([1]);
      const [lostSender] = [...made.keys()];
      const held = await fresh.ds.manager.findOneByOrFail(SopTask, { planId: 'k9-chat', senderUserid: lostSender });
      expect(held).toMatchObject({ status: 'pending', msgid: null });
      expect(held.createStartedAt).not.toBeNull();
      expect(held.lockedBy).toMatch(/^ops:/);

      // 2. A new run while the dead claim is live: the other sender's task, not the held one.
      const second = await sopRun(fresh.url, wecom.url, 'k9-chat').done;
      expect(second.code).toBe(0);
      expect(JSON.parse(second.out)).toMatchObject({ dispatched: 1 });
      expect(bySender().get(lostSender)).toHaveLength(1);

      // 3. After the claim expires: found in WeCom (get_groupmsg_list_v2), adopted, not made again.
      await new Promise((r) => setTimeout(r, Math.max(0, Number(held.lockedUntil) - Date.now()) + 500));
      const lists = wecom.fake.count('externalcontact/get_groupmsg_list_v2');
      const third = await sopRun(fresh.url, wecom.url, 'k9-chat').done;
      expect(third.code).toBe(0);
      expect(JSON.parse(third.out)).toMatchObject({ dispatched: 1 });
      expect(wecom.fake.count('externalcontact/get_groupmsg_list_v2')).toBeGreaterThan(lists);

      const final = bySender();
      expect([...final.entries()].map(([s, ids]) => [s, ids.length]).sort()).toEqual([
        ['li_hz01', 1],
        ['wang_hz01', 1],
      ]);
      const tasks = await fresh.ds.manager.find(SopTask, { where: { planId: 'k9-chat' } });
      expect(tasks.map((t) => t.status)).toEqual(['open', 'open']);
      for (const t of tasks) {
        expect(final.get(t.senderUserid)).toEqual([t.msgid]);
        expect(t).toMatchObject({ createStartedAt: null, lockedBy: null });
      }
      expect(wecom.fake.count('externalcontact/add_msg_template')).toBe(2);
    } finally {
      await wecom.close();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  }, 120_000);
});
