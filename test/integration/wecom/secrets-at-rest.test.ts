import type { FastifyInstance } from 'fastify';
import { build } from '../../../server/app';
import { CachedSecret } from '../../../server/db/entities';
import { SecretBox } from '../../../server/lib/secret-box';
import { DbSecretStore } from '../../../server/wecom/token-cache';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

/** Every cell of the table as text, the way a dump would show it. */
async function dumpTable(fresh: Awaited<ReturnType<typeof openFreshDb>>): Promise<string> {
  const rows: Record<string, unknown>[] = await fresh.ds.query('SELECT * FROM secrets_cache');
  return JSON.stringify(rows);
}

describe.each(DB_TARGETS)('secrets_cache is encrypted at rest on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  const box = () => new SecretBox(app.config.secretsKey);
  const repo = () => fresh.ds.getRepository(CachedSecret);

  const suite = useApp(target);
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  it('a dump of the table holds no token or ticket text; the rows open with SECRETS_KEY', async () => {
    await app.wecom.getUser('hz_chenjing');
    const ticket = await app.wecom.getJsapiTicket();
    const agentTicket = await app.wecom.getAgentTicket();
    const dump = await dumpTable(fresh);
    expect(dump).not.toMatch(/sbxtok_|sbxtkt_/);
    expect(dump).not.toContain(ticket);
    expect(dump).not.toContain(agentTicket);
    const rows = await repo().find();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows.filter((x) => x.value !== null)) {
      expect(r.value).toMatch(/^gcm1:/);
      expect(box().open(r.value!, r.name)).toMatch(/^sbxt(ok|kt)_/);
    }
    const ticketRow = rows.find((r) => r.name.startsWith('jsapi_ticket:'))!;
    expect(box().open(ticketRow.value!, ticketRow.name)).toBe(ticket);
  });

  it('a clear row written by an older version is wiped on first read (a miss), refetched and stored encrypted', async () => {
    const row = (await repo().find()).find((r) => r.name.startsWith('token:'))!;
    const clear = box().open(row.value!, row.name)!;
    await repo().update({ name: row.name }, { value: clear });

    const store = new DbSecretStore(fresh.ds, box());
    expect(await store.read(row.name)).toMatchObject({ value: null, expiresAt: null });
    expect((await repo().findOneByOrFail({ name: row.name })).value).toBeNull();

    // The same through a fresh instance (no in-memory copy): the clear token is never used, one
    // gettoken replaces it, and the table ends with ciphertext only.
    await repo().update({ name: row.name }, { value: clear, expiresAt: Date.now() + 3_600_000 });
    const other = await build(app.config, { db: fresh.ds, worker: false }); // same corp and secrets
    try {
      await other.wecom.getUser('hz_chenjing');
      const calls = other.sandbox!.fake.calls;
      expect(calls.filter((c) => c.errcode === 40014)).toHaveLength(0);
      expect(calls.filter((c) => c.api === 'gettoken')).toHaveLength(1);
      const dump = await dumpTable(fresh);
      expect(dump).not.toContain(clear);
      expect(dump).not.toMatch(/sbxtok_|sbxtkt_/);
    } finally {
      await other.close();
    }
  });

  it('a row sealed under another SECRETS_KEY is a miss too (key rotation)', async () => {
    const row = (await repo().find()).find((r) => r.value !== null)!;
    const foreign = new SecretBox(Buffer.alloc(32, 7)).seal('sbxtok_old', row.name);
    await repo().update({ name: row.name }, { value: foreign });
    expect((await new DbSecretStore(fresh.ds, box()).read(row.name))?.value).toBeNull();
    expect((await repo().findOneByOrFail({ name: row.name })).value).toBeNull();
  });

  it('invalidate drops the value only while it is still the rejected one', async () => {
    const store = new DbSecretStore(fresh.ds, box());
    const name = 'token:invalidate-test';
    const now = Date.now();
    expect(await store.tryLease(name, 'me', now, now + 30_000, now + 60_000)).toBe(true);
    await store.write(name, 'me', 'sbxtok_current', now + 7_200_000, now);
    await store.invalidate(name, 'sbxtok_older', now);
    expect((await store.read(name))?.value).toBe('sbxtok_current');
    await store.invalidate(name, 'sbxtok_current', now);
    expect((await store.read(name))?.value).toBeNull();
  });
});
