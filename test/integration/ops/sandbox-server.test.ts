import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { UsageError } from '../../../scripts/commands/context';
import { probeSandboxServer, wecomFactory } from '../../../scripts/commands/wecom-api';
import { build } from '../../../server/app';
import type { Config } from '../../../server/config';
import { openDatabase } from '../../../server/db/data-source';
import { DEMO_CUSTOMERS } from '../../../server/sandbox/demo-data';
import type { FakeWecom } from '../../../server/sandbox/fake-wecom';
import { DB_TARGETS, type FreshDb, openFreshDb, testConfig } from '../../helpers/db';

const ROOT = join(__dirname, '..', '..', '..');
const customer = DEMO_CUSTOMERS.find((c) => c.externalUserid && c.followUserid);
if (!customer) throw new Error('the demo data has no customer with a manager');
const manager = customer.followUserid as string;
const externalUserid = customer.externalUserid as string;

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The operator CLI process (`node -r tsx/cjs scripts/ops.ts …`) with a sandbox env of its own. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'scripts/ops.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...env },
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

describe.each(DB_TARGETS)('the ops CLI in sandbox mode with the demo server running, on %s', (target) => {
  let fresh: FreshDb & { ds: DataSource };
  let app: FastifyInstance;
  let port: number;
  /** The running server's fake WeCom (what its sandbox page shows). */
  let fake: FakeWecom;
  /** The CLI's own connection to the server's database, as a second process would have. */
  let cliDb: DataSource;
  const closers: (() => Promise<void>)[] = [];

  /** The CLI's config: loaded separately, so its generated sandbox corp id and secrets differ from the server's. */
  const cliConfig = (env: Record<string, string> = {}): Config => testConfig(fresh.url, { PORT: String(port), ...env });

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    app = await build(testConfig(fresh.url), { db: fresh.ds, worker: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    if (!app.sandbox) throw new Error('the server runs without its sandbox');
    fake = app.sandbox.fake;
    cliDb = await openDatabase({ url: fresh.url, poolSize: 2 }, { migrate: false });
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()?.();
  });
  afterAll(async () => {
    await app?.close();
    await cliDb?.destroy();
    await fresh?.ds.destroy();
    await fresh?.drop();
  });

  it('the running server gives its sandbox credentials to this machine only', async () => {
    const probe = await probeSandboxServer(`http://127.0.0.1:${port}`);
    expect(probe).toEqual({
      ok: true,
      credentials: {
        corpId: app.config.wecom.corpId,
        agentId: app.config.wecom.agentId,
        agentSecret: app.config.wecom.agentSecret,
        contactSecret: app.config.wecom.contactSecret,
      },
    });
    const remote = await app.inject({ method: 'GET', url: '/sandbox/credentials', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toEqual({ error: { code: 'not_local', message: expect.any(String) } });
    expect(remote.body).not.toContain(app.config.wecom.agentSecret);
  });

  it("calls land in the running server's fake WeCom: the mass send is on its page and its own client can poll the msgid", async () => {
    const notices: string[] = [];
    const config = cliConfig();
    expect(config.wecom.corpId).not.toBe(app.config.wecom.corpId);
    const api = await wecomFactory(cliDb, config, closers, { notice: (l) => notices.push(l) })();
    expect(notices).toEqual([`WeCom sandbox: the running server at http://127.0.0.1:${port}`]);
    expect(closers).toHaveLength(0); // no app was built in this process

    const before = fake.count('externalcontact/add_msg_template');
    const { msgid } = await api.addMsgTemplate({
      chat_type: 'single',
      sender: manager,
      external_userid: [externalUserid],
      text: { content: '本周理财沙龙，欢迎报名' },
    });
    expect(fake.count('externalcontact/add_msg_template')).toBe(before + 1);
    expect(fake.massSend.tasks.get(msgid)).toMatchObject({ sender: manager, targets: [externalUserid] });

    // What the sandbox page lists under 群发任务.
    const page = await app.inject({ method: 'GET', url: '/sandbox/tasks' });
    expect(page.json().tasks).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: msgid, senderName: expect.any(String) })]),
    );
    // The server's SOP poll asks its own fake about the msgid: known, not 41047.
    const task = await app.wecom.getGroupmsgTask({ msgid });
    expect(task.task_list).toEqual([expect.objectContaining({ userid: manager, status: 0 })]);
  });

  it('SANDBOX_SERVER_URL names the server explicitly; off keeps the calls in this process', async () => {
    const notices: string[] = [];
    const named = await wecomFactory(
      cliDb,
      cliConfig({ PORT: '0', SANDBOX_SERVER_URL: `http://127.0.0.1:${port}/` }),
      closers,
      { notice: (l) => notices.push(l) },
    )();
    const sent = fake.messages.length;
    await named.sendMessage({
      touser: manager,
      msgtype: 'text',
      agentid: Number(app.config.wecom.agentId),
      text: { content: '测试' },
    });
    expect(fake.messages.length).toBe(sent + 1);
    expect(notices).toEqual([`WeCom sandbox: the running server at http://127.0.0.1:${port}`]);

    const off = await wecomFactory(cliDb, cliConfig({ SANDBOX_SERVER_URL: 'off' }), closers, {
      notice: (l) => notices.push(l),
    })();
    const templates = fake.count('externalcontact/add_msg_template');
    const { msgid } = await off.addMsgTemplate({
      chat_type: 'single',
      sender: manager,
      external_userid: [externalUserid],
      text: { content: '只在本进程' },
    });
    expect(msgid).toBeTruthy();
    expect(fake.count('externalcontact/add_msg_template')).toBe(templates);
    expect(fake.massSend.tasks.has(msgid)).toBe(false);
    expect(closers).toHaveLength(1); // the throwaway app, closed after the test
    expect(notices[1]).toBe('WeCom sandbox: SANDBOX_SERVER_URL=off; calls go to a throwaway in-process fake WeCom');
  });

  it('with nothing listening on PORT it falls back to a throwaway in-process fake that still answers', async () => {
    const free = await closedPort();
    const notices: string[] = [];
    const api = await wecomFactory(cliDb, testConfig(fresh.url, { PORT: String(free) }), closers, {
      notice: (l) => notices.push(l),
    })();
    expect(notices).toEqual([
      `WeCom sandbox: no server running at http://127.0.0.1:${free}; calls go to a throwaway in-process fake WeCom, start \`npm start\` to see them on the sandbox page`,
    ]);
    const user = await api.getUser(manager);
    expect(user.userid).toBe(manager);
    expect(closers).toHaveLength(1);
  });

  it('a SANDBOX_SERVER_URL where no sandbox answers is a usage error, not another fake', async () => {
    const free = await closedPort();
    const factory = wecomFactory(cliDb, cliConfig({ SANDBOX_SERVER_URL: `http://127.0.0.1:${free}` }), closers);
    await expect(factory()).rejects.toThrow(UsageError);
    await expect(factory()).rejects.toThrow(
      /SANDBOX_SERVER_URL=http:\/\/127\.0\.0\.1:\d+: no WeCom sandbox answers there/,
    );
    expect(closers).toHaveLength(0);
  });

  it('the CLI process says on stderr which fake it uses and keeps stdout to the JSON', async () => {
    const lists = fake.count('externalcontact/groupchat/list');
    const res = await cli(['groups', 'sync', '--owner', manager, '--json'], {
      DATABASE_URL: fresh.url,
      WECOM_SANDBOX: 'true',
      PORT: String(port),
    });
    expect(res.stderr).toContain(`WeCom sandbox: the running server at http://127.0.0.1:${port}`);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ apply: false, owners: 1 });
    expect(fake.count('externalcontact/groupchat/list')).toBeGreaterThan(lists);
  }, 60_000);
});
