import type { EntityManager } from 'typeorm';
import { ScriptTemplate, SopPlan, SopPlanVersion } from '../db/entities';
import { approvedBySandbox } from './demo-data';

/**
 * The demo's weekly SOP plan: every branch's customer group gets the 财富沙龙 announcement on
 * Mondays at 10:00 (an approved group-channel script). The audience is read from the group
 * registry, which the nightly groups-sync fills (the sandbox page's 立即执行本期 syncs it first
 * when it is still empty).
 */
export const DEMO_SOP_PLAN_ID = 'demo-weekly-salon';

export async function seedDemoSop(tx: EntityManager, now: number): Promise<void> {
  const res = await tx.insert(ScriptTemplate, {
    title: '每周财富沙龙预告（客户群）',
    content: '各位好！本周六上午 10:00，{{网点}}举办财富沙龙：年末资产配置与养老规划。欢迎在群里报名，名额有限。',
    category: '活动通知',
    stage: null,
    segments: '',
    bankTags: '',
    product: null,
    riskClass: 'none',
    channel: 'group',
    variant: null,
    disclaimer: null,
    attachments: null,
    ...approvedBySandbox(now),
  });
  const templateId = res.identifiers[0].id as number;
  await tx.query('UPDATE script_templates SET lineage_id = id WHERE id = ?', [templateId]);
  const body = {
    id: DEMO_SOP_PLAN_ID,
    name: '每周财富沙龙预告',
    channel: 'group' as const,
    audience: { groups: {} },
    schedule: '0 10 * * 1',
    template: templateId,
  };
  await tx.insert(SopPlan, {
    id: body.id,
    name: body.name,
    channel: 'group',
    status: 'active',
    version: 1,
    createdBy: 'sandbox',
    createdAt: now,
    updatedAt: now,
  });
  await tx.insert(SopPlanVersion, { planId: body.id, version: 1, body, createdBy: 'sandbox', createdAt: now });
}
