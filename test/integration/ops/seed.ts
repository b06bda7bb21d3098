import type { DataSource } from 'typeorm';
import { Allocation, Branch, Follow, Manager, Touch, Transfer, WelcomeMessage } from '../../../server/db/entities';

export const NOW = Date.UTC(2026, 10, 23, 2, 0, 0);
export const DAY = 86_400_000;
const ago = (days: number) => NOW - days * DAY;

/**
 * A small, fully known world for report tests (period = the 30 days before NOW):
 * zhangwei (PD01) 10 adds, 2 churned, 1 deleted by himself, 5 older follows → 12 active, 6 touched in 7d, 8 in 30d;
 * lina (PD01) 5 adds + 1 half follow, 1 touched; wangfang (XH01) 4 adds, 2 churned, none touched.
 */
export async function seedOrg(ds: DataSource): Promise<void> {
  await ds.getRepository(Branch).insert([
    {
      code: 'PD01',
      name: '浦东支行',
      parentCode: null,
      regionCode: '310115',
      lat: 31.2215,
      lng: 121.544,
      active: true,
      updatedAt: NOW,
    },
    {
      code: 'XH01',
      name: '徐汇支行',
      parentCode: null,
      regionCode: '310104',
      lat: 31.188,
      lng: 121.4365,
      active: true,
      updatedAt: NOW,
    },
  ]);
  const m = (userid: string, name: string, branchCode: string, status: Manager['status'] = 'active') => ({
    userid,
    name,
    branchCode,
    role: 'manager' as const,
    capacity: 100,
    status,
    accepting: true,
    skills: '',
    updatedAt: NOW,
  });
  await ds
    .getRepository(Manager)
    .insert([m('zhangwei', '张伟', 'PD01'), m('lina', '李娜', 'PD01'), m('wangfang', '王芳', 'XH01')]);
}

export async function seedActivity(ds: DataSource): Promise<void> {
  const follows: Partial<Follow>[] = [];
  const f = (
    ext: string,
    userid: string,
    addedDaysAgo: number,
    del?: { daysAgo: number; by: Follow['deletedBy'] },
    half = false,
  ) =>
    follows.push({
      externalUserid: ext,
      userid,
      state: null,
      remark: null,
      addedAt: ago(addedDaysAgo),
      deletedAt: del ? ago(del.daysAgo) : null,
      deletedBy: del?.by ?? null,
      half,
    });
  for (let i = 1; i <= 10; i++) {
    f(
      `wz${i}`,
      'zhangwei',
      i,
      i <= 2 ? { daysAgo: 0.5, by: 'customer' } : i === 3 ? { daysAgo: 0.5, by: 'manager' } : undefined,
    );
  }
  for (let i = 1; i <= 5; i++) f(`wzold${i}`, 'zhangwei', 60);
  for (let i = 1; i <= 5; i++) f(`wl${i}`, 'lina', i);
  f('wlhalf', 'lina', 2, undefined, true);
  for (let i = 1; i <= 4; i++) f(`ww${i}`, 'wangfang', i, i <= 2 ? { daysAgo: 0.2, by: 'customer' } : undefined);
  await ds.getRepository(Follow).insert(follows);

  const touches: Partial<Touch>[] = [];
  const t = (ext: string, userid: string, daysAgo: number, channel = 'send') =>
    touches.push({ externalUserid: ext, userid, templateId: null, stage: 1, channel, sentAt: ago(daysAgo) });
  for (const ext of ['wz4', 'wz5', 'wz6', 'wzold1', 'wzold2', 'wzold3']) t(ext, 'zhangwei', 3);
  t('wz4', 'zhangwei', 1, 'chat');
  for (const ext of ['wz7', 'wz8']) t(ext, 'zhangwei', 20);
  t('wz9', 'zhangwei', 1, 'copy');
  t('wz1', 'zhangwei', 2); // churned customer: not an active follow any more
  t('wl1', 'lina', 2);
  t('ww3', 'lina', 2); // a touch by someone else than the follow's manager does not count
  await ds.getRepository(Touch).insert(touches);

  let n = 0;
  const a = (userid: string | null, reason: string, status = 'confirmed', daysAgo = 2): Partial<Allocation> => ({
    id: `a${++n}`,
    customerId: `C${n}`,
    externalUserid: null,
    userid,
    branchCode: null,
    ruleVersion: 'v1',
    source: 'entry',
    reason,
    distanceMeters: null,
    explanation: {},
    status: status as Allocation['status'],
    campaign: null,
    state: null,
    configId: null,
    qrCode: null,
    createdAt: ago(daysAgo),
    confirmedAt: null,
    expiresAt: null,
  });
  await ds.getRepository(Allocation).insert([
    a('zhangwei', 'owner'),
    a('zhangwei', 'owner'),
    a('zhangwei', 'owner'),
    a('zhangwei', 'nearest_branch'),
    a('zhangwei', 'nearest_branch'),
    a('lina', 'nearest_branch'),
    a('lina', 'nearest_branch'),
    a('lina', 'nearest_branch'),
    a('lina', 'nearest_branch'),
    a('lina', 'nearest_branch', 'superseded'),
    a('lina', 'owner', 'confirmed', 45), // before the period
    a('wangfang', 'fallback'),
    a(null, 'none', 'expired'),
  ]);

  let w = 0;
  const wm = (userid: string, status: WelcomeMessage['status']): WelcomeMessage => ({
    codeHash: `h${++w}`,
    externalUserid: `x${w}`,
    userid,
    templateId: null,
    status,
    errcode: null,
    eventAt: ago(3),
    sentAt: null,
  });
  await ds
    .getRepository(WelcomeMessage)
    .insert([
      ...Array.from({ length: 4 }, () => wm('zhangwei', 'sent')),
      wm('zhangwei', 'failed'),
      wm('zhangwei', 'skipped'),
      wm('zhangwei', 'skipped'),
      wm('lina', 'already_sent'),
    ]);

  const tr = (ext: string, to: string, status: Transfer['status']): Partial<Transfer> => ({
    externalUserid: ext,
    handoverUserid: 'chenjing',
    takeoverUserid: to,
    kind: 'resigned',
    status,
    errcode: null,
    reason: null,
    requestedAt: ago(5),
    updatedAt: ago(4),
    takeoverTime: null,
  });
  await ds
    .getRepository(Transfer)
    .insert([
      tr('t1', 'lina', 'success'),
      tr('t2', 'lina', 'success'),
      tr('t3', 'lina', 'refused'),
      tr('t4', 'wangfang', 'waiting'),
    ]);
}
