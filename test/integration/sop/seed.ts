import type { DataSource } from 'typeorm';
import { Customer, CustomerGroup, ExternalContact, Follow, ScriptTemplate } from '../../../server/db/entities';
import type { FakeWecom } from '../../../server/sandbox/fake-wecom';
import { customer } from '../allocation/seed';

/**
 * SOP fixtures on top of seedOrg (HZ01: wang, li · HZ02: zhao · SH01: chen): customers followed in
 * the database AND in the fake corp, one customer group per manager, approved scripts per channel.
 */
export const CUSTOMERS = [
  { ext: 'wm_a1', userid: 'wang_hz01', segment: '代发' },
  { ext: 'wm_a2', userid: 'wang_hz01', segment: '高潜' },
  { ext: 'wm_a3', userid: 'li_hz01', segment: '代发' },
  { ext: 'wm_b1', userid: 'zhao_hz02', segment: '代发' },
  { ext: 'wm_b2', userid: 'zhao_hz02', segment: '代发' },
  { ext: 'wm_c1', userid: 'chen_sh01', segment: '代发' },
];
/** Deleted wang: never targeted. */
export const DELETED = { ext: 'wm_d1', userid: 'wang_hz01', segment: '代发' };
export const GROUPS = [
  { chatId: 'wr_g1', owner: 'wang_hz01', branch: 'HZ01' },
  { chatId: 'wr_g2', owner: 'li_hz01', branch: 'HZ01' },
  { chatId: 'wr_g3', owner: 'zhao_hz02', branch: 'HZ02' },
  { chatId: 'wr_g4', owner: 'chen_sh01', branch: 'SH01' },
];

export async function seedSop(db: DataSource, fake: FakeWecom, now: number) {
  const all = [...CUSTOMERS, DELETED];
  await db.manager.insert(
    Customer,
    all.map((c, i) => customer(`S${i}`, { segment: c.segment, maskedName: '客*' }, now)),
  );
  await db.manager.insert(
    ExternalContact,
    all.map((c, i) => ({
      externalUserid: c.ext,
      customerId: `S${i}`,
      unionid: null,
      name: '',
      type: 1,
      gender: 0,
      avatar: null,
      matchedBy: 'state',
      createdAt: now,
      updatedAt: now,
    })),
  );
  await db.manager.insert(
    Follow,
    all.map((c) => ({
      externalUserid: c.ext,
      userid: c.userid,
      state: null,
      remark: null,
      addedAt: now - 86_400_000,
      deletedAt: c === DELETED ? now - 3_600_000 : null,
      deletedBy: c === DELETED ? ('customer' as const) : null,
      half: false,
    })),
  );
  await db.manager.insert(
    CustomerGroup,
    GROUPS.map((g) => ({
      chatId: g.chatId,
      name: `${g.branch} 客户群`,
      ownerUserid: g.owner,
      branchCode: g.branch,
      purpose: '网点客户维护',
      ownerStatus: 0,
      memberVersion: null,
      memberCount: 3,
      customerCount: 2,
      createdAt: now,
      dismissedAt: null,
      syncedAt: now,
      updatedAt: now,
    })),
  );
  fake.load({
    contacts: all.map((c) => ({ external_userid: c.ext, name: 'x', type: 1, gender: 0 })),
    follows: all.map((c) => ({
      userid: c.userid,
      external_userid: c.ext,
      remark: '',
      description: '',
      createtime: Math.floor(now / 1000) - 86_400,
      add_way: 1,
      tag_ids: [],
      deletedByCustomer: c === DELETED,
    })),
    groups: GROUPS.map((g) => ({
      chat_id: g.chatId,
      name: `${g.branch} 客户群`,
      owner: g.owner,
      create_time: Math.floor(now / 1000),
      members: [{ userid: g.owner, type: 1, join_time: Math.floor(now / 1000), join_scene: 1 }],
      member_version: 'v1',
    })),
  });
  const tpl = (channel: 'group' | 'chat' | 'moments', content: string, status = 'approved') =>
    insertTemplate(db, channel, content, now, status);
  return {
    group: await tpl('group', '本周六上午十点，{{网点}}财富沙龙，欢迎各位报名。'),
    chat: await tpl('chat', '您好，我是{{客户经理}}，本月手机银行有新活动，欢迎了解。'),
    chat2: await tpl('chat', '您好，三方绑卡有礼，详情请咨询{{客户经理}}。'),
    moments: await tpl('moments', '周末理财小课堂开讲啦。'),
    draft: await tpl('group', '草稿', 'draft'),
  };
}

/** An SOP script of `channel` (approved unless told). */
export async function insertTemplate(
  db: DataSource,
  channel: 'group' | 'chat' | 'moments',
  content: string,
  now: number,
  status = 'approved',
): Promise<number> {
  const r = await db.manager.insert(ScriptTemplate, {
    title: `SOP ${channel}`,
    content,
    stage: null,
    segments: '',
    product: null,
    variant: null,
    ownerUserid: null,
    status: status as 'approved',
    expiresAt: null,
    disclaimer: null,
    attachments: null,
    channel,
    createdBy: 'test',
    createdAt: now,
    updatedAt: now,
  });
  return r.identifiers[0].id as number;
}
