import type { FastifyInstance } from 'fastify';
import { escapeHtml } from '../../../server/lib/html';
import type { Sandbox } from '../../../server/sandbox/state';
import { textcard } from '../../../server/wecom/app-message';
import { WecomApiError } from '../../../server/wecom/errors';
import { createWecomClient } from '../../../server/wecom/plugin';
import { DB_TARGETS } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

const CONTACT = 'wmsbxdemo0001AAAAbbbbCCCCdddd';

async function failure(p: Promise<unknown>): Promise<WecomApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WecomApiError) return e;
    throw e;
  }
  throw new Error('expected a WecomApiError');
}

/** The fake WeCom's semantics as the product sees them: through app.wecom, mounted in the app. */
describe.each(DB_TARGETS)('sandbox fake WeCom API on %s', (target) => {
  let app: FastifyInstance;
  let sandbox: Sandbox;
  const clock = { now: Date.now() };

  const suite = useApp(target, { build: { now: () => clock.now } });
  beforeAll(() => {
    ({ app } = suite);
    sandbox = app.sandbox as Sandbox;
  });

  it('serves the demo corp: members, departments, follow users, contacts, tags', async () => {
    expect(await app.wecom.getUser('hz_chenjing')).toMatchObject({
      userid: 'hz_chenjing',
      name: '陈静',
      main_department: 11,
    });
    const depts = await app.wecom.listDepartments();
    expect(depts.map((d) => d.id)).toEqual([1, 11, 12, 13, 14, 15, 16, 17]);
    expect(await app.wecom.listDepartments(13)).toEqual([expect.objectContaining({ id: 13, name: '滨江支行' })]);
    expect(await app.wecom.getFollowUserList()).toHaveLength(20);
    const c = await app.wecom.getExternalContact(CONTACT);
    expect(c.external_contact.external_userid).toBe(CONTACT);
    expect(c.follow_user[0].tags?.map((t) => t.group_name)).toContain('客户分层');
    const groups = await app.wecom.getCorpTagList();
    expect(groups.map((g) => g.group_name)).toEqual(['客户分层', '产品偏好', '活动']);
    const page1 = await app.wecom.batchGetByUser(['hz_liuyang', 'hz_chenjing', 'hz_wangqiang'], undefined, 1);
    expect(page1.external_contact_list).toHaveLength(1);
    expect(page1.next_cursor).toBeTruthy();
  });

  it('answers data errors with WeCom codes: 60111, 40096, 84061', async () => {
    expect((await failure(app.wecom.getUser('nobody'))).errcode).toBe(60111);
    expect((await failure(app.wecom.getExternalContact('wmnotthere'))).errcode).toBe(40096);
    const e = await failure(app.wecom.remark({ userid: 'hz_zhuhong', external_userid: CONTACT, remark: 'x' }));
    expect([e.errcode, e.kind]).toEqual([84061, 'data']);
  });

  it('tags: add_corp_tag (40071 on a duplicate), mark_tag shows in externalcontact/get', async () => {
    const g = await app.wecom.addCorpTag({ group_name: '活动', tag: [{ name: '理财节' }] });
    const id = g.tag[0].id;
    expect((await failure(app.wecom.addCorpTag({ group_name: '活动', tag: [{ name: '理财节' }] }))).errcode).toBe(
      40071,
    );
    const owner = (await app.wecom.getExternalContact(CONTACT)).follow_user[0].userid;
    await app.wecom.markTag({ userid: owner, external_userid: CONTACT, add_tag: [id] });
    const tags = (await app.wecom.getExternalContact(CONTACT)).follow_user[0].tags ?? [];
    expect(tags.map((t) => t.tag_name)).toContain('理财节');
    expect(
      (await failure(app.wecom.markTag({ userid: owner, external_userid: CONTACT, add_tag: ['etnope'] }))).errcode,
    ).toBe(40068);
  });

  it('contact ways: state ≤ 30 chars (40058 otherwise), delete once', async () => {
    const way = await app.wecom.addContactWay({ type: 1, scene: 2, user: ['hz_wujun'], state: 's'.repeat(30) });
    expect(way.config_id).toBeTruthy();
    expect(way.qr_code).toMatch(/\/sandbox\/qr\//);
    const e = await failure(app.wecom.addContactWay({ type: 1, scene: 2, user: ['hz_wujun'], state: 's'.repeat(31) }));
    expect([e.errcode, e.kind]).toEqual([40058, 'data']);
    await app.wecom.delContactWay(way.config_id);
    expect((await failure(app.wecom.delContactWay(way.config_id))).kind).toBe('unknown');
  });

  it('welcome codes: single use and only within 20 s (41051)', async () => {
    const fake = sandbox.fake;
    const code = fake.issueWelcomeCode('hz_chenjing', CONTACT);
    await app.wecom.sendWelcomeMsg({ welcome_code: code, text: { content: '欢迎' } });
    expect((await failure(app.wecom.sendWelcomeMsg({ welcome_code: code, text: { content: '欢迎' } }))).errcode).toBe(
      41051,
    );
    const late = fake.issueWelcomeCode('hz_chenjing', CONTACT);
    clock.now += 20_001;
    const e = await failure(app.wecom.sendWelcomeMsg({ welcome_code: late, text: { content: '欢迎' } }));
    expect([e.errcode, e.kind]).toEqual([41051, 'final']);
    expect(fake.welcomes.map((w) => w.content)).toEqual(['欢迎']);
  });

  it('transfers: 84061 without a relation, 40129 while waiting, 40128 after two in 90 days', async () => {
    const fake = sandbox.fake;
    const ext = 'wmsbxdemo0005AAAAbbbbCCCCdddd';
    const from = fake.followsOf(ext)[0].userid;
    const to = from === 'hz_luoping' ? 'hz_hexue' : 'hz_luoping';
    const t = (a: string, b: string) =>
      app.wecom.transferCustomer({ handover_userid: a, takeover_userid: b, external_userid: [ext] });
    expect(await t(to, from)).toEqual([{ external_userid: ext, errcode: 84061 }]);
    expect(await t(from, to)).toEqual([{ external_userid: ext, errcode: 0 }]);
    expect(await t(from, to)).toEqual([{ external_userid: ext, errcode: 40129 }]);
    clock.now += 24 * 3600_000 + 1; // the customer did not refuse: done after 24 h
    expect((await app.wecom.transferResult({ handover_userid: from, takeover_userid: to })).customer[0].status).toBe(1);
    expect(await t(to, from)).toEqual([{ external_userid: ext, errcode: 0 }]);
    clock.now += 24 * 3600_000 + 1;
    await app.wecom.transferResult({ handover_userid: to, takeover_userid: from });
    expect(await t(from, to)).toEqual([{ external_userid: ext, errcode: 40128 }]);
  });

  it('OAuth codes expire after 5 minutes (40029)', async () => {
    const code = sandbox.fake.issueOAuthCode('hz_chenjing');
    clock.now += 5 * 60_000 + 1;
    await expect(app.wecom.getUserInfo(code)).rejects.toMatchObject({ errcode: 40029, kind: 'auth' });
    const fresh2 = sandbox.fake.issueOAuthCode('hz_chenjing');
    clock.now += 4 * 60_000;
    expect(await app.wecom.getUserInfo(fresh2)).toEqual({ userid: 'hz_chenjing' });
  });

  it('message/send records the message and reports invalid users', async () => {
    const r = await app.wecom.sendMessage({
      touser: 'hz_chenjing|ghost',
      msgtype: 'text',
      agentid: 1000002,
      text: { content: '新客户提醒' },
    });
    expect(r.invaliduser).toBe('ghost');
    expect(r.msgid).toBeTruthy();
    expect(sandbox.fake.messages.at(-1)).toMatchObject({ touser: 'hz_chenjing', content: '新客户提醒' });
  });

  it('/sandbox/data shows a textcard as text: title, description lines, the button and its link', async () => {
    await app.wecom.sendMessage(
      textcard({
        touser: 'hz_chenjing',
        agentId: app.config.wecom.agentId,
        title: '今日待办',
        description: `<div class="gray">${escapeHtml('陈静 <测试>')}，今天有 2 项待办</div><div class="normal">跟进到期 2</div>`,
        url: 'https://bank.example/sidebar/?view=todo',
        btntxt: '查看',
      }),
    );
    const data = (await app.inject('/sandbox/data')).json();
    expect(data.messages.at(-1).view).toEqual({
      title: '今日待办',
      lines: ['陈静 <测试>，今天有 2 项待办', '跟进到期 2'],
      url: 'https://bank.example/sidebar/?view=todo',
      button: '查看',
    });
  });

  it('rejects a wrong secret (40001) and a token of the wrong secret for customer-contact APIs (48002)', async () => {
    const wrong = createWecomClient(app, { agentSecret: 'not-the-sandbox-secret', retry: { maxRetries: 0 } });
    const e = await failure(wrong.getUser('hz_chenjing'));
    expect([e.api, e.errcode, e.kind]).toEqual(['gettoken', 40001, 'config']);
    // A client that uses the agent secret for everything, while the sandbox corp has a separate contact secret.
    const oneSecret = createWecomClient(app, { contactSecret: app.config.wecom.agentSecret });
    const f = await failure(oneSecret.getFollowUserList());
    expect([f.errcode, f.kind]).toEqual([48002, 'config']);
  });

  it('records every call without tokens or secrets, and scripted faults', async () => {
    const fake = sandbox.fake;
    fake.failNext('user/get', 45009, 1);
    await app.wecom.getUser('hz_chenjing');
    const last = fake.calls.slice(-2);
    expect(last.map((c) => [c.path, c.errcode])).toEqual([
      ['/cgi-bin/user/get', 45009],
      ['/cgi-bin/user/get', 0],
    ]);
    const text = JSON.stringify(fake.calls);
    expect(text).not.toContain(app.config.wecom.agentSecret);
    expect(text).not.toContain(app.config.wecom.contactSecret);
    expect(text).not.toContain('access_token');
    const log = await app.inject('/sandbox/log?since=0');
    expect(log.json().calls.length).toBeGreaterThan(10);
  });
});
