import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCampaignSpec } from '../../server/campaigns/file';
import { decideOnAdd, specToRow } from '../../server/campaigns/service';
import { verifyRewardSignature } from '../../server/campaigns/signature';
import { Campaign, RewardOutbox } from '../../server/db/entities';
import { DB_TARGETS, openFreshDb } from '../helpers/db';
import { type OpsRun, spawnOps } from './ops-process';

/**
 * Exactly one reward across a `kill -9` between the POST and its record. The sender is a real
 * process (`ops campaigns rewards deliver --apply`, the reward-delivery job's work); the bank is an
 * HTTP receiver in this test that verifies the signature and accepts each idempotency key once.
 * The receiver takes the first request, records its key as accepted, and never answers: the sender
 * is SIGKILLed while its POST is in flight, so its batch (two rows: `--limit 2`) stays claimed and
 * unrecorded, one of them POSTed. A second sender run leaves that batch alone while the dead claim
 * is live; a run after the claim expires POSTs both: the POSTed one again with the same key (the
 * bank sees a duplicate, pays once), the other for the first time.
 * Before that, the decisions: a redelivered add and a re-add under another external_userid with
 * the same unionid (after a delete) write no second outbox row.
 */

const SECRET = 'reward-kill9-secret-0123456789';
const CUSTOMERS = 6;
const LEASE_SECONDS = 15;

interface Receiver {
  url: string;
  /** Every request's key, in order (the bank's access log). */
  received: string[];
  accepted: Set<string>;
  badSignatures: number;
  /** Resolves with the key of the request the receiver swallowed (recorded, never answered). */
  swallowed: Promise<string>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: string[] = [];
  const accepted = new Set<string>();
  const open = new Set<http.ServerResponse>();
  let swallow = true;
  let onSwallow: (key: string) => void = () => {};
  const swallowed = new Promise<string>((r) => {
    onSwallow = r;
  });
  const state = { badSignatures: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const h = (n: string) => (typeof req.headers[n] === 'string' ? (req.headers[n] as string) : undefined);
      if (verifyRewardSignature(SECRET, h('x-reward-timestamp'), h('x-reward-signature'), raw, Date.now())) {
        state.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const key = (JSON.parse(raw) as { idempotencyKey: string }).idempotencyKey;
      received.push(key);
      const duplicate = accepted.has(key);
      accepted.add(key);
      if (swallow) {
        // Paid on the bank's side; the answer never leaves.
        swallow = false;
        open.add(res);
        onSwallow(key);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ duplicate }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/rewards`,
    received,
    accepted,
    get badSignatures() {
      return state.badSignatures;
    },
    swallowed,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function deliver(dbUrl: string, receiverUrl: string, extra: string[] = []): OpsRun {
  return spawnOps(
    ['campaigns', 'rewards', 'deliver', '--apply', '--json', '--lease-seconds', String(LEASE_SECONDS), ...extra],
    {
      DATABASE_URL: dbUrl,
      WECOM_SANDBOX: 'true',
      REWARD_WEBHOOK_URL: receiverUrl,
      REWARD_WEBHOOK_SECRET: SECRET,
    },
  );
}

describe.each(DB_TARGETS)('reward outbox across kill -9 on %s', (target) => {
  it('one reward per customer: redelivered add, re-add after delete, and a sender killed between POST and record', async () => {
    const fresh = await openFreshDb(target);
    const receiver = await startReceiver();
    try {
      const now = Date.now();
      const spec = parseCampaignSpec({
        code: 'k9-ljj',
        name: '立减金',
        startsAt: now - 86_400_000,
        endsAt: now + 86_400_000,
        reward: { kind: 'voucher', amount: 10 },
        newCustomersOnly: false,
      });
      await fresh.ds.manager.insert(Campaign, specToRow(spec, 'test', now));
      const facts = (ext: string, unionid: string) => ({
        externalUserid: ext,
        userid: 'li_hz01',
        state: null,
        unionid,
        contactType: 1,
        customer: null,
        allocationCampaign: 'k9-ljj',
        addedAt: now,
        now,
      });
      for (let i = 0; i < CUSTOMERS; i++) {
        expect(await decideOnAdd(fresh.ds, facts(`wmk9-${i}`, `oU-${i}`))).toMatchObject({ eligible: true });
        // The same add delivered again, then the customer back (after a delete) under another id.
        expect(await decideOnAdd(fresh.ds, facts(`wmk9-${i}`, `oU-${i}`))).toMatchObject({ outcome: 'duplicate' });
        expect(await decideOnAdd(fresh.ds, facts(`wmk9-${i}-again`, `oU-${i}`))).toMatchObject({
          outcome: 'duplicate',
        });
      }
      const keys = (await fresh.ds.manager.find(RewardOutbox)).map((r) => r.idempotencyKey).sort();
      expect(keys).toEqual([...Array(CUSTOMERS).keys()].map((i) => `campaign:k9-ljj:wmk9-${i}`).sort());

      // 1. The sender claims a batch of two and POSTs the first reward; the bank records it; kill -9
      // before the answer arrives.
      const first = deliver(fresh.url, receiver.url, ['--limit', '2']);
      const heldKey = await receiver.swallowed;
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      const held = await fresh.ds.manager.findOneByOrFail(RewardOutbox, { idempotencyKey: heldKey });
      expect(held).toMatchObject({ status: 'pending', attempts: 0 });
      expect(held.lockedBy).toMatch(/^ops:/);
      const batch = await fresh.ds.manager.findBy(RewardOutbox, { lockedBy: held.lockedBy! });
      expect(batch).toHaveLength(2);
      const unposted = batch.find((r) => r.idempotencyKey !== heldKey)!;
      expect(receiver.received).toEqual([heldKey]);

      // 2. A new sender while the dead claim is live: everything else, not the dead batch.
      const second = await deliver(fresh.url, receiver.url).done;
      expect(second.code).toBe(0);
      expect(JSON.parse(second.out)).toMatchObject({ sent: CUSTOMERS - 2, dead: 0 });
      expect(receiver.received.filter((k) => k === heldKey || k === unposted.idempotencyKey)).toEqual([heldKey]);
      expect(await fresh.ds.manager.countBy(RewardOutbox, { status: 'sent' })).toBe(CUSTOMERS - 2);

      // 3. After the claim expires: the POSTed row goes again with its key (the bank dedups), the
      // other for the first time.
      const until = Number(held.lockedUntil);
      await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 500));
      const third = await deliver(fresh.url, receiver.url).done;
      expect(third.code).toBe(0);
      expect(JSON.parse(third.out)).toMatchObject({ sent: 2 });

      const rows = await fresh.ds.manager.find(RewardOutbox);
      expect(rows.map((r) => r.status)).toEqual(Array(CUSTOMERS).fill('sent'));
      expect(rows.every((r) => r.lockedBy === null && r.attempts === 1)).toBe(true);
      // The bank: one request per key, plus the one repeat of the key whose answer was lost.
      expect(receiver.badSignatures).toBe(0);
      expect([...receiver.accepted].sort()).toEqual(keys);
      expect(receiver.received).toHaveLength(CUSTOMERS + 1);
      expect(receiver.received.filter((k) => k === heldKey)).toHaveLength(2);
      expect(new Set(receiver.received).size).toBe(CUSTOMERS);
    } finally {
      await receiver.close();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  }, 120_000);
});
