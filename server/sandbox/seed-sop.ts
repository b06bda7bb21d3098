import type { EntityManager } from 'typeorm';
import { ScriptTemplate, SopPlan, SopPlanVersion } from '../db/entities';
import { approvedBySandbox } from './demo-data';

/**
 * The demo's SOP plans:
 * - every branch's customer group gets the 财富沙龙 announcement on Mondays at 10:00 (an approved
 *   group-channel script). The audience is read from the group registry, which the nightly
 *   groups-sync fills (the sandbox page's 立即执行本期 syncs it first when it is still empty);
 * - every manager serving customers posts the 周末理财小课堂 to their customers' moments on Fridays
 *   at 10:00: one WeCom moment task carries all of them (server/sop/moments.ts).
 */
export const DEMO_SOP_PLAN_ID = 'demo-weekly-salon';
export const DEMO_MOMENTS_PLAN_ID = 'demo-weekend-class';

export async function seedDemoSop(tx: EntityManager, now: number): Promise<void> {
  await seedPlan(tx, now, {
    id: DEMO_SOP_PLAN_ID,
    name: '每周财富沙龙预告',
    channel: 'group',
    audience: { groups: {} },
    schedule: '0 10 * * 1',
    title: '每周财富沙龙预告（客户群）',
    content: '各位好！本周六上午 10:00，{{网点}}举办财富沙龙：年末资产配置与养老规划。欢迎在群里报名，名额有限。',
  });
  await seedPlan(tx, now, {
    id: DEMO_MOMENTS_PLAN_ID,
    name: '周末理财小课堂（朋友圈）',
    channel: 'moments',
    audience: { customers: {} },
    schedule: '0 10 * * 5',
    title: '周末理财小课堂（朋友圈）',
    content: '周末理财小课堂开讲啦：年末如何给家庭资产做一次体检？欢迎到网点和我们聊聊。',
  });
}

async function seedPlan(
  tx: EntityManager,
  now: number,
  p: {
    id: string;
    name: string;
    channel: 'group' | 'moments';
    audience: object;
    schedule: string;
    title: string;
    content: string;
  },
): Promise<void> {
  const res = await tx.insert(ScriptTemplate, {
    title: p.title,
    content: p.content,
    category: '活动通知',
    stage: null,
    segments: '',
    bankTags: '',
    product: null,
    riskClass: 'none',
    channel: p.channel,
    variant: null,
    disclaimer: null,
    attachments: null,
    ...approvedBySandbox(now),
  });
  const templateId = res.identifiers[0].id as number;
  await tx.query('UPDATE script_templates SET lineage_id = id WHERE id = ?', [templateId]);
  const body = {
    id: p.id,
    name: p.name,
    channel: p.channel,
    audience: p.audience,
    schedule: p.schedule,
    template: templateId,
  };
  await tx.insert(SopPlan, {
    id: body.id,
    name: body.name,
    channel: p.channel,
    status: 'active',
    version: 1,
    createdBy: 'sandbox',
    createdAt: now,
    updatedAt: now,
  });
  await tx.insert(SopPlanVersion, { planId: body.id, version: 1, body, createdBy: 'sandbox', createdAt: now });
}
