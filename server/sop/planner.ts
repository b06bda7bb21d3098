import type { DataSource } from 'typeorm';
import type { SopConfig } from '../config';
import type { SopOccurrence, SopTarget, SopTask, SopTaskKind } from '../db/entities';
import { TOUCH_COUNT_SQL } from '../sidebar/repo';
import type { CustomersAudience, GroupsAudience, PlanFile } from './plan-file';
import * as repo from './repo';
import { chinaDay, chinaDayStart, chinaMonthStartDay } from './schedule';

/**
 * Planning one occurrence: stream the audience with keyset pagination (never the whole audience
 * in memory), drop what the frequency cap or a deleted relation rules out, write the targets in
 * chunked multi-row inserts and derive the task list (one WeCom task per sender and chunk of
 * ≤ 2,000 groups or ≤ 10,000 customers: add_msg_template's limits). Only per-sender counters stay
 * in memory (10,000 managers ≈ a few hundred KB). `write: false` counts without writing (dry run).
 */

export const MAX_GROUPS_PER_TASK = 2000;
export const MAX_CUSTOMERS_PER_TASK = 10_000;
export const PAGE = 2000;

export interface PlanProgress {
  scanned: number;
  targets: number;
  skippedCap: number;
  skippedDeleted: number;
}

export interface PlanOptions {
  plan: PlanFile;
  occurrence: Pick<SopOccurrence, 'id' | 'planId' | 'occurrenceKey' | 'scheduledAt'>;
  cap: Pick<SopConfig, 'capPerDay' | 'capPerMonth'>;
  now: number;
  /** false: count only (dry run). */
  write: boolean;
  /** Called after every page; returning false stops (lease lost, shutting down). */
  onPage?: (p: PlanProgress) => Promise<boolean> | boolean;
  /** Journey step: only customers whose relation began on this China day. */
  addedOnDay?: number;
  pageSize?: number;
  maxPerTask?: number;
}

interface Candidate {
  target: string;
  sender: string;
  branch: string | null;
}

export interface PlanResult extends PlanProgress {
  tasks: Omit<SopTask, 'id'>[];
  stopped: boolean;
}

/**
 * SQLite's default page cache (2 MB) thrashes on the targets' per-task index, whose inserts land
 * all over it (one insertion point per sender): 1M targets took 118 s against 27 s extrapolated
 * from 200k. A larger cache while planning keeps that index in memory; it is given back after.
 */
const SQLITE_PLANNING_CACHE_KIB = 48 * 1024;

export async function planOccurrence(db: DataSource, o: PlanOptions): Promise<PlanResult> {
  if (db.options.type !== 'better-sqlite3' || !o.write) return planStreamed(db, o);
  const [{ cache_size: before }] = await db.query('PRAGMA cache_size');
  await db.query(`PRAGMA cache_size = -${SQLITE_PLANNING_CACHE_KIB}`);
  try {
    return await planStreamed(db, o);
  } finally {
    await db.query(`PRAGMA cache_size = ${Number(before)}`);
  }
}

async function planStreamed(db: DataSource, o: PlanOptions): Promise<PlanResult> {
  const day = chinaDay(o.now);
  const monthStart = chinaMonthStartDay(o.now);
  const kind: SopTaskKind = o.plan.channel === 'group' ? 'group' : o.plan.channel === 'chat' ? 'single' : 'moment';
  const perTask = o.maxPerTask ?? (kind === 'group' ? MAX_GROUPS_PER_TASK : MAX_CUSTOMERS_PER_TASK);
  const senders = new Map<string, { branch: string | null; count: number }>();
  const p: PlanProgress = { scanned: 0, targets: 0, skippedCap: 0, skippedDeleted: 0 };
  const pageSize = o.pageSize ?? PAGE;

  const pages =
    kind === 'moment'
      ? momentSenders(db, o.plan.audience.customers ?? {}, pageSize)
      : kind === 'group'
        ? groupPages(db, o.plan.audience.groups ?? {}, pageSize)
        : customerPages(db, o.plan.audience.customers ?? {}, pageSize, o.addedOnDay, p, o.now);

  for await (const page of pages) {
    p.scanned += page.scanned;
    let chosen = page.candidates;
    if (kind !== 'moment' && chosen.length) {
      // The cap ledger is sop_targets itself: pending or sent targets this day and this month.
      const used = page.contiguous
        ? await repo.capUsageInRange(db, chosen[0].target, chosen[chosen.length - 1].target, monthStart)
        : await repo.capUsage(
            db,
            chosen.map((c) => c.target),
            monthStart,
          );
      const perDay = new Map<string, number>();
      const perMonth = new Map<string, number>();
      for (const u of used) {
        perMonth.set(u.targetId, (perMonth.get(u.targetId) ?? 0) + 1);
        if (u.day === day) perDay.set(u.targetId, (perDay.get(u.targetId) ?? 0) + 1);
      }
      chosen = chosen.filter((c) => {
        const over =
          (perDay.get(c.target) ?? 0) >= o.cap.capPerDay || (perMonth.get(c.target) ?? 0) >= o.cap.capPerMonth;
        if (over) p.skippedCap++;
        return !over;
      });
    }
    const rows: SopTarget[] = [];
    for (const c of chosen) {
      const s = senders.get(c.sender) ?? { branch: c.branch, count: 0 };
      if (kind !== 'moment') {
        rows.push({
          occurrenceId: o.occurrence.id,
          targetId: c.target,
          senderUserid: c.sender,
          chunk: Math.floor(s.count / perTask),
          day,
          status: 0,
        });
      }
      s.count++;
      senders.set(c.sender, s);
    }
    p.targets += kind === 'moment' ? 0 : rows.length;
    if (o.write && rows.length) await repo.insertTargets(db, rows);
    if (o.onPage && !(await o.onPage({ ...p }))) return { ...p, tasks: [], stopped: true };
  }

  const tasks: Omit<SopTask, 'id'>[] = [];
  for (const [sender, s] of senders) {
    const chunks = kind === 'moment' ? 1 : Math.ceil(s.count / perTask);
    for (let chunk = 0; chunk < chunks; chunk++) {
      tasks.push(
        newTask(
          {
            occurrenceId: o.occurrence.id,
            planId: o.occurrence.planId,
            senderUserid: sender,
            chunk,
            kind,
            branchCode: s.branch,
            targets: kind === 'moment' ? 0 : Math.min(perTask, s.count - chunk * perTask),
          },
          o.now,
        ),
      );
    }
  }
  return { ...p, tasks, stopped: false };
}

type TaskKey = Pick<SopTask, 'occurrenceId' | 'planId' | 'senderUserid' | 'chunk' | 'kind' | 'branchCode' | 'targets'>;

/** A WeCom task row as planned: pending, not yet created in WeCom. */
export function newTask(key: TaskKey, now: number): Omit<SopTask, 'id'> {
  return {
    ...key,
    status: 'pending',
    msgid: null,
    momentId: null,
    senderSent: false,
    sent: 0,
    notFriend: 0,
    capped: 0,
    notifiedAt: null,
    remindTimes: null,
    nextPollAt: null,
    attempts: 0,
    lockedBy: null,
    lockedUntil: null,
    lastError: null,
    createdAt: now,
    dispatchedAt: null,
    completedAt: null,
    updatedAt: now,
    momentJobId: null,
    createStartedAt: null,
  };
}

interface Page {
  scanned: number;
  /** Candidates in key order from one contiguous key range (the cap is then read by range). */
  candidates: Candidate[];
  contiguous: boolean;
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');

/** Customer groups by branch / region / purpose, keyset on chat_id; owners must be active. */
async function* groupPages(db: DataSource, a: GroupsAudience, size: number): AsyncGenerator<Page> {
  let after = '';
  const where: string[] = ['g.dismissed_at IS NULL', 'g.owner_status = 0', "(m.status IS NULL OR m.status = 'active')"];
  const params: unknown[] = [];
  if (a.branches) {
    where.push(`g.branch_code IN (${marks(a.branches.length)})`);
    params.push(...a.branches);
  }
  if (a.purposes) {
    where.push(`g.purpose IN (${marks(a.purposes.length)})`);
    params.push(...a.purposes);
  }
  if (a.regions) {
    where.push(`b.region_code IN (${marks(a.regions.length)})`);
    params.push(...a.regions);
  }
  for (;;) {
    const rows: { chat_id: string; owner_userid: string; branch_code: string | null }[] = await db.query(
      `SELECT g.chat_id, g.owner_userid, g.branch_code FROM customer_groups g
         LEFT JOIN branches b ON b.code = g.branch_code
         LEFT JOIN managers m ON m.userid = g.owner_userid
        WHERE g.chat_id > ? AND ${where.join(' AND ')}
        ORDER BY g.chat_id LIMIT ${Number(size)}`,
      [after, ...params],
    );
    if (!rows.length) return;
    after = rows[rows.length - 1].chat_id;
    yield {
      scanned: rows.length,
      candidates: rows.map((r) => ({ target: r.chat_id, sender: r.owner_userid, branch: r.branch_code })),
      contiguous: true,
    };
    if (rows.length < size) return;
  }
}

interface ContactRow {
  ext: string;
  userid: string;
  added_at: number | string;
  deleted_at: number | string | null;
  segment: string | null;
  bank_tags: string | null;
  owner: string | null;
  branch: string | null;
  mstatus: string | null;
}

/**
 * Customers (WeChat contacts, type 1) by the serving manager: keyset on external_userid over
 * every contact, or over the relations that began on one day (journey steps). The serving manager
 * is the owning manager (管户) when they still follow the customer, else the latest active
 * relation. A customer whose relations were all deleted is counted in skippedDeleted and never
 * targeted.
 */
async function* customerPages(
  db: DataSource,
  a: CustomersAudience,
  size: number,
  addedOnDay: number | undefined,
  p: PlanProgress,
  now: number,
): AsyncGenerator<Page> {
  let after = '';
  const tagIds = a.corpTags ? await repo.corpTagIdList(db, a.corpTags) : null;
  const segments = a.segments ? new Set(a.segments) : null;
  const bankTags = a.bankTags ? new Set(a.bankTags) : null;
  const branches = a.branches ? new Set(a.branches) : null;
  const stages = a.stages ? new Set(a.stages) : null;
  for (;;) {
    const ids: string[] =
      addedOnDay === undefined
        ? (
            await db.query(
              `SELECT external_userid FROM external_contacts WHERE external_userid > ? AND type = 1 ORDER BY external_userid LIMIT ${Number(size)}`,
              [after],
            )
          ).map((r: { external_userid: string }) => r.external_userid)
        : (
            await db.query(
              `SELECT DISTINCT external_userid FROM follows WHERE external_userid > ? AND added_at >= ? AND added_at < ?
                ORDER BY external_userid LIMIT ${Number(size)}`,
              [after, chinaDayStart(addedOnDay), chinaDayStart(addedOnDay + 1)],
            )
          ).map((r: { external_userid: string }) => r.external_userid);
    if (!ids.length) return;
    const first = after;
    after = ids[ids.length - 1];
    // Every contact: the page is a contiguous key range (a range scan, not a list of 1,000 keys).
    // Journey steps: the relations of one day are scattered, so their ids are listed.
    const range = addedOnDay === undefined;
    const rows: ContactRow[] = await db.query(
      `SELECT e.external_userid AS ext, f.userid, f.added_at, f.deleted_at, c.segment, c.bank_tags,
              c.owner_userid AS owner, m.branch_code AS branch, m.status AS mstatus
         FROM external_contacts e
         JOIN follows f ON f.external_userid = e.external_userid
         LEFT JOIN customers c ON c.id = e.customer_id
         LEFT JOIN managers m ON m.userid = f.userid
        WHERE ${range ? 'e.external_userid > ? AND e.external_userid <= ?' : `e.external_userid IN (${marks(ids.length)})`} AND e.type = 1`,
      range ? [first, after] : ids,
    );
    const byContact = new Map<string, ContactRow[]>();
    for (const r of rows) byContact.set(r.ext, [...(byContact.get(r.ext) ?? []), r]);

    const tagged = tagIds ? await taggedContacts(db, ids, tagIds) : null;
    const touch = stages || a.daysSinceLastTouch ? await touchFacts(db, ids) : null;
    const candidates: Candidate[] = [];
    for (const ext of ids) {
      const rel = byContact.get(ext) ?? [];
      const head = rel[0];
      if (!head) continue;
      if (segments && !segments.has(head.segment ?? '')) continue;
      if (bankTags && !parseTags(head.bank_tags).some((t) => bankTags.has(t))) continue;
      if (tagged && !tagged.has(ext)) continue;
      if (touch) {
        const t = touch.get(ext) ?? { count: 0, last: null };
        if (stages && !stages.has(Math.min(4, t.count + 1))) continue;
        const d = a.daysSinceLastTouch;
        if (d) {
          const days = t.last === null ? Number.POSITIVE_INFINITY : (now - t.last) / 86_400_000;
          if ((d.min !== undefined && days < d.min) || (d.max !== undefined && days > d.max)) continue;
        }
      }
      const live = rel.filter((r) => r.deleted_at === null && (r.mstatus === null || r.mstatus === 'active'));
      if (!live.length) {
        if (rel.some((r) => r.deleted_at !== null)) p.skippedDeleted++;
        continue;
      }
      const serving =
        live.find((r) => r.owner && r.userid === r.owner) ??
        live.reduce((x, y) => (Number(y.added_at) > Number(x.added_at) ? y : x));
      if (branches && !branches.has(serving.branch ?? '')) continue;
      candidates.push({ target: ext, sender: serving.userid, branch: serving.branch });
    }
    yield { scanned: ids.length, candidates, contiguous: range };
    if (ids.length < size) return;
  }
}

function parseTags(v: string | null): string[] {
  if (!v) return [];
  try {
    const t = JSON.parse(v);
    return Array.isArray(t) ? t.map(String) : [];
  } catch {
    return [];
  }
}

async function taggedContacts(db: DataSource, ids: string[], tagIds: string[]): Promise<Set<string>> {
  if (!tagIds.length) return new Set();
  const rows: { external_userid: string }[] = await db.query(
    `SELECT DISTINCT external_userid FROM contact_tags WHERE external_userid IN (${marks(ids.length)}) AND tag_id IN (${marks(tagIds.length)})`,
    [...ids, ...tagIds],
  );
  return new Set(rows.map((r) => r.external_userid));
}

/** Touch count (the sidebar's stage rule) and the last real send, per contact. */
async function touchFacts(db: DataSource, ids: string[]): Promise<Map<string, { count: number; last: number | null }>> {
  const rows: { ext: string; n: number | string | null; last: number | string | null }[] = await db.query(
    `SELECT ec.external_userid AS ext, ${TOUCH_COUNT_SQL} AS n,
            (SELECT MAX(t.sent_at) FROM touches t WHERE t.external_userid = ec.external_userid
               AND (t.channel IN ('send', 'chat') OR (t.channel = 'copy' AND t.confirmed_at IS NOT NULL))) AS last
       FROM external_contacts ec WHERE ec.external_userid IN (${marks(ids.length)})`,
    ids,
  );
  return new Map(rows.map((r) => [r.ext, { count: Number(r.n ?? 0), last: r.last === null ? null : Number(r.last) }]));
}

/**
 * Moments: every active manager of the branches (or all) who serves at least one customer; with
 * corp tags, at least one customer carrying one of them (the post is then visible to those only).
 */
async function* momentSenders(db: DataSource, a: CustomersAudience, size: number): AsyncGenerator<Page> {
  let after = '';
  const where = ["m.status = 'active'", "m.role IN ('manager', 'branch_lead')"];
  const params: unknown[] = [];
  if (a.branches) {
    where.push(`m.branch_code IN (${marks(a.branches.length)})`);
    params.push(...a.branches);
  }
  let served = 'EXISTS (SELECT 1 FROM follows f WHERE f.userid = m.userid AND f.deleted_at IS NULL)';
  if (a.corpTags) {
    const tagIds = await repo.corpTagIdList(db, a.corpTags);
    if (!tagIds.length) return;
    // Corp tags are per relation (contact_tags.userid): the manager's own live customers carry them.
    served = `EXISTS (SELECT 1 FROM contact_tags ct
                JOIN follows f ON f.external_userid = ct.external_userid AND f.userid = ct.userid
                WHERE ct.userid = m.userid AND f.deleted_at IS NULL AND ct.tag_id IN (${marks(tagIds.length)}))`;
    params.push(...tagIds);
  }
  for (;;) {
    const rows: { userid: string; branch_code: string | null }[] = await db.query(
      `SELECT m.userid, m.branch_code FROM managers m
        WHERE m.userid > ? AND ${where.join(' AND ')} AND ${served}
        ORDER BY m.userid LIMIT ${Number(size)}`,
      [after, ...params],
    );
    if (!rows.length) return;
    after = rows[rows.length - 1].userid;
    yield {
      scanned: rows.length,
      candidates: rows.map((r) => ({ target: r.userid, sender: r.userid, branch: r.branch_code })),
      contiguous: false,
    };
    if (rows.length < size) return;
  }
}
