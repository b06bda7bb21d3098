import { EXIT, UsageError } from '../../../scripts/commands/context';
import { inboxListCommand, inboxReplayCommand, inboxStatsCommand } from '../../../scripts/commands/inbox';
import type { Config } from '../../../server/config';
import { AuditEntry, InboxEvent, type InboxStatus } from '../../../server/db/entities';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, dbChecksum } from './helpers';

describe.each(DB_TARGETS)('ops inbox on %s', (target) => {
  const db = useFreshDb(target);
  let config: Config;
  const ids: Record<string, number> = {};
  const ctx = (apply = false) => ctxFor(db.ds, config, { apply });

  beforeAll(async () => {
    config = testConfig(db.url);
    const row = (key: string, status: InboxStatus, changeType = 'add_external_contact') => ({
      dedupKey: key.padEnd(64, '0'),
      receivedAt: 1_763_800_000_000,
      sentAt: 1_763_800_000,
      msgType: 'event',
      event: 'change_external_contact',
      changeType,
      payload: '<xml>…</xml>',
      status,
      attempts: status === 'dead' ? 8 : 1,
      nextAttemptAt: 0,
      lockedBy: null,
      lockedUntil: null,
      lastError: status === 'dead' ? 'handler failed: ER_LOCK_DEADLOCK' : null,
      processedAt: null,
    });
    for (const [key, status, change] of [
      ['dead1', 'dead', 'add_external_contact'],
      ['dead2', 'dead', 'del_follow_user'],
      ['done1', 'done', 'add_external_contact'],
      ['bad1', 'malformed', 'edit_external_contact'],
      ['pend1', 'pending', 'add_external_contact'],
    ] as const) {
      const res = await db.ds.getRepository(InboxEvent).insert(row(key, status, change));
      ids[key] = res.identifiers[0].id as number;
    }
  });
  it('stats counts per status and exits 1 while dead or malformed events wait', async () => {
    const res = await inboxStatsCommand({}, ctx());
    expect(res.exitCode).toBe(EXIT.findings);
    expect(res.json).toMatchObject({ dead: 2, done: 1, malformed: 1, pending: 1, processing: 0 });
    expect(res.output).toContain('2 dead and 1 malformed events');
  });

  it('list --status dead shows type, attempts and last error, never the payload', async () => {
    const res = await inboxListCommand({ status: 'dead' }, ctx());
    const items = res.json as { id: number; type: string; attempts: number }[];
    expect(items.map((i) => i.id).sort()).toEqual([ids.dead1, ids.dead2].sort());
    expect(items.find((i) => i.id === ids.dead2)).toMatchObject({
      type: 'change_external_contact/del_follow_user',
      attempts: 8,
    });
    expect(res.output).toContain('ER_LOCK_DEADLOCK');
    expect(res.output).not.toContain('<xml>');
    await expect(inboxListCommand({ status: 'zombie' }, ctx())).rejects.toThrow(UsageError);
  });

  it('replay --all-dead is a dry run by default, then re-queues with an audit row, and a rerun finds nothing', async () => {
    const before = await dbChecksum(db.ds);
    const dry = await inboxReplayCommand({ allDead: true }, ctx());
    expect(dry.json).toMatchObject({ applied: false, candidates: 2, replayed: 0 });
    expect(await dbChecksum(db.ds)).toBe(before);

    const done = await inboxReplayCommand({ allDead: true }, ctx(true));
    expect(done.json).toMatchObject({ applied: true, replayed: 2 });
    const row = await db.ds.getRepository(InboxEvent).findOneByOrFail({ id: ids.dead1 });
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await db.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'inbox.replay' })).toMatchObject({
      actor: 'op-test',
      subject: 'inbox:all-dead',
    });
    const again = await inboxReplayCommand({ allDead: true }, ctx(true));
    expect(again.json).toMatchObject({ candidates: 0, replayed: 0 });
  });

  it('replay <id> re-queues a malformed event; a done event is refused (exit 1); bad ids are usage errors', async () => {
    const one = await inboxReplayCommand({ id: String(ids.bad1) }, ctx(true));
    expect(one.json).toMatchObject({ replayed: 1, ids: [ids.bad1] });
    const refused = await inboxReplayCommand({ id: String(ids.done1) }, ctx(true));
    expect(refused.exitCode).toBe(EXIT.findings);
    expect((await db.ds.getRepository(InboxEvent).findOneByOrFail({ id: ids.done1 })).status).toBe('done');
    await expect(inboxReplayCommand({ id: '999999' }, ctx())).rejects.toThrow(/does not exist/);
    await expect(inboxReplayCommand({ id: 'abc' }, ctx())).rejects.toThrow(UsageError);
    await expect(inboxReplayCommand({}, ctx())).rejects.toThrow(/either an event id or --all-dead/);
  });
});
