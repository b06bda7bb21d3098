import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../server/db/data-source';
import { startCheckpointer } from '../../../server/db/sqlite-checkpointer';

describe('SQLite WAL checkpointer', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wecom-ckpt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a failed checkpoint to its listener instead of dropping it', async () => {
    const ds = await openDatabase({ url: `sqlite:${join(dir, 'db.sqlite')}` });
    // A file that is not a database: every checkpoint the thread runs on it fails.
    const broken = join(dir, 'not-a-db.sqlite');
    writeFileSync(broken, 'this is not an SQLite database, just text long enough to be read as a header');
    let stop: (() => Promise<void>) | undefined;
    try {
      const first = new Promise<string>((resolve) => {
        void startCheckpointer(ds, broken, { intervalMs: 10, onError: resolve }).then((s) => {
          stop = s;
        });
      });
      expect(await first).toMatch(/not a database|file is (encrypted|not)/i);
    } finally {
      await stop?.();
      await ds.destroy();
    }
  });
});
