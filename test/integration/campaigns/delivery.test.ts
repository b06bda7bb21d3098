import type { DataSource } from 'typeorm';
import { deliverDueRewards, type RewardPost } from '../../../server/campaigns/delivery';
import { claimDueRewards, insertReward, lockDueRewardIds, settleReward } from '../../../server/campaigns/repo';
import { signReward, verifyRewardSignature } from '../../../server/campaigns/signature';
import { RewardOutbox } from '../../../server/db/entities';
import { seededRandom } from '../../../server/lib/seeded-random';
import { DB_TARGETS } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';

/**
 * The outbox under concurrent senders: disjoint claims, no reward POSTed twice, a crashed sender's
 * lease taken over once it expires, and no POST under a lease about to run out.
 */

const SECRET = 'delivery-test-secret-0123456789';
const T0 = Date.UTC(2026, 11, 1, 2, 0, 0);
const LEASE = 60_000;

async function seed(ds: DataSource, n: number, at: number): Promise<string[]> {
  await ds.query('DELETE FROM reward_outbox');
  const keys: string[] = [];
  await ds.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const key = `campaign:outbox-test:wm${i}`;
      keys.push(key);
      await insertReward(tx, {
        idempotencyKey: key,
        campaignCode: 'outbox-test',
        externalUserid: `wm${i}`,
        body: JSON.stringify({ idempotencyKey: key, reward: { kind: 'voucher', amount: 10 } }),
        status: 'pending',
        attempts: 0,
        // A few share a due time, so the claim order needs its id tie-break.
        nextAttemptAt: at + (i % 7) * 1000,
        lockedBy: null,
        lockedUntil: null,
        httpStatus: null,
        lastError: null,
        createdAt: at,
        sentAt: null,
        updatedAt: at,
      });
    }
  });
  return keys;
}

interface Received {
  holder: string;
  key: string;
  status: number;
}

/**
 * The bank's side: checks the signature, accepts each key once (409 for a key it already has) and
 * answers 503 where `fail` says. Before answering it checks, in the database, that the poster holds
 * the row's lease with at least the POST timeout left: a row POSTed by a sender that does not hold
 * it would be a row claimed twice.
 */
function bank(ds: DataSource, clock: { now: number }, fail: () => boolean = () => false) {
  const received: Received[] = [];
  const accepted = new Set<string>();
  const problems: string[] = [];
  const postFor =
    (holder: string): RewardPost =>
    async (_url, body, headers) => {
      const key = JSON.parse(body).idempotencyKey as string;
      const [row] = await ds
        .getRepository(RewardOutbox)
        .find({ where: { idempotencyKey: key }, select: { lockedBy: true, lockedUntil: true } });
      if (row.lockedBy !== holder) problems.push(`${key} POSTed by ${holder}, held by ${row.lockedBy}`);
      if ((row.lockedUntil ?? 0) < clock.now + 10_000) problems.push(`${key} POSTed with < 10 s of lease left`);
      const sig = verifyRewardSignature(
        SECRET,
        headers['x-reward-timestamp'],
        headers['x-reward-signature'],
        body,
        clock.now,
      );
      if (sig) problems.push(`${key}: ${sig}`);
      // Yield to the other sender between the check and the answer, as a network round trip would.
      await new Promise((r) => setImmediate(r));
      const status = fail() ? 503 : accepted.has(key) ? 409 : 200;
      if (status === 200) accepted.add(key);
      received.push({ holder, key, status });
      return { status };
    };
  return { received, accepted, problems, postFor };
}

const deliverer = (ds: DataSource, clock: { now: number }, post: RewardPost, holder: string, extra = {}) =>
  deliverDueRewards(ds, {
    url: 'http://bank.test/rewards',
    secret: SECRET,
    maxAttempts: 20,
    holder,
    now: () => clock.now,
    post,
    limit: 10_000,
    random: seededRandom(7),
    ...extra,
  });

const statuses = async (ds: DataSource) =>
  (await ds.getRepository(RewardOutbox).find({ order: { id: 'ASC' } })).map((r) => r.status);

describe.each(DB_TARGETS)('reward outbox senders on %s', (target) => {
  const db = useFreshDb(target);

  test('concurrent claimers take disjoint batches that together cover every due row', async () => {
    await seed(db.ds, 100, T0);
    const now = T0 + 10_000;
    const got = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (holder) => {
        const mine: number[] = [];
        for (;;) {
          const rows = await claimDueRewards(db.ds, holder, { now, until: now + LEASE, limit: 7 });
          if (!rows.length) return mine;
          expect(rows.every((r) => r.lockedBy === holder && r.lockedUntil === now + LEASE)).toBe(true);
          for (const r of rows) {
            mine.push(r.id);
            expect(await settleReward(db.ds, r.id, holder, { status: 'sent', sentAt: now, updatedAt: now })).toBe(true);
          }
        }
      }),
    );
    const all = got.flat();
    expect(all).toHaveLength(100);
    expect(new Set(all).size).toBe(100);
    // Every claimer took part: the batches really were handed out side by side.
    expect(got.map((ids) => ids.length > 0)).toEqual([true, true, true, true]);
    expect((await statuses(db.ds)).every((s) => s === 'sent')).toBe(true);
  });

  test('a claim takes the oldest due rows and leaves rows not yet due or under a live lease', async () => {
    await seed(db.ds, 10, T0);
    // Due at T0 + (i % 7) s: at T0 + 2 s rows 0, 1, 2, 7, 8, 9 are due.
    const now = T0 + 2_000;
    const first = await claimDueRewards(db.ds, 'a', { now, until: now + LEASE, limit: 4 });
    expect(first.map((r) => r.externalUserid)).toEqual(['wm0', 'wm7', 'wm1', 'wm8']);
    const second = await claimDueRewards(db.ds, 'b', { now, until: now + LEASE, limit: 10 });
    expect(second.map((r) => r.externalUserid)).toEqual(['wm2', 'wm9']);
    expect(await claimDueRewards(db.ds, 'c', { now, until: now + LEASE, limit: 10 })).toEqual([]);
  });

  test('two deliverers side by side, 20 % failing: every reward accepted once, no row POSTed by two senders', async () => {
    const keys = await seed(db.ds, 150, T0);
    const clock = { now: T0 + 10_000 };
    const random = seededRandom(42);
    const failing = bank(db.ds, clock, () => random() < 0.2);
    const totals = { sent: 0, retried: 0, dead: 0 };
    const perPass: Received[][] = [];
    for (let pass = 0; pass < 15; pass++) {
      const from = failing.received.length;
      const outs = await Promise.all(
        ['a', 'b'].map((h) => deliverer(db.ds, clock, failing.postFor(`${h}-${pass}`), `${h}-${pass}`)),
      );
      for (const o of outs) for (const k of ['sent', 'retried', 'dead'] as const) totals[k] += o[k];
      perPass.push(failing.received.slice(from));
      if ((await statuses(db.ds)).every((s) => s === 'sent')) break;
      clock.now += 7 * 3_600_000; // past every backoff
    }
    expect(failing.problems).toEqual([]);
    expect((await statuses(db.ds)).every((s) => s === 'sent')).toBe(true);
    expect([...failing.accepted].sort()).toEqual([...keys].sort());
    // No POST of a key the bank already had: nothing was sent twice.
    expect(failing.received.filter((r) => r.status === 409)).toEqual([]);
    expect(failing.received.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    expect(totals).toMatchObject({ sent: 150, dead: 0 });
    // Within a pass each key went out at most once, from one sender.
    for (const pass of perPass) expect(new Set(pass.map((r) => r.key)).size).toBe(pass.length);
    // Both senders delivered in the first pass.
    expect(new Set(perPass[0].map((r) => r.holder))).toEqual(new Set(['a-0', 'b-0']));
    // Each attempt on record is one POST.
    const rows = await db.ds.getRepository(RewardOutbox).find();
    const posts = new Map<string, number>();
    for (const r of failing.received) posts.set(r.key, (posts.get(r.key) ?? 0) + 1);
    expect(rows.every((r) => r.attempts === posts.get(r.idempotencyKey) && r.lockedBy === null)).toBe(true);
  });

  test("a crashed sender's lease is left alone while live and taken over once it expires, with the same key", async () => {
    const keys = await seed(db.ds, 30, T0);
    const clock = { now: T0 + 10_000 };
    const b = bank(db.ds, clock);
    // The crashed sender claimed five rows, POSTed the first (the bank accepted it) and died.
    const crashed = await claimDueRewards(db.ds, 'crashed', { now: clock.now, until: clock.now + LEASE, limit: 5 });
    expect(crashed).toHaveLength(5);
    await b.postFor('crashed')('http://bank.test/rewards', crashed[0].body, signed(crashed[0].body, clock.now));
    const held = new Set(crashed.map((r) => r.idempotencyKey));

    await Promise.all(['a', 'b'].map((h) => deliverer(db.ds, clock, b.postFor(h), h)));
    expect(b.received.filter((r) => r.holder !== 'crashed' && held.has(r.key))).toEqual([]);
    const rows = await db.ds.getRepository(RewardOutbox).find();
    expect(rows.filter((r) => r.status === 'pending').map((r) => r.lockedBy)).toEqual(Array(5).fill('crashed'));

    clock.now += LEASE + 1;
    const outs = await Promise.all(['a2', 'b2'].map((h) => deliverer(db.ds, clock, b.postFor(h), h)));
    expect(outs.reduce((n, o) => n + o.sent, 0)).toBe(5);
    expect((await statuses(db.ds)).every((s) => s === 'sent')).toBe(true);
    expect([...b.accepted].sort()).toEqual([...keys].sort());
    // The one row the crash had already POSTed went again with its key: the bank answered 409, paid once.
    expect(b.received.filter((r) => r.status === 409).map((r) => r.key)).toEqual([crashed[0].idempotencyKey]);
    expect(b.problems).toEqual([]);
    // The crashed sender's late record changes nothing.
    expect(await settleReward(db.ds, crashed[1].id, 'crashed', { status: 'dead', updatedAt: clock.now })).toBe(false);
    expect((await db.ds.getRepository(RewardOutbox).findOneByOrFail({ id: crashed[1].id })).status).toBe('sent');
  });

  test('a batch whose lease runs short is given back and claimed again, never POSTed late', async () => {
    const keys = await seed(db.ds, 12, T0);
    const clock = { now: T0 + 10_000 };
    const b = bank(db.ds, clock);
    const slow = b.postFor('slow');
    // A receiver taking 20 s per request: three POSTs fit in a 60 s lease with the 10 s timeout to spare.
    const post: RewardPost = async (url, body, headers) => {
      const res = await slow(url, body, headers);
      clock.now += 20_000;
      return res;
    };
    const out = await deliverer(db.ds, clock, post, 'slow', { leaseMs: LEASE, postTimeoutMs: 10_000 });
    expect(out).toEqual({ sent: 12, retried: 0, dead: 0 });
    expect(b.problems).toEqual([]);
    expect(b.received.map((r) => r.key).sort()).toEqual([...keys].sort());
    expect(b.received.every((r) => r.status === 200)).toBe(true);
    const rows = await db.ds.getRepository(RewardOutbox).find();
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1 && r.lockedBy === null)).toBe(true);
  });

  test('a lease shorter than one POST ends the run without POSTing and holds nothing', async () => {
    await seed(db.ds, 3, T0);
    const clock = { now: T0 + 10_000 };
    const b = bank(db.ds, clock);
    const out = await deliverer(db.ds, clock, b.postFor('x'), 'x', { leaseMs: 5_000, postTimeoutMs: 10_000 });
    expect(out).toEqual({ sent: 0, retried: 0, dead: 0 });
    expect(b.received).toEqual([]);
    expect((await db.ds.getRepository(RewardOutbox).find()).every((r) => r.lockedBy === null)).toBe(true);
  });
});

describe('reward outbox claim on mariadb', () => {
  const db = useFreshDb('mariadb');

  test('rows another sender is still locking are skipped, not waited for', async () => {
    await seed(db.ds, 20, T0);
    const now = T0 + 10_000;
    // Another sender's claim, caught between its SELECT … FOR UPDATE SKIP LOCKED and its commit.
    const other = db.ds.createQueryRunner();
    await other.connect();
    await other.startTransaction('READ COMMITTED');
    try {
      const locked = await lockDueRewardIds(other.manager, now, 3);
      expect(locked).toHaveLength(3);
      // Without SKIP LOCKED this claim waits innodb_lock_wait_timeout (50 s) and the test times out.
      const rows = await claimDueRewards(db.ds, 'b', { now, until: now + LEASE, limit: 10 });
      expect(rows).toHaveLength(10);
      expect(rows.filter((r) => locked.includes(r.id))).toEqual([]);
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
    // The other claim rolled back: its three rows and the seven nobody took are due again.
    const rest = await claimDueRewards(db.ds, 'c', { now, until: now + LEASE, limit: 20 });
    expect(rest).toHaveLength(10);
  });
});

function signed(body: string, now: number): Record<string, string> {
  const ts = String(Math.floor(now / 1000));
  return {
    'content-type': 'application/json',
    'x-reward-timestamp': ts,
    'x-reward-signature': signReward(SECRET, ts, body),
  };
}
