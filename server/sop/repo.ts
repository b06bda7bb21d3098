import type { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';
import {
  Branch,
  CorpTag,
  ScriptTemplate,
  SopOccurrence,
  SopPlan,
  SopPlanVersion,
  SopTarget,
  SopTask,
  type SopTaskStatus,
} from '../db/entities';

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
  for (let i = 0; i < ids.length; i += 500) {
    const qb = mgr(db)
      .createQueryBuilder()
      .update(SopTarget)
      .set({ status: status as SopTarget['status'] })
      .where('occurrence_id = :o AND target_id IN (:...ids)', { o: occurrenceId, ids: ids.slice(i, i + 500) });
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
  where: { status: SopTaskStatus; due?: number; planId?: string; occurrenceId?: number },
  limit: number,
): Promise<number[]> {
  const qb = mgr(db)
    .getRepository(SopTask)
    .createQueryBuilder('t')
    .select('t.id', 'id')
    .where('t.status = :s', { s: where.status });
  if (where.due !== undefined) qb.andWhere('(t.next_poll_at IS NULL OR t.next_poll_at <= :due)', { due: where.due });
  if (where.planId) qb.andWhere('t.plan_id = :p', { p: where.planId });
  if (where.occurrenceId) qb.andWhere('t.occurrence_id = :o', { o: where.occurrenceId });
  const rows = await qb.orderBy('t.id', 'ASC').limit(limit).getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

/** Compare-and-set claim on a task: exactly one instance works on it at a time. */
export async function claimTask(db: Db, id: number, status: SopTaskStatus, holder: string, now: number, until: number) {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(SopTask)
    .set({ lockedBy: holder, lockedUntil: until })
    .where('id = :id AND status = :status AND (locked_until IS NULL OR locked_until < :now)', { id, status, now })
    .execute();
  if ((res.affected ?? 0) === 0) return null;
  return mgr(db).findOne(SopTask, { where: { id } });
}

/** Writes the task's new state and releases the claim (only if still held by `holder`). */
export async function settleTask(db: Db, id: number, holder: string, set: Partial<SopTask>): Promise<boolean> {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(SopTask)
    .set({ ...set, lockedBy: null, lockedUntil: null })
    .where('id = :id AND locked_by = :holder', { id, holder })
    .execute();
  return (res.affected ?? 0) > 0;
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
