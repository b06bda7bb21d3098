import type { DataSource } from 'typeorm';

/**
 * Operating report over a period [from, to): adds, churn, activity, allocation mix, welcome
 * messages and transfers, per manager, rolled up per branch or in total. Queries group by
 * userid only (portable SQL, small result sets); the roll-up happens here.
 */

export const TARGETS = {
  /** Customers who deleted their manager ÷ customers added, in the period. */
  churnMax: 0.1,
  /** Active follows with a touch (sent template or chat) in the 30 days before `to`. */
  activityMin: 0.4,
} as const;

export const ALLOCATION_REASONS = ['owner', 'nearest_branch', 'fallback', 'added_manager', 'none'] as const;
export const TRANSFER_STATUSES = ['success', 'waiting', 'requested', 'queued', 'refused', 'limit', 'failed'] as const;

/** Touch channels that prove contact; 'copy' (copied to the clipboard) does not. */
const CONTACT_CHANNELS = ['send', 'chat'];
const DAY = 86_400_000;

export type GroupBy = 'total' | 'branch' | 'manager';

/**
 * Why a welcome did not go out without being tried (WelcomeSkipReason in server/contacts/welcome.ts,
 * also in each `welcome.skipped` / `welcome.expired` audit row): no approved, unexpired welcome
 * script (status `skipped`), or the 20 s code had run out before a send was tried (status
 * `expired` with no script chosen). A welcome that was tried and ran out of time while retrying is
 * a failure, not a skip.
 */
export const WELCOME_SKIP_REASONS = ['no_template', 'code_expired'] as const;
export type WelcomeSkipReasonKey = (typeof WELCOME_SKIP_REASONS)[number];

export interface ReportRow {
  key: string;
  label: string;
  adds: number;
  churned: number;
  deletedByManager: number;
  churnRate: number | null;
  activeFollows: number;
  active7: number;
  active30: number;
  activity7: number | null;
  activity30: number | null;
  allocations: Record<string, number>;
  welcomeSent: number;
  welcomeFailed: number;
  welcomeRate: number | null;
  /** Welcomes that never went out, by reason (see WELCOME_SKIP_REASONS); not part of the rate. */
  welcomeSkipped: Record<WelcomeSkipReasonKey, number>;
  transfers: Record<string, number>;
}

export interface OperatingReport {
  from: number;
  to: number;
  by: GroupBy;
  targets: typeof TARGETS;
  total: ReportRow;
  rows: ReportRow[];
  /** Targets the total misses, in words. */
  findings: string[];
}

interface Counts {
  adds: number;
  churned: number;
  deletedByManager: number;
  activeFollows: number;
  active7: number;
  active30: number;
  allocations: Record<string, number>;
  welcomeSent: number;
  welcomeFailed: number;
  welcomeSkipped: Record<WelcomeSkipReasonKey, number>;
  transfers: Record<string, number>;
}

const emptyCounts = (): Counts => ({
  adds: 0,
  churned: 0,
  deletedByManager: 0,
  activeFollows: 0,
  active7: 0,
  active30: 0,
  allocations: {},
  welcomeSent: 0,
  welcomeFailed: 0,
  welcomeSkipped: { no_template: 0, code_expired: 0 },
  transfers: {},
});

const ratio = (n: number, d: number) => (d > 0 ? n / d : null);
const NONE = '(none)';

function finish(key: string, label: string, c: Counts): ReportRow {
  return {
    key,
    label,
    ...c,
    welcomeSkipped: { ...c.welcomeSkipped },
    churnRate: ratio(c.churned, c.adds),
    activity7: ratio(c.active7, c.activeFollows),
    activity30: ratio(c.active30, c.activeFollows),
    welcomeRate: ratio(c.welcomeSent, c.welcomeSent + c.welcomeFailed),
  };
}

function add(into: Counts, c: Counts) {
  for (const k of [
    'adds',
    'churned',
    'deletedByManager',
    'activeFollows',
    'active7',
    'active30',
    'welcomeSent',
    'welcomeFailed',
  ] as const) {
    into[k] += c[k];
  }
  for (const k of WELCOME_SKIP_REASONS) into.welcomeSkipped[k] += c.welcomeSkipped[k];
  for (const [k, v] of Object.entries(c.allocations)) into.allocations[k] = (into.allocations[k] ?? 0) + v;
  for (const [k, v] of Object.entries(c.transfers)) into.transfers[k] = (into.transfers[k] ?? 0) + v;
}

type Raw = Record<string, string | number | null>;

/** Per-userid counts for every metric. */
async function perManager(db: DataSource, from: number, to: number): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  const at = (u: unknown) => {
    const k = u === null || u === undefined || u === '' ? NONE : String(u);
    let c = out.get(k);
    if (!c) {
      c = emptyCounts();
      out.set(k, c);
    }
    return c;
  };
  const q = (sql: string, params: unknown[]) => db.query(sql, params) as Promise<Raw[]>;

  // Half follows (the customer added the manager, not yet two-way friends) are not adds yet.
  for (const r of await q(
    `SELECT userid AS u,
            SUM(CASE WHEN added_at >= ? AND added_at < ? AND half = ? THEN 1 ELSE 0 END) AS adds,
            SUM(CASE WHEN deleted_by = 'customer' AND deleted_at >= ? AND deleted_at < ? THEN 1 ELSE 0 END) AS churned,
            SUM(CASE WHEN deleted_by = 'manager' AND deleted_at >= ? AND deleted_at < ? THEN 1 ELSE 0 END) AS by_manager
       FROM follows
      WHERE (added_at >= ? AND added_at < ?) OR (deleted_at >= ? AND deleted_at < ?)
      GROUP BY userid`,
    [from, to, 0, from, to, from, to, from, to, from, to],
  )) {
    const c = at(r.u);
    c.adds += Number(r.adds ?? 0);
    c.churned += Number(r.churned ?? 0);
    c.deletedByManager += Number(r.by_manager ?? 0);
  }

  const channels = CONTACT_CHANNELS.map(() => '?').join(',');
  const touched = `EXISTS (SELECT 1 FROM touches t WHERE t.external_userid = f.external_userid AND t.userid = f.userid
              AND t.channel IN (${channels}) AND t.sent_at >= ? AND t.sent_at < ?)`;
  // Active follows as of `to` (two-way friends only), and whether each had a touch in 7 / 30 days.
  for (const r of await q(
    `SELECT u, COUNT(*) AS active, SUM(t7) AS a7, SUM(t30) AS a30 FROM (
       SELECT f.userid AS u,
              CASE WHEN ${touched} THEN 1 ELSE 0 END AS t7,
              CASE WHEN ${touched} THEN 1 ELSE 0 END AS t30
         FROM follows f
        WHERE f.added_at < ? AND (f.deleted_at IS NULL OR f.deleted_at >= ?) AND f.half = ?
     ) s GROUP BY u`,
    [...CONTACT_CHANNELS, to - 7 * DAY, to, ...CONTACT_CHANNELS, to - 30 * DAY, to, to, to, 0],
  )) {
    const c = at(r.u);
    c.activeFollows += Number(r.active ?? 0);
    c.active7 += Number(r.a7 ?? 0);
    c.active30 += Number(r.a30 ?? 0);
  }

  // Half follows (the customer added the manager, not yet two-way friends) are not adds yet.
  for (const r of await q(
    `SELECT userid AS u, reason, COUNT(*) AS n FROM allocations
      WHERE created_at >= ? AND created_at < ? AND status <> 'superseded' GROUP BY userid, reason`,
    [from, to],
  )) {
    const c = at(r.u);
    const reason = String(r.reason);
    c.allocations[reason] = (c.allocations[reason] ?? 0) + Number(r.n);
  }

  // Welcomes: sent, failed (tried, or ran out of time while retrying), skipped by reason.
  for (const r of await q(
    `SELECT userid AS u, status, CASE WHEN template_id IS NULL THEN 0 ELSE 1 END AS tried, COUNT(*) AS n
       FROM welcome_messages
      WHERE event_at >= ? AND event_at < ?
      GROUP BY userid, status, CASE WHEN template_id IS NULL THEN 0 ELSE 1 END`,
    [from, to],
  )) {
    const c = at(r.u);
    const n = Number(r.n);
    if (r.status === 'sent' || r.status === 'already_sent') c.welcomeSent += n;
    else if (r.status === 'failed') c.welcomeFailed += n;
    else if (r.status === 'expired') {
      if (Number(r.tried)) c.welcomeFailed += n;
      else c.welcomeSkipped.code_expired += n;
    } else if (r.status === 'skipped') c.welcomeSkipped.no_template += n;
  }

  // Transfers count for the manager (and branch) taking the customers over.
  for (const r of await q(
    `SELECT takeover_userid AS u, status, COUNT(*) AS n FROM transfers
      WHERE requested_at >= ? AND requested_at < ? GROUP BY takeover_userid, status`,
    [from, to],
  )) {
    const c = at(r.u);
    const status = String(r.status);
    c.transfers[status] = (c.transfers[status] ?? 0) + Number(r.n);
  }
  return out;
}

export async function buildReport(
  db: DataSource,
  opts: { from: number; to: number; by: GroupBy },
): Promise<OperatingReport> {
  const counts = await perManager(db, opts.from, opts.to);
  const managers: Raw[] = await db.query('SELECT userid, name, branch_code FROM managers');
  const branches: Raw[] = await db.query('SELECT code, name FROM branches');
  const managerBy = new Map(managers.map((m) => [String(m.userid), m]));
  const branchName = new Map(branches.map((b) => [String(b.code), String(b.name)]));

  const total = emptyCounts();
  const groups = new Map<string, { label: string; c: Counts }>();
  for (const [userid, c] of counts) {
    add(total, c);
    if (opts.by === 'total') continue;
    const m = managerBy.get(userid);
    let key: string;
    let label: string;
    if (opts.by === 'manager') {
      key = userid;
      label = m ? `${m.name} (${userid})` : userid === NONE ? '未分配' : `${userid} (未导入)`;
    } else {
      const code = m?.branch_code ? String(m.branch_code) : NONE;
      key = code;
      label = code === NONE ? '无网点' : `${branchName.get(code) ?? '未知网点'} (${code})`;
    }
    let g = groups.get(key);
    if (!g) {
      g = { label, c: emptyCounts() };
      groups.set(key, g);
    }
    add(g.c, c);
  }
  const rows = [...groups.entries()]
    .map(([key, g]) => finish(key, g.label, g.c))
    .sort((a, b) => b.adds - a.adds || b.activeFollows - a.activeFollows || a.key.localeCompare(b.key));
  const totalRow = finish('total', '合计', total);
  const findings: string[] = [];
  if (totalRow.churnRate !== null && totalRow.churnRate > TARGETS.churnMax) {
    findings.push(`churn ${(totalRow.churnRate * 100).toFixed(1)}% is above the ${TARGETS.churnMax * 100}% target`);
  }
  if (totalRow.activity30 !== null && totalRow.activity30 < TARGETS.activityMin) {
    findings.push(
      `30-day activity ${(totalRow.activity30 * 100).toFixed(1)}% is below the ${TARGETS.activityMin * 100}% target`,
    );
  }
  return { from: opts.from, to: opts.to, by: opts.by, targets: TARGETS, total: totalRow, rows, findings };
}
