import type { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';
import {
  Branch,
  CorpTag,
  Manager,
  ScriptTemplate,
  SopMomentJob,
  type SopMomentJobStatus,
  SopOccurrence,
  SopPlan,
  SopPlanVersion,
  SopTarget,
  SopTask,
  type SopTaskStatus,
} from '../db/entities';
import { chunks } from '../lib/chunks';

/** SQL of the SOP feature: plans and versions, occurrences, WeCom tasks and their targets. */

export type Db = DataSource | EntityManager;
export const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);

// ---- plans ----

export const findPlan = (db: Db, id: string) => mgr(db).findOne(SopPlan, { where: { id } });
export const listPlans = (db: Db) => mgr(db).find(SopPlan, { order: { id: 'ASC' } });
export const findVersion = (db: Db, planId: string, version: number) =>
  mgr(db).findOne(SopPlanVersion, { where: { planId, version } });
export const activePlans = (db: Db) => mgr(db).find(SopPlan, { where: { status: 'active' }, order: { id: 'ASC' } });

export async function insertPlanVersion(tx: EntityManager, plan: SopPlan, version: SopPlanVersion): Promise<void> {
  await tx.insert(SopPlanVersion, version);
  const existing = await tx.findOne(SopPlan, { where: { id: plan.id } });
  if (existing) {
    await tx.update(
      SopPlan,
      { id: plan.id },
      { name: plan.name, channel: plan.channel, version: plan.version, updatedAt: plan.updatedAt },
    );
  } else await tx.insert(SopPlan, plan);
}

export async function setPlanStatus(tx: EntityManager, id: string, status: SopPlan['status'], now: number) {
  await tx.update(SopPlan, { id }, { status, updatedAt: now });
}

// ---- reference data for validation ----

export async function templatesByIds(db: Db, ids: number[]): Promise<Map<number, ScriptTemplate>> {
  if (!ids.length) return new Map();
  const rows = await mgr(db)
    .getRepository(ScriptTemplate)
    .createQueryBuilder('t')
    .where('t.id IN (:...ids)', { ids })
    .getMany();
  return new Map(rows.map((t) => [t.id, t]));
}

export async function existingBranches(db: Db, codes: string[]): Promise<Set<string>> {
  if (!codes.length) return new Set();
  const rows = await mgr(db)
    .getRepository(Branch)
    .createQueryBuilder('b')
    .select('b.code', 'code')
    .where('b.code IN (:...codes)', { codes })
    .getRawMany<{ code: string }>();
  return new Set(rows.map((r) => r.code));
}

export async function existingRegions(db: Db, codes: string[]): Promise<Set<string>> {
  if (!codes.length) return new Set();
  const rows = await mgr(db)
    .getRepository(Branch)
    .createQueryBuilder('b')
    .select('DISTINCT b.region_code', 'code')
    .where('b.region_code IN (:...codes)', { codes })
    .getRawMany<{ code: string }>();
  return new Set(rows.map((r) => r.code));
}

/** The ids of every existing corp tag with one of these names (an audience's tags, flat). */
export async function corpTagIdList(db: Db, names: string[]): Promise<string[]> {
  return [...(await corpTagIds(db, names)).values()].flat();
}

/** Corp tag names that exist (not deleted), and their ids. */
export async function corpTagIds(db: Db, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!names.length) return out;
  const rows = await mgr(db)
    .getRepository(CorpTag)
    .createQueryBuilder('t')
    .where('t.name IN (:...names) AND t.deleted = :d', { names, d: false })
    .getMany();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r.id]);
  return out;
}

// ---- occurrences ----

/** Inserts the occurrence; null when (plan, version, key) exists already: someone else created it. */
export async function insertOccurrence(db: Db, row: Omit<SopOccurrence, 'id'>): Promise<SopOccurrence | null> {
  try {
    await mgr(db).createQueryBuilder().insert().into(SopOccurrence).values(row).updateEntity(false).execute();
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  return mgr(db).findOne(SopOccurrence, {
    where: { planId: row.planId, version: row.version, occurrenceKey: row.occurrenceKey },
  });
}

/** Any version's occurrence for this key (a new version never repeats a tick the old one ran). */
export async function occurrenceForKey(db: Db, planId: string, key: string): Promise<SopOccurrence | null> {
  return mgr(db).findOne(SopOccurrence, { where: { planId, occurrenceKey: key }, order: { id: 'DESC' } });
}

export const findOccurrence = (db: Db, id: number) => mgr(db).findOne(SopOccurrence, { where: { id } });

export async function latestOccurrence(db: Db, planId: string): Promise<SopOccurrence | null> {
  return mgr(db).findOne(SopOccurrence, { where: { planId }, order: { id: 'DESC' } });
}

/** Claims an occurrence for planning: fresh from insert, or one whose planner died (lease expired). */
export async function claimOccurrence(db: Db, id: number, holder: string, now: number, until: number) {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(SopOccurrence)
    .set({ plannedBy: holder, leaseUntil: until, updatedAt: now })
    .where("id = :id AND status = 'planning' AND (lease_until IS NULL OR lease_until < :now OR planned_by = :holder)", {
      id,
      now,
      holder,
    })
    .execute();
  return (res.affected ?? 0) > 0;
}

/** Occurrences left in planning by a planner whose lease expired. */
export async function stalePlanningIds(db: Db, now: number): Promise<number[]> {
  const rows = await mgr(db)
    .getRepository(SopOccurrence)
    .createQueryBuilder('o')
    .select('o.id', 'id')
    .where("o.status = 'planning' AND (o.lease_until IS NULL OR o.lease_until < :now)", { now })
    .getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

export async function updateOccurrence(db: Db, id: number, holder: string | null, set: Partial<SopOccurrence>) {
  const qb = mgr(db).createQueryBuilder().update(SopOccurrence).set(set).where('id = :id', { id });
  if (holder) qb.andWhere('planned_by = :holder', { holder });
  const res = await qb.execute();
  return (res.affected ?? 0) > 0;
}

/** A planner starting over removes what a dead one wrote. */
export async function clearOccurrenceRows(db: Db, occurrenceId: number): Promise<void> {
  await mgr(db).delete(SopTarget, { occurrenceId });
  await mgr(db).delete(SopTask, { occurrenceId });
}

// ---- targets and tasks ----

/**
 * Multi-row inserts of up to 2,000 rows per statement (12,000 parameters, under both drivers'
 * limits), in plain SQL: the query builder's per-value work was most of the planner's time.
 */
export async function insertTargets(db: Db, rows: SopTarget[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) {
    const slice = rows.slice(i, i + 2000);
    const params: unknown[] = [];
    for (const r of slice) params.push(r.occurrenceId, r.targetId, r.senderUserid, r.chunk, r.day, r.status);
    await mgr(db).query(
      `INSERT INTO sop_targets (occurrence_id, target_id, sender_userid, chunk, day, status) VALUES ${slice.map(() => '(?,?,?,?,?,?)').join(',')}`,
      params,
    );
  }
}

export async function insertTasks(db: Db, rows: Omit<SopTask, 'id'>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await mgr(db)
      .createQueryBuilder()
      .insert()
      .into(SopTask)
      .values(rows.slice(i, i + 200))
      .updateEntity(false)
      .execute();
  }
}

/**
 * Targets already holding a corp mass message that counts against the cap: pending or sent
 * (status 0/1) since `fromDay`, grouped per target and day.
 */
export async function capUsage(db: Db, ids: string[], fromDay: number): Promise<{ targetId: string; day: number }[]> {
  if (!ids.length) return [];
  const rows = await mgr(db).query(
    `SELECT target_id, day FROM sop_targets WHERE target_id IN (${ids.map(() => '?').join(',')}) AND day >= ? AND status IN (0, 1)`,
    [...ids, fromDay],
  );
  return (rows as { target_id: string; day: number | string }[]).map((r) => ({
    targetId: r.target_id,
    day: Number(r.day),
  }));
}

/** The same, for a contiguous key range [from, to] (a range scan on idx_sop_targets_cap). */
export async function capUsageInRange(db: Db, from: string, to: string, fromDay: number) {
  const rows = await mgr(db).query(
    'SELECT target_id, day FROM sop_targets WHERE target_id >= ? AND target_id <= ? AND day >= ? AND status IN (0, 1)',
    [from, to, fromDay],
  );
  return (rows as { target_id: string; day: number | string }[]).map((r) => ({
    targetId: r.target_id,
    day: Number(r.day),
  }));
}

export async function targetIdsOfTask(db: Db, t: Pick<SopTask, 'occurrenceId' | 'senderUserid' | 'chunk'>) {
  const rows = await mgr(db)
    .getRepository(SopTarget)
    .createQueryBuilder('x')
    .select('x.target_id', 'id')
    .where('x.occurrence_id = :o AND x.sender_userid = :s AND x.chunk = :c', {
      o: t.occurrenceId,
      s: t.senderUserid,
      c: t.chunk,
    })
    .orderBy('x.target_id', 'ASC')
    .getRawMany<{ id: string }>();
  return rows.map((r) => r.id);
}

export async function setTargetStatus(db: Db, occurrenceId: number, ids: string[], status: number, onlyFrom?: number) {
  for (const slice of chunks(ids, 500)) {
    const qb = mgr(db)
      .createQueryBuilder()
      .update(SopTarget)
      .set({ status: status as SopTarget['status'] })
      .where('occurrence_id = :o AND target_id IN (:...ids)', { o: occurrenceId, ids: slice });
    if (onlyFrom !== undefined) qb.andWhere('status = :f', { f: onlyFrom });
    await qb.execute();
  }
}

/** Pending targets of a task become "not sent" (4): a finished or cancelled task no longer holds the cap. */
export async function closeTaskTargets(db: Db, t: Pick<SopTask, 'occurrenceId' | 'senderUserid' | 'chunk'>) {
  await mgr(db)
    .createQueryBuilder()
    .update(SopTarget)
    .set({ status: 4 })
    .where('occurrence_id = :o AND sender_userid = :s AND chunk = :c AND status = 0', {
      o: t.occurrenceId,
      s: t.senderUserid,
      c: t.chunk,
    })
    .execute();
}

export async function countTargetsByStatus(db: Db, t: Pick<SopTask, 'occurrenceId' | 'senderUserid' | 'chunk'>) {
  const rows = await mgr(db).query(
    'SELECT status, COUNT(*) AS n FROM sop_targets WHERE occurrence_id = ? AND sender_userid = ? AND chunk = ? GROUP BY status',
    [t.occurrenceId, t.senderUserid, t.chunk],
  );
  const out: Record<number, number> = {};
  for (const r of rows as { status: number | string; n: number | string }[]) out[Number(r.status)] = Number(r.n);
  return out;
}

export async function taskIds(
  db: Db,
  where: {
    status: SopTaskStatus;
    due?: number;
    planId?: string;
    occurrenceId?: number;
    /** true: moments only; false: mass sends only (moments go by job, see moments.ts). */
    moment?: boolean;
  },
  limit: number,
): Promise<number[]> {
  const qb = mgr(db)
    .getRepository(SopTask)
    .createQueryBuilder('t')
    .select('t.id', 'id')
    .where('t.status = :s', { s: where.status });
  if (where.due !== undefined) qb.andWhere('(t.next_poll_at IS NULL OR t.next_poll_at <= :due)', { due: where.due });
  if (where.moment !== undefined) qb.andWhere(where.moment ? "t.kind = 'moment'" : "t.kind <> 'moment'");
  if (where.planId) qb.andWhere('t.plan_id = :p', { p: where.planId });
  if (where.occurrenceId) qb.andWhere('t.occurrence_id = :o', { o: where.occurrenceId });
  const rows = await qb.orderBy('t.id', 'ASC').limit(limit).getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

type Leased = typeof SopTask | typeof SopMomentJob;

/** Compare-and-set claim on a task or moment job: exactly one instance works on it at a time. */
async function claim<E extends Leased>(
  db: Db,
  entity: E,
  id: number,
  status: string,
  holder: string,
  now: number,
  until: number,
) {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(entity)
    .set({ lockedBy: holder, lockedUntil: until })
    .where('id = :id AND status = :status AND (locked_until IS NULL OR locked_until < :now)', { id, status, now })
    .execute();
  if ((res.affected ?? 0) === 0) return null;
  return mgr(db).findOne(entity, { where: { id } }) as Promise<InstanceType<E> | null>;
}

/** Writes the row's new state and releases the claim (only if still held by `holder`). */
async function settle<E extends Leased>(db: Db, entity: E, id: number, holder: string, set: Partial<InstanceType<E>>) {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(entity)
    .set({ ...set, lockedBy: null, lockedUntil: null } as object)
    .where('id = :id AND locked_by = :holder', { id, holder })
    .execute();
  return (res.affected ?? 0) > 0;
}

export const claimTask = (db: Db, id: number, status: SopTaskStatus, holder: string, now: number, until: number) =>
  claim(db, SopTask, id, status, holder, now, until);
export const settleTask = (db: Db, id: number, holder: string, set: Partial<SopTask>) =>
  settle(db, SopTask, id, holder, set);
export const claimMomentJob = (
  db: Db,
  id: number,
  status: SopMomentJobStatus,
  holder: string,
  now: number,
  until: number,
) => claim(db, SopMomentJob, id, status, holder, now, until);
export const settleMomentJob = (db: Db, id: number, holder: string, set: Partial<SopMomentJob>) =>
  settle(db, SopMomentJob, id, holder, set);

/** Keeps the claim and writes `set` (e.g. started_at just before the WeCom call). */
export async function markTask(db: Db, id: number, holder: string, set: Partial<SopTask>) {
  await mgr(db).update(SopTask, { id, lockedBy: holder }, set);
}
export async function markMomentJob(db: Db, id: number, holder: string, set: Partial<SopMomentJob>) {
  await mgr(db).update(SopMomentJob, { id, lockedBy: holder }, set);
}

/** A WeCom msgid or moment_id some task or job of ours already recorded (not a lost one). */
export async function knownMsgid(db: Db, msgid: string): Promise<boolean> {
  return (await mgr(db).count(SopTask, { where: { msgid } })) > 0;
}
export async function knownMomentId(db: Db, momentId: string): Promise<boolean> {
  return (await mgr(db).count(SopMomentJob, { where: { momentId } })) > 0;
}

// ---- moment jobs (many senders per add_moment_task) ----

/** Occurrences with moment tasks not yet in a job. */
export async function occurrencesWithLooseMoments(db: Db, now: number, f: { planId?: string; occurrenceId?: number }) {
  const qb = mgr(db)
    .getRepository(SopTask)
    .createQueryBuilder('t')
    .select('DISTINCT t.occurrence_id', 'id')
    .where("t.kind = 'moment' AND t.status = 'pending' AND t.moment_job_id IS NULL")
    .andWhere('(t.next_poll_at IS NULL OR t.next_poll_at <= :now)', { now });
  if (f.planId) qb.andWhere('t.plan_id = :p', { p: f.planId });
  if (f.occurrenceId) qb.andWhere('t.occurrence_id = :o', { o: f.occurrenceId });
  const rows = await qb.orderBy('t.occurrence_id', 'ASC').getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

/** One page of an occurrence's moment tasks not yet in a job, in id order. */
export async function looseMomentTasks(db: Db, occurrenceId: number, now: number, limit: number) {
  const rows: { id: number | string; sender_userid: string }[] = await mgr(db).query(
    `SELECT id, sender_userid FROM sop_tasks
      WHERE occurrence_id = ? AND kind = 'moment' AND status = 'pending' AND moment_job_id IS NULL
        AND (next_poll_at IS NULL OR next_poll_at <= ?)
      ORDER BY id LIMIT ${Number(limit)}`,
    [occurrenceId, now],
  );
  return rows.map((r) => ({ id: Number(r.id), sender: r.sender_userid }));
}

/**
 * A new job (claimed by `holder`) with the given tasks attached, in one transaction. A task some
 * other instance attached first is not taken; a job that got no task is not kept.
 */
export async function createMomentJob(
  tx: EntityManager,
  row: Omit<SopMomentJob, 'id'>,
  taskIds: number[],
): Promise<SopMomentJob | null> {
  const inserted = await tx.createQueryBuilder().insert().into(SopMomentJob).values(row).execute();
  const id = Number(inserted.identifiers[0]?.id ?? inserted.raw?.insertId);
  let attached = 0;
  for (const slice of chunks(taskIds, 500)) {
    const res = await tx
      .createQueryBuilder()
      .update(SopTask)
      .set({ momentJobId: id })
      .where("id IN (:...ids) AND moment_job_id IS NULL AND status = 'pending'", { ids: slice })
      .execute();
    attached += res.affected ?? 0;
  }
  if (!attached) {
    await tx.delete(SopMomentJob, { id });
    return null;
  }
  await tx.update(SopMomentJob, { id }, { senders: attached });
  return tx.findOne(SopMomentJob, { where: { id } });
}

/** The job's senders whose tasks are in `status`. */
export async function jobSenders(db: Db, jobId: number, status: SopTaskStatus): Promise<string[]> {
  const rows: { s: string }[] = await mgr(db).query(
    'SELECT sender_userid AS s FROM sop_tasks WHERE moment_job_id = ? AND status = ? ORDER BY id',
    [jobId, status],
  );
  return rows.map((r) => r.s);
}

/** The reminder times of a job's open tasks (they share them: one card reaches them all). */
export async function jobRemindTimes(db: Db, jobId: number): Promise<number[]> {
  const t = await mgr(db).findOne(SopTask, {
    where: { momentJobId: jobId, status: 'open' },
    select: { id: true, remindTimes: true },
  });
  return t?.remindTimes ?? [];
}

/** Bulk update of a job's tasks in `from` status (optionally only these senders); returns rows changed. */
export async function updateJobTasks(
  db: Db,
  jobId: number,
  from: SopTaskStatus[],
  set: Partial<SopTask>,
  senders?: string[],
): Promise<number> {
  let n = 0;
  for (const slice of senders ? chunks(senders, 500) : [null]) {
    const qb = mgr(db)
      .createQueryBuilder()
      .update(SopTask)
      .set(set)
      .where('moment_job_id = :j AND status IN (:...from)', { j: jobId, from });
    if (slice) qb.andWhere('sender_userid IN (:...s)', { s: slice });
    n += (await qb.execute()).affected ?? 0;
  }
  return n;
}

export async function momentJobIds(
  db: Db,
  where: { status: SopMomentJobStatus; due?: number; unlockedAt?: number; planId?: string; occurrenceId?: number },
  limit: number,
): Promise<number[]> {
  const qb = mgr(db)
    .getRepository(SopMomentJob)
    .createQueryBuilder('j')
    .select('j.id', 'id')
    .where('j.status = :s', { s: where.status });
  if (where.due !== undefined) qb.andWhere('(j.next_poll_at IS NULL OR j.next_poll_at <= :due)', { due: where.due });
  if (where.unlockedAt !== undefined)
    qb.andWhere('(j.locked_until IS NULL OR j.locked_until < :u)', { u: where.unlockedAt });
  if (where.planId) qb.andWhere('j.plan_id = :p', { p: where.planId });
  if (where.occurrenceId) qb.andWhere('j.occurrence_id = :o', { o: where.occurrenceId });
  const rows = await qb.orderBy('j.id', 'ASC').limit(limit).getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

export const momentJobsOfOccurrence = (db: Db, occurrenceId: number) =>
  mgr(db).find(SopMomentJob, { where: { occurrenceId }, order: { id: 'ASC' } });

/** Marks the senders' chunk-0 tasks of the occurrence notified; returns those not notified before. */
export async function markNotified(db: Db, occurrenceId: number, senders: string[], now: number): Promise<string[]> {
  const fresh: string[] = [];
  for (const chunk of chunks(senders, 500)) {
    const where = 'occurrence_id = :o AND chunk = 0 AND notified_at IS NULL AND sender_userid IN (:...s)';
    const rows = await mgr(db)
      .getRepository(SopTask)
      .createQueryBuilder('t')
      .select('t.sender_userid', 's')
      .where(where, { o: occurrenceId, s: chunk })
      .getRawMany<{ s: string }>();
    if (!rows.length) continue;
    await mgr(db)
      .createQueryBuilder()
      .update(SopTask)
      .set({ notifiedAt: now })
      .where(where, { o: occurrenceId, s: rows.map((r) => r.s) })
      .execute();
    fresh.push(...rows.map((r) => r.s));
  }
  return fresh;
}

/** A moment task not in any job fails (its sender left, its script was withdrawn). */
export async function failLooseTask(db: Db, id: number, reason: string, now: number) {
  await mgr(db)
    .createQueryBuilder()
    .update(SopTask)
    .set({ status: 'failed', lastError: reason.slice(0, 255), completedAt: now, updatedAt: now })
    .where("id = :id AND status = 'pending' AND moment_job_id IS NULL", { id })
    .execute();
}

export interface SenderView {
  userid: string;
  name: string;
  branchName: string | null;
  active: boolean;
}

/**
 * Senders of a page of tasks with their branch name, as a lookup: a userid with no manager row (not
 * imported yet) is sent as itself, by its userid.
 */
export async function senderViews(db: Db, userids: string[]): Promise<(userid: string) => SenderView> {
  const found = new Map<string, SenderView>();
  for (const slice of chunks(userids, 500)) {
    const rows = await mgr(db)
      .getRepository(Manager)
      .createQueryBuilder('m')
      .leftJoin(Branch, 'b', 'b.code = m.branch_code')
      .select(['m.userid AS userid', 'm.name AS name', 'm.status AS status', 'b.name AS branch'])
      .where('m.userid IN (:...ids)', { ids: slice })
      .getRawMany<{ userid: string; name: string; status: string; branch: string | null }>();
    for (const r of rows)
      found.set(r.userid, { userid: r.userid, name: r.name, branchName: r.branch, active: r.status === 'active' });
  }
  return (userid) => found.get(userid) ?? { userid, name: userid, branchName: null, active: true };
}

export async function tasksOf(db: Db, f: { planId?: string; occurrenceId?: number }): Promise<SopTask[]> {
  const qb = mgr(db).getRepository(SopTask).createQueryBuilder('t');
  if (f.planId) qb.andWhere('t.plan_id = :p', { p: f.planId });
  if (f.occurrenceId) qb.andWhere('t.occurrence_id = :o', { o: f.occurrenceId });
  return qb.orderBy('t.id', 'ASC').getMany();
}

/** Occurrences still dispatching whose every task is settled. */
export async function finishOccurrences(db: Db, now: number): Promise<number> {
  const rows = await mgr(db).query(
    `SELECT o.id FROM sop_occurrences o WHERE o.status = 'dispatching'
       AND NOT EXISTS (SELECT 1 FROM sop_tasks t WHERE t.occurrence_id = o.id AND t.status IN ('pending', 'open'))`,
  );
  let n = 0;
  for (const r of rows as { id: number }[]) {
    await mgr(db).update(
      SopOccurrence,
      { id: Number(r.id), status: 'dispatching' },
      { status: 'done', updatedAt: now },
    );
    n++;
  }
  return n;
}
