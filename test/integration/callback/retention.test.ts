import type { FastifyInstance } from 'fastify';
import { EXIT } from '../../../scripts/commands/context';
import { inboxListCommand, inboxReplayCommand } from '../../../scripts/commands/inbox';
import { build } from '../../../server/app';
import { PURGED_PAYLOAD, purgeInboxPayloads } from '../../../server/callback/inbox-repo';
import { InboxEvent } from '../../../server/db/entities';
import { runJobNow } from '../../../server/jobs/plugin';
import { sha256Hex } from '../../../server/wecom/crypto';
import { PROBE, postEvent } from '../../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';
import { ctxFor } from '../ops/helpers';

const DAY = 24 * 3_600_000;

describe.each(DB_TARGETS)('inbox payloads at rest on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  let clock = Date.now();
  let okRuns = 0;
  const row = (p: string) => fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) });

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    app = await build(testConfig(fresh.url, { INBOX_RETENTION_DAYS: '7', WORKER_MAX_ATTEMPTS: '1' }), {
      db: fresh.ds,
      worker: false,
      now: () => clock,
    });
    app.events.on('event/probe_ok', async () => {
      okRuns++;
    });
    app.events.on('event/probe_fail', async () => {
      throw new Error('downstream unavailable');
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('clears the decrypted payload of a processed event, keeps metadata and the dedup key, and dedup still works', async () => {
    // A member's message: a name and a phone number are in the payload.
    const p = PROBE(app.config.wecom.corpId, 'pii-1', 'probe_ok').replace(
      '</xml>',
      '<Content><![CDATA[我是王小明 13912345678]]></Content></xml>',
    );
    expect((await postEvent(app, p)).statusCode).toBe(200);
    expect((await row(p)).payload).toBe(p);
    await app.worker.drain();
    const done = await row(p);
    expect(done).toMatchObject({ status: 'done', payload: PURGED_PAYLOAD, event: 'probe_ok', attempts: 1 });
    expect(done.processedAt).not.toBeNull();
    const raw = JSON.stringify(await fresh.ds.query('SELECT * FROM inbox'));
    expect(raw).not.toContain('13912345678');
    expect(raw).not.toContain('王小明');

    // WeCom redelivers the same callback: acknowledged as a duplicate, stored once, never run again.
    expect((await postEvent(app, p)).statusCode).toBe(200);
    await app.worker.drain();
    expect(await fresh.ds.getRepository(InboxEvent).countBy({ dedupKey: sha256Hex(p) })).toBe(1);
    expect(okRuns).toBe(1);
  });

  it('keeps dead and malformed payloads for replay until INBOX_RETENTION_DAYS, then the job clears them', async () => {
    const dead = PROBE(app.config.wecom.corpId, 'dead-1', 'probe_fail');
    const broken = `<xml><ToUserName>${app.config.wecom.corpId}</ToUserName><MsgType>event</MsgType><Event>x</xml>`;
    const unhandled = PROBE(app.config.wecom.corpId, 'u-1', 'not_yet_handled');
    for (const p of [dead, broken, unhandled]) expect((await postEvent(app, p)).statusCode).toBe(200);
    await app.worker.drain();
    expect(await row(dead)).toMatchObject({ status: 'dead', payload: dead, lastError: 'downstream unavailable' });
    expect(await row(broken)).toMatchObject({ status: 'malformed', payload: broken });
    expect(await row(unhandled)).toMatchObject({ status: 'unhandled', payload: unhandled });

    // Six days later: still inside the limit, nothing of theirs is cleared.
    clock += 6 * DAY;
    expect((await runJobNow(app, 'inbox-retention')).outcome).toBe('ok');
    expect((await row(dead)).payload).toBe(dead);
    expect((await row(broken)).payload).toBe(broken);

    // Past seven days: cleared by the job; status, type, attempts and last error stay.
    clock += 2 * DAY;
    const res = await runJobNow(app, 'inbox-retention');
    expect(res).toMatchObject({ outcome: 'ok', result: { done: 0, expired: 3 } });
    expect(await row(dead)).toMatchObject({
      status: 'dead',
      payload: PURGED_PAYLOAD,
      event: 'probe_fail',
      lastError: 'downstream unavailable',
    });
    expect((await row(broken)).payload).toBe(PURGED_PAYLOAD);
    expect((await row(unhandled)).payload).toBe(PURGED_PAYLOAD);
    // A second run finds nothing left to clear.
    expect((await purgeInboxPayloads(fresh.ds, { now: clock, retentionDays: 7 })).expired).toBe(0);
  });

  it('ops inbox list and replay say clearly that a purged event cannot be replayed', async () => {
    const config = app.config;
    const ctx = (apply = false) => ctxFor(fresh.ds, config, { apply, now: () => clock });
    const deadRow = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ event: 'probe_fail' });

    const list = await inboxListCommand({ status: 'dead' }, ctx());
    expect((list.json as { id: number; payloadPurged: boolean }[]).find((i) => i.id === deadRow.id)).toMatchObject({
      payloadPurged: true,
    });
    expect(list.output).toContain('purged');
    expect(list.output).toContain('INBOX_RETENTION_DAYS=7');

    const one = await inboxReplayCommand({ id: String(deadRow.id) }, ctx(true));
    expect(one.exitCode).toBe(EXIT.findings);
    expect(one.json).toMatchObject({ replayed: 0, reason: 'payload_purged' });
    expect(one.output).toContain('cannot be replayed');
    expect((await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ id: deadRow.id })).status).toBe('dead');

    // --all-dead re-queues the dead events that still have a payload and names the purged ones.
    const fresher = PROBE(app.config.wecom.corpId, 'dead-2', 'probe_fail');
    expect((await postEvent(app, fresher, { timestamp: String(Math.floor(clock / 1000)) })).statusCode).toBe(200);
    await app.worker.drain();
    const all = await inboxReplayCommand({ allDead: true }, ctx(true));
    expect(all.json).toMatchObject({ applied: true, replayed: 1, skippedPurged: 1 });
    expect(all.output).toContain('cannot be replayed');
    expect((await row(fresher)).status).toBe('pending');
  });

  it('clears payloads of done rows processed before payloads were cleared at finish', async () => {
    const p = PROBE(app.config.wecom.corpId, 'old-done', 'probe_ok');
    expect((await postEvent(app, p, { timestamp: String(Math.floor(clock / 1000)) })).statusCode).toBe(200);
    await fresh.ds.getRepository(InboxEvent).update({ dedupKey: sha256Hex(p) }, { status: 'done' });
    const res = await purgeInboxPayloads(fresh.ds, { now: clock, retentionDays: 7, batch: 1 });
    expect(res.done).toBe(1);
    expect((await row(p)).payload).toBe(PURGED_PAYLOAD);
  });
});
