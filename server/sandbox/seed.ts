import type { DataSource } from 'typeorm';
import { DEFAULT_RULE_SET } from '../allocation';
import { hashPhone } from '../customers/phone';
import { bumpCacheVersion } from '../db/cache-version';
import {
  Branch,
  Campaign,
  ContactTag,
  CorpTag,
  Customer,
  ExternalContact,
  Follow,
  Manager,
  RuleSetRow,
  ScriptTemplate,
} from '../db/entities';
import {
  approvedBySandbox,
  DEMO_BRANCHES,
  DEMO_CAMPAIGN,
  DEMO_CUSTOMERS,
  DEMO_MANAGERS,
  DEMO_RULE_VERSION,
  DEMO_TAG_GROUPS,
  DEMO_TEMPLATES,
} from './demo-data';
import { seedDemoWorkbench } from './demo-workbench';
import { seedDemoSop } from './seed-sop';

export interface SeedResult {
  branches: number;
  managers: number;
  customers: number;
  externalContacts: number;
  templates: number;
}

/**
 * Writes the demo bank into our DB, once: only when there are no branches yet, in one transaction,
 * so a restart (or two processes starting together) never duplicates anything.
 * Returns null when the DB already had data. With `phoneSalt` (PHONE_HASH_SALT) the demo customers'
 * phone numbers are stored as the imports store them, so the sidebar can link contacts by phone.
 */
export async function seedDemoData(db: DataSource, now: number, phoneSalt?: string): Promise<SeedResult | null> {
  if ((await db.getRepository(Branch).count()) > 0) return null;
  const contacts = DEMO_CUSTOMERS.filter((c) => c.externalUserid);
  try {
    await db.transaction(async (tx) => {
      const insert = <T>(entity: new () => T, rows: object[]) =>
        rows.length
          ? tx
              .createQueryBuilder()
              .insert()
              .into(entity)
              .values(rows as never)
              .updateEntity(false)
              .execute()
          : undefined;
      await insert(
        Branch,
        DEMO_BRANCHES.map((b) => ({
          code: b.code,
          name: b.name,
          parentCode: b.code === 'HZ001' ? null : 'HZ001',
          regionCode: b.regionCode,
          lat: b.lat,
          lng: b.lng,
          active: true,
          updatedAt: now,
        })),
      );
      await insert(
        Manager,
        DEMO_MANAGERS.map((m) => ({
          userid: m.userid,
          name: m.name,
          branchCode: m.branchCode,
          role: m.role,
          capacity: m.capacity,
          status: 'active',
          accepting: true,
          skills: m.skills,
          updatedAt: now,
        })),
      );
      await insert(
        Customer,
        DEMO_CUSTOMERS.map((c) => ({
          id: c.id,
          maskedName: c.maskedName,
          phoneHash: phoneSalt ? hashPhone(c.phone, phoneSalt) : null,
          segment: c.segment,
          ownerUserid: c.ownerUserid,
          lat: c.lat,
          lng: c.lng,
          regionCode: c.regionCode,
          bankTags: c.bankTags,
          createdAt: now,
          updatedAt: now,
        })),
      );
      await insert(
        ExternalContact,
        contacts.map((c) => ({
          externalUserid: c.externalUserid,
          customerId: c.id,
          unionid: null,
          name: c.nickname,
          type: 1,
          gender: c.gender ?? 0,
          avatar: null,
          matchedBy: 'manual',
          createdAt: now,
          updatedAt: now,
        })),
      );
      await insert(
        Follow,
        contacts.map((c) => ({
          externalUserid: c.externalUserid,
          userid: c.followUserid,
          state: null,
          remark: c.maskedName,
          addedAt: 1767225600_000,
          deletedAt: null,
          deletedBy: null,
          half: false,
        })),
      );
      await insert(
        CorpTag,
        DEMO_TAG_GROUPS.flatMap((g) =>
          g.tag.map((t) => ({
            id: t.id,
            groupId: g.group_id,
            groupName: g.group_name,
            name: t.name,
            sortOrder: t.order,
            groupOrder: g.order,
            deleted: false,
            updatedAt: now,
          })),
        ),
      );
      await insert(
        ContactTag,
        contacts.flatMap((c) =>
          (c.tagIds ?? []).map((tagId) => ({
            externalUserid: c.externalUserid,
            userid: c.followUserid,
            tagId,
            createdAt: now,
          })),
        ),
      );
      await insert(
        ScriptTemplate,
        DEMO_TEMPLATES.map((t) => ({
          ...t,
          ...approvedBySandbox(now),
          attachments: t.attachments ?? null,
        })),
      );
      // Bank profile, holdings and follow-up notes: 今日待办 has something of each kind today.
      await seedDemoWorkbench(tx, now);
      // Each demo script is the first version of its own lineage.
      await tx.query('UPDATE script_templates SET lineage_id = id WHERE lineage_id IS NULL');
      await bumpCacheVersion(tx, 'script_library', now);
      // The demo campaign (立减金): entry calls with campaign "demo-ljj" and its QR codes earn a reward.
      await insert(Campaign, [
        {
          code: DEMO_CAMPAIGN.code,
          name: DEMO_CAMPAIGN.name,
          startsAt: now - 86_400_000,
          endsAt: now + 90 * 86_400_000,
          rewardKind: 'voucher',
          rewardAmount: 10,
          newCustomersOnly: true,
          churnFlagDays: 7,
          body: DEMO_CAMPAIGN,
          createdBy: 'sandbox',
          createdAt: now,
          updatedAt: now,
        },
      ]);
      await seedDemoSop(tx, now);
      const hasActive = await tx.getRepository(RuleSetRow).count({ where: { active: true } });
      if (!hasActive) {
        await insert(RuleSetRow, [
          {
            version: DEMO_RULE_VERSION,
            body: JSON.stringify(DEFAULT_RULE_SET),
            author: 'sandbox',
            createdAt: now,
            active: true,
            activatedAt: now,
          },
        ]);
      }
    });
  } catch (err) {
    // Another process seeded at the same moment: its transaction won, ours rolled back whole.
    if ((await db.getRepository(Branch).count()) > 0) return null;
    throw err;
  }
  return {
    branches: DEMO_BRANCHES.length,
    managers: DEMO_MANAGERS.length,
    customers: DEMO_CUSTOMERS.length,
    externalContacts: contacts.length,
    templates: DEMO_TEMPLATES.length,
  };
}
