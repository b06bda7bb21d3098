// The sidebar ranks the bank library from an in-memory copy (TableTemplateProvider). A change made
// by another instance — its own DataSource and library service on the same database, so nothing in
// this process is told — must show at this instance's next request; expiry needs no write at all.
import type { DataSource } from 'typeorm';
import { bumpCacheVersion } from '../../../server/db/cache-version';
import { openDatabase } from '../../../server/db/data-source';
import { LibraryService } from '../../../server/playbook/library';
import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp, T0 } from '../sidebar/helpers';

const HOUR = 3_600_000;

describe.each(DB_TARGETS)('the sidebar’s library copy across instances on %s', (target) => {
  let t: SidebarTestApp;
  let other: DataSource;
  let otherLibrary: LibraryService;
  let lilei: string;

  const titles = async (q = '') => {
    const res = await t.get(`/api/sidebar/templates?externalUserId=wmA${q}`, lilei);
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    return (res.json().templates as { title: string }[]).map((x) => x.title);
  };
  const cardTitles = async () => {
    const res = await t.get('/api/sidebar/customers/wmA', lilei);
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    return (res.json().templates as { title: string }[]).map((x) => x.title);
  };

  beforeAll(async () => {
    t = await startSidebarApp(target);
    lilei = await t.login('lilei');
    other = await openDatabase({ url: t.fresh.url });
    otherLibrary = new LibraryService(other, () => t.clock.now, { personalReview: true });
  });
  afterAll(async () => {
    await other.destroy();
    await t.close();
  });

  it('a script approved on another instance is suggested at the next request, and gone once retired there', async () => {
    // This instance has read the library before the change.
    expect(await cardTitles()).toContain('代发首次问候');
    expect(await titles()).not.toContain('另一实例的代发问候');

    const created = await otherLibrary.create(
      { title: '另一实例的代发问候', body: '{{客户称呼}}您好，我是{{客户经理}}。', stage: 1, segments: ['代发'] },
      { actor: 'op-b', submit: true },
    );
    expect(await titles()).not.toContain('另一实例的代发问候'); // in review: never suggested
    await otherLibrary.approve([created.id], { reviewer: '合规乙', expiresAt: T0 + 30 * 24 * HOUR });
    expect(await titles()).toContain('另一实例的代发问候');
    expect(await cardTitles()).toContain('另一实例的代发问候');

    await otherLibrary.retire(created.id, 'op-b');
    expect(await titles()).not.toContain('另一实例的代发问候');
    expect(await cardTitles()).not.toContain('另一实例的代发问候');
  });

  it('a library row changed in the database by another instance’s write (with its version bump) is reflected', async () => {
    expect(await titles()).toContain('通用问候');
    await other.transaction(async (tx) => {
      await tx.query(`UPDATE script_templates SET status = 'retired' WHERE title = '通用问候'`);
      await bumpCacheVersion(tx, 'script_library', t.clock.now);
    });
    expect(await titles()).not.toContain('通用问候');
    await other.transaction(async (tx) => {
      await tx.query(
        `UPDATE script_templates SET status = 'approved', title = '通用问候（新）' WHERE title = '通用问候'`,
      );
      await bumpCacheVersion(tx, 'script_library', t.clock.now);
    });
    expect(await titles(`&q=${encodeURIComponent('通用')}`)).toEqual(['通用问候（新）']);
  });

  it('an approval that ends drops the script at request time, with no write anywhere', async () => {
    const created = await otherLibrary.create(
      { title: '限时活动话术', body: '{{客户称呼}}您好，本周活动。', stage: 1 },
      { actor: 'op-b', submit: true },
    );
    await otherLibrary.approve([created.id], { reviewer: '合规乙', expiresAt: t.clock.now + HOUR });
    expect(await titles()).toContain('限时活动话术');
    t.clock.now += HOUR; // expires_at is exclusive: at the instant it ends, it is gone
    lilei = await t.login('lilei');
    expect(await titles()).not.toContain('限时活动话术');
    expect(await cardTitles()).not.toContain('限时活动话术');
  });
});
