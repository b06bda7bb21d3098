import { createDecipheriv, createHash } from 'node:crypto';
import Fastify, { FastifyInstance } from 'fastify';
import { decodeAesKey } from '../../../server/config';
import { InboxEvent } from '../../../server/db/entities';
import {
  deliverCallbackHttp,
  simulateAddContact,
  simulateCustomerDeletesManager,
  simulateManagerDeletesCustomer,
  simulateTagChanged,
  simulateTextMessage,
  simulateTransferRefused,
} from '../../../server/sandbox/simulator';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';
import { loadVectors } from '../../helpers/vectors';

/** PROTOCOL.md §1 written out independently of server/wecom/crypto.ts: the vectors' algorithm. */
function referenceOpen(token: string, aesKey: string, q: Record<string, string>, encrypt: string) {
  const sig = createHash('sha1').update([token, q.timestamp, q.nonce, encrypt].sort().join('')).digest('hex');
  if (sig !== q.msg_signature) throw new Error('signature mismatch');
  const key = decodeAesKey(aesKey);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const pad = plain[plain.length - 1];
  const body = plain.subarray(0, plain.length - pad);
  const len = body.readUInt32BE(16);
  return { message: body.subarray(20, 20 + len).toString('utf8'), receiveId: body.subarray(20 + len).toString('utf8') };
}

describe('reference verifier', () => {
  it('opens the published event vectors (so it can judge the simulator)', () => {
    for (const v of loadVectors().filter((x) => x.kind === 'event')) {
      const q = { msg_signature: v.msgSignature, timestamp: v.timestamp, nonce: v.nonce };
      expect(referenceOpen(v.token, v.encodingAesKey, q, v.encrypt)).toEqual({
        message: v.plaintext,
        receiveId: v.receiveId,
      });
    }
  });
});

describe.each(DB_TARGETS)('sandbox simulator on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  const inbox = () => fresh.ds.getRepository(InboxEvent).find({ order: { id: 'ASC' } });

  const suite = useApp(target, { env: { DEMO_DATA: 'true' } });
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  it("seals envelopes that verify and decrypt with the vectors' algorithm", async () => {
    const captured: { query: Record<string, string>; body: string }[] = [];
    const sink = Fastify();
    sink.addContentTypeParser('text/xml', { parseAs: 'string' }, (_r, b, done) => done(null, b));
    sink.post('/wecom/callback', async (req) => {
      captured.push({ query: req.query as Record<string, string>, body: req.body as string });
      return 'success';
    });
    const base = await sink.listen({ port: 0, host: '127.0.0.1' });
    try {
      const w = app.config.wecom;
      const plaintext = '<xml><ToUserName><![CDATA[x]]></ToUserName><Content><![CDATA[你好 💰]]></Content></xml>';
      const r = await deliverCallbackHttp(base, w, plaintext);
      expect(r).toEqual({ status: 200, body: 'success' });
      const [{ query, body }] = captured;
      const encrypt = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(body)?.[1] as string;
      expect(body).toContain(`<ToUserName><![CDATA[${w.corpId}]]></ToUserName>`);
      expect(referenceOpen(w.token, w.aesKey, query, encrypt)).toEqual({ message: plaintext, receiveId: w.corpId });
    } finally {
      await sink.close();
    }
  });

  it('a simulated add (with state and welcome code) is accepted by the real route and lands in the inbox', async () => {
    const before = (await inbox()).length;
    const r = await simulateAddContact(app, { userid: 'hz_chenjing', state: 'demo_state_01', name: '测试客户' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('success');
    expect(r.welcomeCode).toBeTruthy();
    expect(r.plaintext).toContain('<ChangeType><![CDATA[add_external_contact]]></ChangeType>');
    expect(r.plaintext).toContain('<State><![CDATA[demo_state_01]]></State>');
    const rows = await inbox();
    expect(rows).toHaveLength(before + 1);
    expect(rows[rows.length - 1].payload).toBe(r.plaintext);

    // The fake now knows the contact and accepts the welcome code once.
    const detail = await app.wecom.getExternalContact(r.externalUserId as string);
    expect(detail.follow_user).toEqual([expect.objectContaining({ userid: 'hz_chenjing', state: 'demo_state_01' })]);
    await app.wecom.sendWelcomeMsg({ welcome_code: r.welcomeCode as string, text: { content: '您好' } });
    await expect(
      app.wecom.sendWelcomeMsg({ welcome_code: r.welcomeCode as string, text: { content: '您好' } }),
    ).rejects.toMatchObject({
      errcode: 41051,
      kind: 'final',
    });
  });

  it('an add without state or welcome code leaves both elements out', async () => {
    const r = await simulateAddContact(app, { userid: 'hz_wangqiang', welcomeCode: false });
    expect(r.status).toBe(200);
    expect(r.plaintext).not.toContain('<State>');
    expect(r.plaintext).not.toContain('<WelcomeCode>');
    expect(r.welcomeCode).toBeUndefined();
  });

  it('churn, manager delete, transfer refusal, tag change and a text message all reach the inbox', async () => {
    const before = (await inbox()).length;
    const add = await simulateAddContact(app, { userid: 'hz_sunlei' });
    const ext = add.externalUserId as string;
    const churn = await simulateCustomerDeletesManager(app, { userid: 'hz_sunlei', externalUserId: ext });
    expect(churn.plaintext).toContain('del_follow_user');

    // An on-job transfer in the fake, refused by the customer.
    const started = await app.wecom.transferCustomer({
      handover_userid: 'hz_sunlei',
      takeover_userid: 'hz_zhaomin',
      external_userid: [ext],
    });
    expect(started).toEqual([{ external_userid: ext, errcode: 0 }]);
    const refused = await simulateTransferRefused(app, { takeoverUserid: 'hz_zhaomin', externalUserId: ext });
    expect(refused.plaintext).toContain('<FailReason><![CDATA[customer_refused]]></FailReason>');
    const result = await app.wecom.transferResult({ handover_userid: 'hz_sunlei', takeover_userid: 'hz_zhaomin' });
    expect(result.customer).toEqual([expect.objectContaining({ external_userid: ext, status: 3 })]);

    // A second transfer completes: del_external_contact with Source=DELETE_BY_TRANSFER moves the relation.
    await app.wecom.transferCustomer({
      handover_userid: 'hz_sunlei',
      takeover_userid: 'hz_zhaomin',
      external_userid: [ext],
    });
    const moved = await simulateManagerDeletesCustomer(app, {
      userid: 'hz_sunlei',
      externalUserId: ext,
      byTransfer: true,
    });
    expect(moved.plaintext).toContain('<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>');
    expect((await app.wecom.getExternalContact(ext)).follow_user.map((f) => f.userid)).toEqual(['hz_zhaomin']);

    const del = await simulateManagerDeletesCustomer(app, { userid: 'hz_zhaomin', externalUserId: ext });
    expect(del.plaintext).not.toContain('<Source>');
    const tag = await simulateTagChanged(app, { changeType: 'create', name: '国庆活动' });
    expect(tag.plaintext).toContain('<Event><![CDATA[change_external_tag]]></Event>');
    const groups = await app.wecom.getCorpTagList({ tag_id: [tag.tagId as string] });
    expect(groups[0].tag.map((t) => t.name)).toEqual(['国庆活动']);
    const msg = await simulateTextMessage(app, { userid: 'hz_sunlei', content: '你好 ]]> <b>&' });
    expect(msg.plaintext).toMatch(/<MsgId>\d{19}<\/MsgId>/);

    const rows = await inbox();
    expect(rows).toHaveLength(before + 7);
    for (const r of [add, churn, refused, moved, del, tag, msg]) expect(r.status).toBe(200);
    expect(rows.slice(-7).map((r) => r.payload)).toEqual(
      [add, churn, refused, moved, del, tag, msg].map((r) => r.plaintext),
    );
  });

  it('works against a running server by base URL (POST /sandbox/simulate/…)', async () => {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const before = (await inbox()).length;
    const r = await simulateAddContact(base, { userid: 'hz_gaoyan', state: 'remote' });
    expect(r.status).toBe(200);
    expect(await inbox()).toHaveLength(before + 1);
    await expect(simulateAddContact(base, { userid: 'nobody' })).rejects.toThrow(/no sandbox member nobody/);
    await expect(simulateAddContact(base, { userid: 'hz_gaoyan', state: 'x'.repeat(31) })).rejects.toThrow(/30/);
  });
});
