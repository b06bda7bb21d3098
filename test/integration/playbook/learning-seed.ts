import type { DataSource } from 'typeorm';
import { Customer, ExternalContact, Follow, ScriptTemplate, Touch } from '../../../server/db/entities';

export const DAY = 86_400_000;
/** 2026-11-20 10:00 bank time (UTC+8). */
export const OUTCOME_AT = Date.UTC(2026, 10, 20, 2, 0, 0);

/**
 * A small library for the learning tests: script 1 (product 稳享理财, variant A of group wealth),
 * script 2 (variant B of wealth), script 3 (no product, stage 1), sent to four customers.
 */
export async function seedLearning(
  ds: DataSource,
): Promise<{ templates: Record<string, number>; touches: Record<string, number> }> {
  const now = OUTCOME_AT - 30 * DAY;
  const base = {
    content: '{{客户称呼}}您好',
    segments: '',
    bankTags: '',
    riskClass: 'none' as const,
    channel: 'chat' as const,
    ownerUserid: null,
    status: 'approved' as const,
    expiresAt: null,
    disclaimer: null,
    attachments: null,
    createdBy: 'system',
    createdAt: now,
    updatedAt: now,
    version: 1,
    lineageId: null,
  };
  const repo = ds.getRepository(ScriptTemplate);
  const a = await repo.save({
    ...base,
    title: '稳享理财 A',
    stage: 2,
    product: '稳享理财',
    variantGroup: 'wealth',
    variant: 'A',
  });
  const b = await repo.save({
    ...base,
    title: '稳享理财 B',
    stage: 2,
    product: '稳享理财',
    variantGroup: 'wealth',
    variant: 'B',
  });
  const c = await repo.save({ ...base, title: '首次问候', stage: 1, product: null, variantGroup: null, variant: null });
  for (const id of ['C1', 'C2', 'C3', 'C4']) {
    await ds.getRepository(Customer).save({ id, maskedName: '王*', segment: '高潜', createdAt: now, updatedAt: now });
    await ds.getRepository(ExternalContact).save({
      externalUserid: `wm${id}`,
      customerId: id,
      name: 'x',
      matchedBy: 'manual',
      createdAt: now,
      updatedAt: now,
    });
    await ds.getRepository(Follow).save({
      externalUserid: `wm${id}`,
      userid: 'mgr1',
      addedAt: now,
      deletedAt: id === 'C4' ? OUTCOME_AT - 8 * DAY : null,
      deletedBy: id === 'C4' ? 'customer' : null,
      state: null,
      remark: null,
    });
  }
  const touch = async (
    ext: string,
    templateId: number,
    channel: string,
    sentAt: number,
    confirmedAt: number | null = null,
  ) =>
    (
      await ds.getRepository(Touch).save({
        externalUserid: ext,
        userid: 'mgr1',
        templateId,
        templateVersion: 1,
        stage: 1,
        channel,
        sentAt,
        sentDay: Math.floor((sentAt + 8 * 3_600_000) / DAY),
        confirmedAt,
      })
    ).id;
  const touches = {
    c1Greeting: await touch('wmC1', c.id, 'send', OUTCOME_AT - 10 * DAY),
    c1WealthA: await touch('wmC1', a.id, 'send', OUTCOME_AT - 5 * DAY),
    c1CopyGreeting: await touch('wmC1', c.id, 'copy', OUTCOME_AT - 2 * DAY),
    c2ConfirmedCopy: await touch('wmC2', c.id, 'copy', OUTCOME_AT - 3 * DAY, OUTCOME_AT - 3 * DAY + 60_000),
    c2WealthBOld: await touch('wmC2', b.id, 'send', OUTCOME_AT - 20 * DAY),
    c3WealthB: await touch('wmC3', b.id, 'send', OUTCOME_AT - 1 * DAY),
    c4WealthB: await touch('wmC4', b.id, 'send', OUTCOME_AT - 10 * DAY),
  };
  return { templates: { a: a.id, b: b.id, c: c.id }, touches };
}

/** Outcomes for the seed: bank-local times, one per line. */
export const OUTCOMES_CSV =
  'customer_id,event,product,amount,occurred_at\n' +
  'C1,购买理财,稳享理财,150000,2026-11-20 10:00\n' +
  'C1,签约手机银行,,,2026-11-20 10:00\n' +
  'C2,开户,,,2026-11-20 10:00\n' +
  'C2,购买理财,稳享理财,,2026-11-20 10:00\n' +
  'C3,购买理财,稳享理财,"3,500,000",2026-11-20 10:00\n' +
  'C9,开户,,,2026-11-20\n';
