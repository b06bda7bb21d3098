import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AuditEntry, Branch } from '../../../server/db/entities';
import { DB_TARGETS } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { fixture } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');

/** Runs the real CLI (`node -r tsx/cjs scripts/ops.ts …`) against a database URL. */
function cli(args: string[], url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'scripts/ops.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', WECOM_SANDBOX: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.each(DB_TARGETS)('the ops CLI process on %s', (target) => {
  const db = useFreshDb(target);
  it('--help exits 0; unknown commands, bad choices and missing arguments exit 2', async () => {
    const help = await cli(['--help'], db.url);
    expect(help.code).toBe(0);
    for (const c of ['import', 'rules', 'allocate', 'reassign', 'inbox', 'report', 'sandbox'])
      expect(help.stdout).toContain(c);
    const sub = await cli(['import', '--help'], db.url);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('customer_id,name,phone');
    expect((await cli(['bogus'], db.url)).code).toBe(2);
    expect((await cli(['import', 'cats', 'x.csv'], db.url)).code).toBe(2);
    expect((await cli(['import', 'branches'], db.url)).code).toBe(2);
  }, 60_000);

  it('--apply --json --operator: exit 0, parsable JSON, audit row naming the operator', async () => {
    const res = await cli(
      ['import', 'branches', fixture('branches.csv'), '--apply', '--json', '--operator', 'alice'],
      db.url,
    );
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ kind: 'branches', inserted: 4, applied: true });
    expect(await db.ds.getRepository(Branch).count()).toBe(4);
    expect(await db.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'import.branches' })).toMatchObject({
      actor: 'alice',
    });
  }, 60_000);

  it('rows with errors exit 1 with JSON; bad input exits 2 with a JSON error and a message on stderr', async () => {
    const broken = await cli(['--json', 'import', 'customers', fixture('customers-broken.csv')], db.url);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ errorRows: 8, applied: false });
    const bad = await cli(['report', '--from', 'someday', '--json'], db.url);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({ error: { code: 'usage', message: expect.stringContaining('--from') } });
    expect(bad.stderr).toContain('error: --from "someday" is not a time');
    const missing = await cli(['import', 'customers', '/nonexistent/file.csv'], db.url);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  }, 60_000);
});
