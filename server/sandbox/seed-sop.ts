import type { EntityManager } from 'typeorm';
import { CustomerGroup, ScriptTemplate, SopPlan, SopPlanVersion } from '../db/entities';
import { DEMO_MANAGERS, demoGroups } from './demo-data';

/**
 * The demo's weekly SOP plan: every branch's customer group gets the 财富沙龙 announcement on
 * Mondays at 10:00 (an approved group-channel script). The group registry is seeded from the fake
 * corp's demo groups (the nightly sync would find the same), so `ops sop run demo-weekly-salon
 * --apply` or the sandbox page's 立即执行本期 shows tasks at once.
 */
export const DEMO_SOP_PLAN_ID = 'demo-weekly-salon';

export async function seedDemoSop(tx: EntityManager, now: number, expiresAt: number): Promise<void> {
  const branchOf = new Map(DEMO_MANAGERS.map((m) => [m.userid, m.branchCode]));
  await tx
    .createQueryBuilder()
    .insert()
    .into(CustomerGroup)
    .values(
      demoGroups().map((g) => ({
        chatId: g.chat_id,
        name: g.name,
        ownerUserid: g.owner,
        branchCode: branchOf.get(g.owner) ?? null,
        purpose: '网点客户维护',
        ownerStatus: 0,
        memberVersion: g.member_version,
        memberCount: g.members.length,
        customerCount: g.members.filter((m) => m.type === 2).length,
        createdAt: g.create_time * 1000,
        dismissedAt: null,
        syncedAt: now,
        updatedAt: now,
      })),
    )
    .orIgnore()
    .updateEntity(false)
    .execute();
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
    ownerUserid: null,
    status: 'approved',
    expiresAt,
    disclaimer: null,
    attachments: null,
    createdBy: 'sandbox',
    reviewer: 'sandbox',
    submittedAt: now,
    reviewedAt: now,
    createdAt: now,
    updatedAt: now,
  });
  const templateId = res.identifiers[0].id as number;
  await tx.query('UPDATE script_templates SET lineage_id = id WHERE id = ?', [templateId]);
  const body = {
    id: DEMO_SOP_PLAN_ID,
    name: '每周财富沙龙预告',
    channel: 'group' as const,
    audience: { groups: { purposes: ['网点客户维护'] } },
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
