import type { DataSource } from 'typeorm';
import { Branch, Customer, Follow, Manager, ScriptTemplate } from '../../../server/db/entities';

/**
 * A small org for integration tests: two branches in Hangzhou ~5 km apart, managers at each, an
 * owner relation and an approved welcome template. Coordinates are real so distances are meaningful.
 */

export const HZ_WEST = { code: 'HZ01', name: '杭州西湖支行', lat: 30.2595, lng: 120.13 };
export const HZ_EAST = { code: 'HZ02', name: '杭州钱江支行', lat: 30.246, lng: 120.21 };
export const SH = { code: 'SH01', name: '上海陆家嘴支行', lat: 31.2397, lng: 121.4998 };

export async function seedOrg(db: DataSource, now = Date.now()): Promise<void> {
  await db.manager.insert(
    Branch,
    [HZ_WEST, HZ_EAST, SH].map((b) => ({
      ...b,
      parentCode: null,
      regionCode: b.code.slice(0, 2),
      active: true,
      updatedAt: now,
    })),
  );
  const m = (userid: string, name: string, branchCode: string, extra: Partial<Manager> = {}) => ({
    userid,
    name,
    branchCode,
    role: 'manager' as const,
    capacity: 50,
    status: 'active' as const,
    accepting: true,
    skills: '',
    updatedAt: now,
    ...extra,
  });
  await db.manager.insert(Manager, [
    m('wang_hz01', '王经理', 'HZ01'),
    m('li_hz01', '李经理', 'HZ01'),
    m('zhao_hz02', '赵经理', 'HZ02'),
    m('chen_sh01', '陈经理', 'SH01'),
  ]);
  // li already carries one customer, so wang (least loaded) gets new ones at HZ01.
  await db.manager.insert(Follow, {
    externalUserid: 'wm_existing_1',
    userid: 'li_hz01',
    state: null,
    remark: null,
    addedAt: now,
    deletedAt: null,
    deletedBy: null,
    half: false,
  });
  await db.manager.insert(Customer, [
    customer('C001', { ownerUserid: 'zhao_hz02', segment: '高潜', maskedName: '张*明' }, now),
    customer('C002', { segment: '代发', maskedName: '刘*' }, now),
  ]);
}

export function customer(id: string, extra: Partial<Customer>, now = Date.now()): Customer {
  return {
    id,
    maskedName: '',
    phoneHash: null,
    segment: null,
    ownerUserid: null,
    lat: null,
    lng: null,
    regionCode: null,
    bankTags: null,
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

export async function seedWelcomeTemplate(db: DataSource, now = Date.now()): Promise<number> {
  const res = await db.manager.insert(ScriptTemplate, {
    title: '欢迎语',
    content: '{{客户称呼}}您好，我是{{网点}}的客户经理{{客户经理}}，很高兴为您服务。',
    stage: 1,
    segments: '',
    product: null,
    variant: null,
    ownerUserid: null,
    status: 'approved',
    expiresAt: null,
    disclaimer: null,
    attachments: null,
    channel: 'welcome',
    createdBy: 'test',
    createdAt: now,
    updatedAt: now,
  });
  return res.identifiers[0].id as number;
}
