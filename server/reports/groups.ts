import type { DataSource } from 'typeorm';
import { TARGETS } from './queries';

/**
 * The customer-group view of the report, per group owner, rolled up per branch: groups, customer
 * members, joins, quits, churn and activity. Only customers (external members) count as members;
 * the bank's own staff in a group are not its audience.
 */

export const GROUP_ACTIVITY_DEFINITION =
  'activity = members who sent at least one message in their group that day ÷ members that day, summed over ' +
  "the period's days and owners (WeCom groupchat/statistic_group_by_day member_has_msg ÷ member_total, fetched " +
  'nightly per owner); churn = customers who left a group in the period ÷ customers in a group at its start plus ' +
  'customers who joined during it (membership kept from groupchat/get and change_external_chat events).';

export type GroupReportBy = 'total' | 'branch' | 'owner';

export interface GroupReportRow {
  key: string;
  label: string;
  groups: number;
  /** Customers in a group at the end of the period. */
  members: number;
  /** Customers in a group at the start of the period. */
  membersAtStart: number;
  joins: number;
  quits: number;
  churnRate: number | null;
  /** Σ member_has_msg and Σ member_total over the period's statistics days. */
  memberDaysActive: number;
  memberDays: number;
  activity: number | null;
  statDays: number;
}

export interface GroupReport {
  from: number;
  to: number;
  by: GroupReportBy;
  targets: typeof TARGETS;
  definition: string;
  rows: GroupReportRow[];
  total: GroupReportRow;
  findings: string[];
}

type Raw = Record<string, string | number | null>;
const n = (v: unknown) => Number(v ?? 0);
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

interface Counts {
  groups: number;
  members: number;
  membersAtStart: number;
  joins: number;
  quits: number;
  memberDaysActive: number;
  memberDays: number;
  statDays: number;
}
const empty = (): Counts => ({
  groups: 0,
  members: 0,
  membersAtStart: 0,
  joins: 0,
  quits: 0,
  memberDaysActive: 0,
  memberDays: 0,
  statDays: 0,
});

export async function buildGroupReport(
  db: DataSource,
  o: { from: number; to: number; by: GroupReportBy },
): Promise<GroupReport> {
  const perOwner = new Map<string, Counts>();
  const at = (owner: unknown) => {
    const k = String(owner ?? '');
    let c = perOwner.get(k);
    if (!c) {
      c = empty();
      perOwner.set(k, c);
    }
    return c;
  };
  const q = (sql: string, params: unknown[]) => db.query(sql, params) as Promise<Raw[]>;
  for (const r of await q(
    `SELECT owner_userid AS o, COUNT(*) AS n FROM customer_groups
      WHERE (created_at IS NULL OR created_at < ?) AND (dismissed_at IS NULL OR dismissed_at >= ?)
      GROUP BY owner_userid`,
    [o.to, o.from],
  )) {
    at(r.o).groups += n(r.n);
  }
  // Spells of customers (member_type 2), attributed to the group's current owner.
  for (const r of await q(
    `SELECT g.owner_userid AS o,
            SUM(CASE WHEN m.joined_at < ? AND (m.quit_at IS NULL OR m.quit_at >= ?) THEN 1 ELSE 0 END) AS at_end,
            SUM(CASE WHEN m.joined_at < ? AND (m.quit_at IS NULL OR m.quit_at >= ?) THEN 1 ELSE 0 END) AS at_start,
            SUM(CASE WHEN m.joined_at >= ? AND m.joined_at < ? THEN 1 ELSE 0 END) AS joins,
            SUM(CASE WHEN m.quit_at >= ? AND m.quit_at < ? AND m.quit_scene <> 'dismissed' THEN 1 ELSE 0 END) AS quits
       FROM customer_group_members m JOIN customer_groups g ON g.chat_id = m.chat_id
      WHERE m.member_type = 2 AND m.joined_at < ? AND (m.quit_at IS NULL OR m.quit_at >= ?)
      GROUP BY g.owner_userid`,
    [o.to, o.to, o.from, o.from, o.from, o.to, o.from, o.to, o.to, o.from],
  )) {
    const c = at(r.o);
    c.members += n(r.at_end);
    c.membersAtStart += n(r.at_start);
    c.joins += n(r.joins);
    c.quits += n(r.quits);
  }
  for (const r of await q(
    `SELECT owner_userid AS o, SUM(member_has_msg) AS act, SUM(member_total) AS tot, COUNT(*) AS days
       FROM customer_group_stats WHERE stat_time >= ? AND stat_time < ? GROUP BY owner_userid`,
    [o.from, o.to],
  )) {
    const c = at(r.o);
    c.memberDaysActive += n(r.act);
    c.memberDays += n(r.tot);
    c.statDays += n(r.days);
  }

  const managers: Raw[] = await db.query('SELECT userid, name, branch_code FROM managers');
  const branches: Raw[] = await db.query('SELECT code, name FROM branches');
  const managerBy = new Map(managers.map((m) => [String(m.userid), m]));
  const branchName = new Map(branches.map((b) => [String(b.code), String(b.name)]));

  const total = empty();
  const rolled = new Map<string, { label: string; c: Counts }>();
  for (const [owner, c] of perOwner) {
    for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
    if (o.by === 'total') continue;
    const m = managerBy.get(owner);
    let key = owner;
    let label = m ? `${m.name} (${owner})` : `${owner} (未导入)`;
    if (o.by === 'branch') {
      key = m?.branch_code ? String(m.branch_code) : '(none)';
      label = key === '(none)' ? '无网点' : `${branchName.get(key) ?? '未知网点'} (${key})`;
    }
    let g = rolled.get(key);
    if (!g) {
      g = { label, c: empty() };
      rolled.set(key, g);
    }
    for (const k of Object.keys(total) as (keyof Counts)[]) g.c[k] += c[k];
  }
  const finish = (key: string, label: string, c: Counts): GroupReportRow => ({
    key,
    label,
    ...c,
    churnRate: ratio(c.quits, c.membersAtStart + c.joins),
    activity: ratio(c.memberDaysActive, c.memberDays),
  });
  const rows = [...rolled.entries()]
    .map(([k, g]) => finish(k, g.label, g.c))
    .sort((a, b) => b.members - a.members || a.key.localeCompare(b.key));
  const totalRow = finish('total', '合计', total);
  const findings: string[] = [];
  if (totalRow.churnRate !== null && totalRow.churnRate > TARGETS.churnMax) {
    findings.push(
      `group churn ${(totalRow.churnRate * 100).toFixed(1)}% is above the ${TARGETS.churnMax * 100}% target`,
    );
  }
  if (totalRow.activity !== null && totalRow.activity < TARGETS.activityMin) {
    findings.push(
      `group activity ${(totalRow.activity * 100).toFixed(1)}% is below the ${TARGETS.activityMin * 100}% target`,
    );
  }
  return {
    from: o.from,
    to: o.to,
    by: o.by,
    targets: TARGETS,
    definition: GROUP_ACTIVITY_DEFINITION,
    rows,
    total: totalRow,
    findings,
  };
}
