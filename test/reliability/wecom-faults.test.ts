import type { FastifyInstance } from 'fastify';
import { inboxReplayCommand } from '../../scripts/commands/inbox';
import { build } from '../../server/app';
import { inboxStats } from '../../server/callback/inbox-repo';
import { InboxEvent } from '../../server/db/entities';
import type { FakeWecom } from '../../server/sandbox/fake-wecom';
import { sha256Hex } from '../../server/wecom/crypto';
import { createWecomClient } from '../../server/wecom/plugin';
import { PROBE, postEvent } from '../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../helpers/db';
import { ctxFor } from '../integration/ops/helpers';

declare module '../../server/wecom/events' {
  interface EventMap {
    'event/probe_wecom': { Seq: string };
  }
}

/**
 * WeCom API faults, end to end: a signed callback is stored, the worker runs a handler that calls
 * message/send through the real client (errcode policy, token cache, timeouts) against the
 * sandbox's fake WeCom with scripted faults. Transient faults are absorbed by bounded retries;
 * persistent ones end as dead letters with the reason; nothing is dropped, and a replay sends
 * each message exactly once.
 */

const API = 'message/send';
const MAX_ATTEMPTS = 3;
const CLIENT_RETRIES = 2;
const CLIENT_TIMEOUT_MS = 200;
const TO = 'hz_wangqiang';

describe.each(DB_TARGETS)('WeCom API faults on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  let fake: FakeWecom;
  let clock = Date.now();
  const sentContents = () => fake.messages.map((m) => m.content);

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    app = await build(testConfig(fresh.url, { WORKER_MAX_ATTEMPTS: String(MAX_ATTEMPTS) }), {
      db: fresh.ds,
      worker: false,
      now: () => clock,
    });
    await app.ready();
    fake = app.sandbox!.fake;
    // The product's client, with a short timeout and no real waiting between its own retries.
    const client = createWecomClient(app, {
      retry: { maxRetries: CLIENT_RETRIES, baseDelayMs: 1, maxDelayMs: 2 },
      timeoutMs: CLIENT_TIMEOUT_MS,
      sleep: async () => {},
    });
    app.events.on('event/probe_wecom', async (e) => {
      await client.sendMessage({
        touser: TO,
        msgtype: 'text',
        agentid: Number(app.config.wecom.agentId),
        text: { content: `msg-${e.Seq}` },
      });
    });
  });
  afterAll(async () => {
    await app.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  async function deliver(seq: string): Promise<string> {
    const p = PROBE(app.config.wecom.corpId, seq, 'probe_wecom');
    const res = await postEvent(app, p, { timestamp: String(Math.floor(clock / 1000)) });
    expect(res.statusCode).toBe(200);
    return sha256Hex(p);
  }

  /** Runs the worker until nothing is pending, moving the clock past each backoff. */
  async function settle() {
    for (let round = 0; round < MAX_ATTEMPTS + 2; round++) {
      await app.worker.drain();
      const s = await inboxStats(fresh.ds);
      if (s.pending + s.processing === 0) return;
      clock += 3_600_000;
    }
    throw new Error('inbox did not settle');
  }

  const row = (key: string) => fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: key });

  const transient: [string, () => void, number][] = [
    ['errcode 45009 (frequency limit) twice', () => fake.failNext(API, 45009, 2), 3],
    ['errcode -1 (system busy) twice', () => fake.failNext(API, -1, 2, 'system busy'), 3],
    ['HTTP 500 twice', () => fake.failNext(API, 'http500', 2), 3],
    ['a timeout once', () => fake.failNext(API, 'timeout', 1, undefined, CLIENT_TIMEOUT_MS * 3), 2],
    ['the access token revoked mid-flight', () => fake.revokeTokens(), 2],
  ];

  it.each(transient)(
    '%s: absorbed by the bounded client retries, sent once, done at the first attempt',
    async (name, inject, calls) => {
      const seq = `t-${name.replace(/\W+/g, '_')}`;
      const key = await deliver(seq);
      const before = fake.count(API);
      const tokensBefore = fake.count('gettoken');
      inject();
      await settle();
      expect(fake.count(API) - before).toBe(calls);
      if (name.includes('revoked')) expect(fake.count('gettoken') - tokensBefore).toBe(1);
      expect(await row(key)).toMatchObject({ status: 'done', attempts: 1, lastError: null });
      expect(sentContents().filter((c) => c === `msg-${seq}`)).toHaveLength(1);
      fake.clearFaults();
    },
  );

  const persistent: [string, () => void, number, RegExp][] = [
    ['errcode -1 every time', () => fake.failNext(API, -1, 1000, 'system busy'), 1 + CLIENT_RETRIES, /-1 system busy/],
    ['errcode 45009 every time', () => fake.failNext(API, 45009, 1000), 1 + CLIENT_RETRIES, /45009/],
    ['HTTP 500 every time', () => fake.failNext(API, 'http500', 1000), 1 + CLIENT_RETRIES, /HTTP 500/],
    [
      'a timeout every time',
      () => fake.failNext(API, 'timeout', 1000, undefined, CLIENT_TIMEOUT_MS * 2),
      1 + CLIENT_RETRIES,
      /network error ECONNABORTED/,
    ],
    [
      'errcode 60020 (IP not trusted)',
      () => fake.failNext(API, 60020, 1000, 'not allow to access from your ip, from ip: 203.0.113.9'),
      1, // a configuration error: the client never repeats it
      /企业可信IP.*203\.0\.113\.9/,
    ],
  ];

  it.each(persistent)(
    '%s: bounded retries, then a dead letter with the reason, nothing sent',
    async (name, inject, callsPerAttempt, reason) => {
      const seq = `p-${name.replace(/\W+/g, '_')}`;
      const key = await deliver(seq);
      const before = fake.count(API);
      inject();
      await settle();
      fake.clearFaults();
      const r = await row(key);
      expect(r.status).toBe('dead');
      expect(r.attempts).toBe(MAX_ATTEMPTS);
      expect(r.lastError).toMatch(reason);
      expect(r.payload).not.toBe(''); // kept for the replay
      expect(fake.count(API) - before).toBe(MAX_ATTEMPTS * callsPerAttempt);
      expect(sentContents()).not.toContain(`msg-${seq}`);
    },
  );

  it('nothing was dropped, and `ops inbox replay --all-dead` sends every dead letter exactly once', async () => {
    const stats = await inboxStats(fresh.ds);
    expect(stats).toMatchObject({ done: transient.length, dead: persistent.length, pending: 0, processing: 0 });
    const ctx = ctxFor(fresh.ds, app.config, { apply: true, now: () => clock });
    const res = await inboxReplayCommand({ allDead: true }, ctx);
    expect(res.json).toMatchObject({ applied: true, replayed: persistent.length });
    await settle();
    expect(await inboxStats(fresh.ds)).toMatchObject({ done: transient.length + persistent.length, dead: 0 });
    const all = [...transient, ...persistent].map(
      ([name], i) => `msg-${i < transient.length ? 't' : 'p'}-${name.replace(/\W+/g, '_')}`,
    );
    for (const content of all) expect(sentContents().filter((c) => c === content)).toHaveLength(1);
    expect(sentContents()).toHaveLength(all.length);
  });
});
