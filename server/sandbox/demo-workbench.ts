import type { EntityManager } from 'typeorm';
import { Customer, CustomerHolding, Follow, FollowNote } from '../db/entities';
import { addDays, chinaDay } from '../lib/china-day';
import { DEMO_CUSTOMERS } from './demo-data';

/**
 * The demo's bank profile, holdings and 跟进记录, dated from the day of seeding so 今日待办 has
 * something of each kind today: 王强 (the sandbox's default manager) has a follow-up due, a product
 * maturing in 3 days and a birthday on DEMO0050, with an older note by 陈静, who served the customer
 * before; 陈静 (branch lead) has a new customer at stage 1 and a maturing product. Every other
 * contact gets a profile and a product or two in a fixed pattern. Amounts are bands, birthdays MM-DD.
 */
const TIERS = ['普通', '金卡', '白金', '钻石'];
const RATINGS = ['C1', 'C2', 'C3', 'C4', 'C5'];
const DAY = 86_400_000;

export async function seedDemoWorkbench(tx: EntityManager, now: number): Promise<void> {
  const today = chinaDay(now);
  const md = today.slice(5);
  const holdings: Partial<CustomerHolding>[] = [];
  const notes: Partial<FollowNote>[] = [];
  const holding = (customerId: string, product: string, productType: string, band: string, matures: string | null) =>
    holdings.push({
      id: `${customerId}|${product}|${addDays(today, -180)}`,
      customerId,
      product,
      productType,
      amountBand: band,
      openedOn: addDays(today, -180),
      maturesOn: matures,
      createdAt: now,
      updatedAt: now,
    });
  const note = (
    ext: string,
    userid: string,
    kind: FollowNote['kind'],
    text: string,
    ago: number,
    next: string | null,
  ) => notes.push({ externalUserid: ext, userid, kind, text, nextFollowUp: next, createdAt: now - ago * DAY });

  for (const [i, c] of DEMO_CUSTOMERS.entries()) {
    await tx.getRepository(Customer).update(
      { id: c.id },
      {
        assetTier: TIERS[i % TIERS.length],
        riskRating: RATINGS[i % RATINGS.length],
        // Every fourth rating is older than a year: the card marks it expired.
        riskRatedOn: addDays(today, i % 4 === 0 ? -400 : -100 - i),
        birthdayMd:
          c.id === 'DEMO0050'
            ? md
            : `${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`,
      },
    );
  }
  const contacts = DEMO_CUSTOMERS.filter((c) => c.externalUserid && c.followUserid);
  for (const [k, c] of contacts.entries()) {
    holding(c.id, '活期宝', '存款', '5-20万', null);
    if (k % 2 === 0) holding(c.id, '稳盈90天', '理财', '20-50万', addDays(today, 3 + (k % 4)));
    else holding(c.id, '季季丰', '理财', '5-20万', addDays(today, 20));
  }
  const ext = (id: string) => DEMO_CUSTOMERS.find((c) => c.id === id)?.externalUserid as string;
  // 王强's customer: everything at once, and an older note by the previous manager.
  holding('DEMO0050', '安鑫大额存单', '存款', '50-100万', addDays(today, 3));
  note(ext('DEMO0050'), 'hz_chenjing', 'visit', '网点面谈：关注大额存单到期后的安排，偏稳健。', 40, null);
  note(ext('DEMO0050'), 'hz_wangqiang', 'call', '电话沟通：约好到期前再联系，介绍续存方案。', 2, today);
  // 陈静: one customer added three days ago and not greeted yet.
  await tx
    .getRepository(Follow)
    .update({ externalUserid: ext('DEMO0036'), userid: 'hz_chenjing' }, { addedAt: now - 3 * DAY });
  await tx.getRepository(CustomerHolding).insert(holdings);
  await tx.getRepository(FollowNote).insert(notes);
}
