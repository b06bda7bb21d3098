// Shared setup of the sidebar API tests: a fresh database per suite, the app built in sandbox mode,
// a seeded bank (branches, managers, customers, contacts, follows, tags, templates) and login helpers.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { DataSource } from 'typeorm';
import { build } from '../../../server/app';
import type { Config } from '../../../server/config';
import { openDatabase } from '../../../server/db/data-source';
import {
  Allocation,
  Branch,
  ContactTag,
  CorpTag,
  Customer,
  ExternalContact,
  Follow,
  Manager,
  ScriptTemplate,
} from '../../../server/db/entities';
import { sidebarPlugin } from '../../../server/sidebar';
import { type DbTarget, type FreshDb, freshDb, testConfig } from '../../helpers/db';

export const T0 = Date.UTC(2026, 10, 23, 2, 0, 0);
export const SECRET = 'test-session-secret-0123456789abcdef';
export const PUBLIC = 'https://sidebar.bank.test';

/**
 * The far side of WeCom is the sandbox that build() mounts in sandbox mode (server/sandbox): its fake
 * API answers auth/getuserinfo (single-use codes, 40029), the jsapi tickets and mark_tag (84061
 * without a relation, 40068 for unknown tags). These helpers load the seeded bank into it and read
 * what it recorded.
 */
export class FarSide {
  constructor(private readonly app: FastifyInstance) {}

  get fake() {
    if (!this.app.sandbox) throw new Error('the WeCom sandbox is not mounted (config.wecom.sandbox is off)');
    return this.app.sandbox.fake;
  }

  issueCode(userid: string): string {
    return this.fake.issueOAuthCode(userid);
  }

  /** Bodies of the mark_tag calls the fake answered, oldest first. */
  markTagCalls(): unknown[] {
    return this.fake.calls.filter((c) => c.api === 'externalcontact/mark_tag').map((c) => c.body);
  }

  /** Make WeCom forget a relation (the customer deleted the manager there first); returns a restore function. */
  dropRelation(externalUserid: string, userid: string): () => void {
    const key = `${externalUserid}|${userid}`;
    const follow = this.fake.follows.get(key);
    this.fake.follows.delete(key);
    return () => {
      if (follow) this.fake.follows.set(key, follow);
    };
  }

  tickets(): Promise<[string, string]> {
    return Promise.all([this.app.wecom.getJsapiTicket(), this.app.wecom.getAgentTicket()]);
  }
}

export interface SidebarTestApp {
  app: FastifyInstance;
  db: DataSource;
  fresh: FreshDb;
  far: FarSide;
  clock: { now: number };
  config: Config;
  login(userid: string): Promise<string>;
  get(url: string, cookie?: string): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown, cookie?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startSidebarApp(target: DbTarget, env: Record<string, string> = {}): Promise<SidebarTestApp> {
  const fresh = await freshDb(target);
  const db = await openDatabase({ url: fresh.url });
  const config = testConfig(fresh.url, { SESSION_SECRET: SECRET, PUBLIC_BASE_URL: PUBLIC, ...env });
  const clock = { now: T0 };
  const app = await build(config, { db, now: () => clock.now });
  // Until build() registers the sidebar itself (one line in app.ts), add it here.
  if (!app.hasPlugin('sidebar')) await app.register(sidebarPlugin, { staticRoot: null });
  await app.ready();
  const far = new FarSide(app);
  await seed(db, far);

  const cookieOf = (res: LightMyRequestResponse) => {
    const c = res.cookies.find((x) => x.name === 'sb_session');
    return c ? `sb_session=${c.value}` : '';
  };
  return {
    app,
    db,
    fresh,
    far,
    clock,
    config,
    async login(userid) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/sidebar/session',
        payload: { code: far.issueCode(userid) },
      });
      if (res.statusCode !== 200) throw new Error(`login ${userid} failed: ${res.statusCode} ${res.body}`);
      return cookieOf(res);
    },
    get: (url, cookie) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} }),
    post: (url, body, cookie) =>
      app.inject({ method: 'POST', url, payload: body as object, headers: cookie ? { cookie } : {} }),
    async close() {
      await app.close();
      await db.destroy();
      await fresh.drop();
    },
  };
}

export const sessionCookieOf = (res: LightMyRequestResponse) => res.cookies.find((x) => x.name === 'sb_session');

/**
 * The seeded bank. Branch B001 (朝阳支行): lilei, hanmei (managers), lead1 (branch lead), op1 (operator).
 * Branch B002 (海淀支行): zhang (manager), lead2 (branch lead). gone: resigned.
 *   wmA → C001 王*明 (代发), owner lilei, followed by lilei
 *   wmB → C002 (高潜), owner zhang, followed by zhang; hanmei's follow was deleted
 *   wmC → not linked, followed by lilei
 *   wmD → C003 (no owner), followed by hanmei
 *   wmE → C004, owner lilei, followed by hanmei only
 */
export async function seed(db: DataSource, far: FarSide): Promise<void> {
  const at = T0 - 86_400_000;
  await db.getRepository(Branch).insert([
    {
      code: 'B001',
      name: '朝阳支行',
      parentCode: null,
      regionCode: '110105',
      lat: 39.92,
      lng: 116.44,
      active: true,
      updatedAt: at,
    },
    {
      code: 'B002',
      name: '海淀支行',
      parentCode: null,
      regionCode: '110108',
      lat: 39.96,
      lng: 116.3,
      active: true,
      updatedAt: at,
    },
  ]);
  const m = (
    userid: string,
    name: string,
    branchCode: string,
    role: Manager['role'],
    status: Manager['status'] = 'active',
  ) => ({
    userid,
    name,
    branchCode,
    role,
    status,
    capacity: 100,
    accepting: true,
    skills: '',
    updatedAt: at,
  });
  await db
    .getRepository(Manager)
    .insert([
      m('lilei', '李雷', 'B001', 'manager'),
      m('hanmei', '韩梅', 'B001', 'manager'),
      m('lead1', '王组长', 'B001', 'branch_lead'),
      m('op1', '运营甲', 'B001', 'operator'),
      m('zhang', '张伟', 'B002', 'manager'),
      m('lead2', '赵组长', 'B002', 'branch_lead'),
      m('gone', '离职者', 'B001', 'manager', 'resigned'),
    ]);
  const c = (id: string, maskedName: string, segment: string, ownerUserid: string | null, bankTags: string[]) => ({
    id,
    maskedName,
    phoneHash: `phonehash-${id}-do-not-leak`,
    segment,
    ownerUserid,
    lat: null,
    lng: null,
    regionCode: null,
    bankTags,
    createdAt: at,
    updatedAt: at,
  });
  await db
    .getRepository(Customer)
    .insert([
      c('C001', '王*明', '代发', 'lilei', ['代发工资', '基金定投']),
      c('C002', '赵*', '高潜', 'zhang', []),
      c('C003', '孙*丽', '流降', null, []),
      c('C004', '周*', '代发', 'lilei', []),
      c('C005', '吴*', '代发', null, []),
    ]);
  const ec = (externalUserid: string, customerId: string | null, gender: number) => ({
    externalUserid,
    customerId,
    unionid: null,
    name: '微信昵称不可外泄',
    type: 1,
    gender,
    avatar: null,
    matchedBy: customerId ? 'state' : null,
    createdAt: at,
    updatedAt: at,
  });
  await db
    .getRepository(ExternalContact)
    .insert([
      ec('wmA', 'C001', 1),
      ec('wmB', 'C002', 2),
      ec('wmC', null, 0),
      ec('wmD', 'C003', 2),
      ec('wmE', 'C004', 0),
    ]);
  const f = (externalUserid: string, userid: string, deletedAt: number | null = null) => ({
    externalUserid,
    userid,
    state: null,
    remark: null,
    addedAt: at,
    deletedAt,
    deletedBy: deletedAt ? ('manager' as const) : null,
    half: false,
  });
  const follows = [
    f('wmA', 'lilei'),
    f('wmB', 'zhang'),
    f('wmB', 'hanmei', at + 1000),
    f('wmC', 'lilei'),
    f('wmD', 'hanmei'),
    f('wmE', 'hanmei'),
  ];
  await db.getRepository(Follow).insert(follows);

  const tag = (id: string, groupId: string, groupName: string, name: string, sortOrder: number, deleted = false) => ({
    id,
    groupId,
    groupName,
    name,
    sortOrder,
    deleted,
    updatedAt: at,
  });
  await db.getRepository(CorpTag).insert([
    // WeCom's order: larger first (groups by groupOrder, tags by sortOrder).
    { ...tag('t1', 'g1', '客户意向', '高意向', 2), groupOrder: 2 },
    { ...tag('t2', 'g1', '客户意向', '待跟进', 1), groupOrder: 2 },
    { ...tag('t3', 'g2', '产品偏好', '理财', 2), groupOrder: 1 },
    { ...tag('t4', 'g2', '产品偏好', '已停用', 1, true), groupOrder: 1 },
  ]);
  await db.getRepository(ContactTag).insert([
    { externalUserid: 'wmA', userid: 'lilei', tagId: 't1', createdAt: at },
    { externalUserid: 'wmA', userid: 'hanmei', tagId: 't3', createdAt: at },
  ]);
  const tpl = (over: Partial<ScriptTemplate>) => ({
    title: '模板',
    content: '内容',
    stage: 1,
    segments: '',
    product: null,
    variant: null,
    ownerUserid: null,
    status: 'approved' as const,
    expiresAt: null,
    disclaimer: null,
    attachments: null,
    channel: 'chat' as const,
    createdBy: 'system',
    createdAt: at,
    updatedAt: at,
    ...over,
  });
  await db.getRepository(ScriptTemplate).insert([
    tpl({
      title: '代发首次问候',
      content: '{{客户称呼}}您好，我是{{网点}}的客户经理{{客户经理}}。',
      stage: 1,
      segments: '代发',
    }),
    tpl({ title: '通用问候', content: '{{客户称呼}}您好！', stage: 1 }),
    tpl({
      title: '基金定投介绍',
      content: '{{客户称呼}}，了解一下定投吗？',
      stage: 2,
      segments: '代发,高潜',
      product: '基金定投',
      disclaimer: '基金有风险，投资需谨慎。',
    }),
    tpl({ title: '高潜专属', content: '高潜客户专享', stage: 1, segments: '高潜' }),
    tpl({ title: '李雷的私房话术', content: '我是{{客户经理}}，有事随时找我', stage: 1, ownerUserid: 'lilei' }),
    tpl({ title: '韩梅的话术', content: '韩梅的', stage: 1, ownerUserid: 'hanmei' }),
    tpl({ title: '草稿话术', content: '未审核', stage: 1, status: 'draft' }),
    tpl({ title: '过期话术', content: '已过期', stage: 1, expiresAt: T0 - 1 }),
    tpl({ title: '欢迎语', content: '欢迎', stage: 1, channel: 'welcome' }),
    tpl({ title: '第四次回访', content: '回访', stage: 4 }),
  ]);
  await db.getRepository(Allocation).insert({
    id: 'al1',
    customerId: 'C001',
    externalUserid: 'wmA',
    userid: 'lilei',
    branchCode: 'B001',
    ruleVersion: 'v1',
    source: 'entry',
    reason: 'owner',
    distanceMeters: null,
    explanation: { summaryZh: '管户客户经理 lilei 在岗，直接分配' },
    status: 'confirmed',
    campaign: null,
    state: null,
    configId: null,
    qrCode: null,
    createdAt: at,
    confirmedAt: at,
    expiresAt: null,
  });

  // The same bank inside the fake WeCom: members, contacts, live follows with their tags, the tag library.
  const createtime = Math.floor(at / 1000);
  const managers = await db.getRepository(Manager).find();
  const contactTags = await db.getRepository(ContactTag).find();
  far.fake.load({
    users: managers.map((x) => ({ userid: x.userid, name: x.name, department: [1], main_department: 1, status: 1 })),
    contacts: ['wmA', 'wmB', 'wmC', 'wmD', 'wmE'].map((id) => ({
      external_userid: id,
      name: '微信昵称不可外泄',
      type: 1,
      gender: 1,
    })),
    follows: follows
      .filter((x) => !x.deletedAt)
      .map((x) => ({
        userid: x.userid,
        external_userid: x.externalUserid,
        remark: '',
        description: '',
        createtime,
        add_way: 1,
        tag_ids: contactTags
          .filter((ct) => ct.externalUserid === x.externalUserid && ct.userid === x.userid)
          .map((ct) => ct.tagId),
      })),
    tagGroups: [
      {
        group_id: 'g1',
        group_name: '客户意向',
        create_time: createtime,
        order: 1,
        tag: [
          { id: 't1', name: '高意向', create_time: createtime, order: 1 },
          { id: 't2', name: '待跟进', create_time: createtime, order: 2 },
        ],
      },
      {
        group_id: 'g2',
        group_name: '产品偏好',
        create_time: createtime,
        order: 2,
        tag: [{ id: 't3', name: '理财', create_time: createtime, order: 1 }],
      },
    ],
  });
}
