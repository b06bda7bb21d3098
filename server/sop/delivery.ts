import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import type { SopConfig } from '../config';
import { type ScriptTemplate, SopOccurrence, type SopTask } from '../db/entities';
import { prepared } from '../playbook/library';
import type { WecomApi } from '../wecom/api-types';
import {
  ERR_NO_SENDABLE,
  ERR_REMIND_LIMIT,
  ERR_TASK_CANCELLED,
  LOCAL_LIMIT_ERRCODE,
  wecomErrorInfo,
} from '../wecom/errors';
import {
  attachmentsFor,
  claimUntil,
  DAY_MS,
  errText,
  findLost,
  MAX_CREATE_ATTEMPTS,
  NOT_SENDABLE,
  notifySenders,
  outcomeKnown,
  sendable,
  sopConfig,
  TASK_EXPIRY_MS,
} from './dispatch-common';
import { cancelMomentJobs, dispatchMoments, pollMomentJobs } from './moments';
import type { PlanFile } from './plan-file';
import { type PlanProgress, planOccurrence } from './planner';
import * as repo from './repo';
import { chinaDate, chinaDay, chinaMinute, clockMinutes, inQuietHours, latestTick, parseCron } from './schedule';

/**
 * The sop-delivery job's work, in order, each step safe to run on several instances at once:
 * 1. due occurrences are created — exactly once: the unique key (plan, version, occurrence key)
 *    lets one inserter win, and the winner plans it;
 * 2. planning (planner.ts) under a lease on the occurrence row, so a dead planner's work is
 *    redone from scratch by the next run;
 * 3. pending mass-send tasks are claimed one by one (compare-and-set) and created in WeCom
 *    (add_msg_template), at most SOP_DISPATCH_PER_MINUTE per run and never in quiet hours; moment
 *    tasks go many senders to one add_moment_task (moments.ts); each sender then gets one app
 *    reminder (textcard);
 * 4. open tasks are polled (get_groupmsg_task → get_groupmsg_send_result; moments per job),
 *    laggards reminded (remind_groupmsg_send, ≤ 3 in 24 h), finished tasks release their targets' cap;
 * 5. a cancelled plan's pending tasks are dropped and its open ones cancelled in WeCom.
 * WeCom has no idempotency key for add_msg_template or add_moment_task. So `create_started_at`
 * is written just before the call and cleared with its answer; a task claimed again with it still
 * set (its process died mid-call, or the answer was lost) is first looked up in WeCom
 * (get_groupmsg_list_v2: corp-created, same text, since the call started, a msgid we have not
 * recorded, whose task list has our sender) and adopted if found, created again only if not.
 */

export interface SopDeps {
  db: DataSource;
  wecom: WecomApi;
  now: () => number;
  config?: SopConfig;
  agentId: string;
  publicBaseUrl: string;
  /** Unique per run (claims by a crashed run must never be settled by a later one). */
  holder: string;
  log?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  signal?: AbortSignal;
  /** Planning progress (metrics). */
  onProgress?: (planId: string, p: PlanProgress) => void;
  /** Only this plan (ops sop run). */
  planId?: string;
  /** How long a claimed task or moment job is held before another run may take it over (default 2 min). */
  claimMs?: number;
}

const PLAN_LEASE_MS = 120_000;

export interface DeliverySummary {
  created: number;
  planned: number;
  dispatched: number;
  failed: number;
  polled: number;
  completed: number;
  reminded: number;
  cancelled: number;
  /** add_moment_task jobs created (each carries many senders; `dispatched` counts senders). */
  momentJobs: number;
  quiet: boolean;
}

export async function runSopDelivery(d: SopDeps): Promise<DeliverySummary> {
  const s: DeliverySummary = {
    created: 0,
    planned: 0,
    dispatched: 0,
    failed: 0,
    polled: 0,
    completed: 0,
    reminded: 0,
    cancelled: 0,
    momentJobs: 0,
    quiet: inQuietHours(sopConfig(d).quietHours, d.now()),
  };
  for (const plan of await repo.activePlans(d.db)) {
    if (d.planId && plan.id !== d.planId) continue;
    if (d.signal?.aborted) break;
    const created = await createDueOccurrences(d, plan.id, { manual: false });
    s.created += created.length;
  }
  s.planned += await planWaiting(d);
  if (!s.quiet) {
    const r = await dispatchPending(d);
    const m = await dispatchMoments(d);
    s.dispatched += r.dispatched + m.dispatched;
    s.failed += r.failed + m.failed;
    s.momentJobs += m.jobs;
  }
  const p = await pollOpen(d, s.quiet);
  const pm = await pollMomentJobs(d, s.quiet);
  s.polled += p.polled + pm.polled;
  s.completed += p.completed + pm.completed;
  s.reminded += p.reminded + pm.reminded;
  s.cancelled += await cancelCancelledPlans(d);
  await repo.finishOccurrences(d.db, d.now());
  return s;
}

/** The occurrences a plan's schedule makes due now: [key, tick, template, journey day]. */
export function dueOccurrences(
  body: PlanFile,
  now: number,
): { key: string; tick: number; templateId: number; addedOnDay?: number }[] {
  if (typeof body.schedule === 'string') {
    const c = parseCron(body.schedule);
    if ('error' in c) return [];
    const tick = latestTick(c.fields, now);
    return tick === null ? [] : [{ key: chinaMinute(tick), tick, templateId: body.template as number }];
  }
  const at = clockMinutes(body.schedule.at ?? '10:00') as number;
  const today = chinaDay(now);
  const startToday = today * DAY_MS - 8 * 3_600_000;
  const tick = now >= startToday + at * 60_000 ? startToday + at * 60_000 : startToday - DAY_MS + at * 60_000;
  const day = chinaDay(tick);
  return body.schedule.steps.map((s) => ({
    key: `${chinaDate(tick)}#d${s.day}`,
    tick,
    templateId: s.template,
    addedOnDay: day - s.day,
  }));
}

/**
 * Creates the plan's due occurrences (the running version). Scheduled runs only take ticks after
 * the version was applied and within SOP_CATCHUP_HOURS; a manual run (`ops sop run`) takes the
 * latest tick. A tick an earlier version already ran is never run again.
 */
export async function createDueOccurrences(
  d: SopDeps,
  planId: string,
  o: { manual: boolean },
): Promise<SopOccurrence[]> {
  const plan = await repo.findPlan(d.db, planId);
  if (plan?.status !== 'active') return [];
  const version = await repo.findVersion(d.db, planId, plan.version);
  if (!version) return [];
  const now = d.now();
  const out: SopOccurrence[] = [];
  for (const due of dueOccurrences(version.body as PlanFile, now)) {
    if (!o.manual && (due.tick < version.createdAt || due.tick < now - sopConfig(d).catchupMs)) continue;
    if (await repo.occurrenceForKey(d.db, planId, due.key)) continue;
    const row = await repo.insertOccurrence(d.db, {
      planId,
      version: plan.version,
      occurrenceKey: due.key,
      templateId: due.templateId,
      scheduledAt: due.tick,
      status: 'planning',
      plannedBy: null,
      leaseUntil: null,
      scanned: 0,
      targets: 0,
      skippedCap: 0,
      skippedDeleted: 0,
      tasks: 0,
      error: null,
      createdAt: now,
      plannedAt: null,
      updatedAt: now,
    });
    if (row) out.push(row);
  }
  return out;
}

/** Plans every occurrence waiting in `planning` whose lease is free (new, or left by a dead planner). */
export async function planWaiting(d: SopDeps): Promise<number> {
  let n = 0;
  for (const id of await repo.stalePlanningIds(d.db, d.now())) {
    if (d.signal?.aborted) break;
    if (await planOne(d, id)) n++;
  }
  return n;
}

export async function planOne(d: SopDeps, occurrenceId: number): Promise<boolean> {
  const now = d.now();
  if (!(await repo.claimOccurrence(d.db, occurrenceId, d.holder, now, now + PLAN_LEASE_MS))) return false;
  const occ = await repo.findOccurrence(d.db, occurrenceId);
  if (!occ) return false;
  const version = await repo.findVersion(d.db, occ.planId, occ.version);
  const body = version?.body as PlanFile;
  const due = dueOccurrences(body, occ.scheduledAt).find((x) => x.key === occ.occurrenceKey);
  // A planner that died left rows behind: start over.
  await repo.clearOccurrenceRows(d.db, occ.id);
  const result = await planOccurrence(d.db, {
    plan: body,
    occurrence: occ,
    cap: sopConfig(d),
    now: d.now(),
    write: true,
    addedOnDay: due?.addedOnDay,
    onPage: async (p) => {
      d.onProgress?.(occ.planId, p);
      if (d.signal?.aborted) return false;
      return repo.updateOccurrence(d.db, occ.id, d.holder, {
        scanned: p.scanned,
        targets: p.targets,
        skippedCap: p.skippedCap,
        skippedDeleted: p.skippedDeleted,
        leaseUntil: d.now() + PLAN_LEASE_MS,
        updatedAt: d.now(),
      });
    },
  });
  if (result.stopped) return false;
  const at = d.now();
  await d.db.transaction(async (tx) => {
    await repo.insertTasks(tx, result.tasks);
    await repo.updateOccurrence(tx, occ.id, d.holder, {
      status: 'dispatching',
      scanned: result.scanned,
      targets: result.targets,
      skippedCap: result.skippedCap,
      skippedDeleted: result.skippedDeleted,
      tasks: result.tasks.length,
      plannedAt: at,
      leaseUntil: null,
      updatedAt: at,
    });
  });
  d.onProgress?.(occ.planId, result);
  d.log?.info(
    { plan: occ.planId, occurrence: occ.occurrenceKey, targets: result.targets, tasks: result.tasks.length },
    'sop occurrence planned',
  );
  return true;
}

// ---- dispatch ----

/** Creates pending mass-send tasks in WeCom (at most SOP_DISPATCH_PER_MINUTE per run). */
export async function dispatchPending(d: SopDeps, only?: { occurrenceId?: number }) {
  const out = { dispatched: 0, failed: 0 };
  const ids = await repo.taskIds(
    d.db,
    { status: 'pending', due: d.now(), planId: d.planId, occurrenceId: only?.occurrenceId, moment: false },
    sopConfig(d).dispatchPerMinute,
  );
  const templates = new Map<number, ScriptTemplate | null>();
  const occurrences = new Map<number, SopOccurrence | null>();
  for (const id of ids) {
    if (d.signal?.aborted) break;
    const now = d.now();
    const task = await repo.claimTask(d.db, id, 'pending', d.holder, now, claimUntil(d, now));
    if (!task) continue;
    const plan = await repo.findPlan(d.db, task.planId);
    if (plan?.status !== 'active') {
      // Paused: wait (cancelled ones are swept by cancelCancelledPlans).
      await repo.settleTask(d.db, task.id, d.holder, {});
      continue;
    }
    if (!occurrences.has(task.occurrenceId))
      occurrences.set(task.occurrenceId, await repo.findOccurrence(d.db, task.occurrenceId));
    const occ = occurrences.get(task.occurrenceId);
    if (!occ) continue;
    if (!templates.has(occ.templateId))
      templates.set(occ.templateId, (await repo.templatesByIds(d.db, [occ.templateId])).get(occ.templateId) ?? null);
    const t = templates.get(occ.templateId);
    if (!sendable(t, now)) {
      await failTask(d, task, NOT_SENDABLE);
      out.failed++;
      continue;
    }
    const sender = (await repo.senderViews(d.db, [task.senderUserid]))(task.senderUserid);
    if (!sender.active) {
      await failTask(d, task, 'the sender is no longer an active manager');
      out.failed++;
      continue;
    }
    const p = prepared(t, null, sender);
    const text = p.text.slice(0, 4000);
    const attachments = attachmentsFor(task.kind, p.attachments);
    const notify = () =>
      notifySenders(d, {
        occurrenceId: task.occurrenceId,
        kind: task.kind,
        senders: [task.senderUserid],
        planName: plan.name,
        text,
      });
    try {
      if (task.createStartedAt !== null && !task.msgid) {
        const lost = await findLostMsgTemplate(d, task, text);
        if (lost) {
          await repo.settleTask(d.db, task.id, d.holder, {
            ...opened(task, lost, d.now(), sopConfig(d)),
            createStartedAt: null,
          });
          d.log?.warn({ task: task.id, plan: task.planId }, 'sop task found in WeCom after a lost answer');
          out.dispatched++;
          await notify();
          continue;
        }
      }
      await repo.markTask(d.db, task.id, d.holder, { createStartedAt: d.now() });
      const targets = await repo.targetIdsOfTask(d.db, task);
      const r = await d.wecom.addMsgTemplate({
        chat_type: task.kind === 'group' ? 'group' : 'single',
        sender: task.senderUserid,
        ...(task.kind === 'group' ? { chat_id_list: targets } : { external_userid: targets }),
        text: { content: text },
        ...(attachments.length ? { attachments } : {}),
      });
      if (r.fail_list.length) await repo.setTargetStatus(d.db, task.occurrenceId, r.fail_list, 2, 0);
      await repo.settleTask(d.db, task.id, d.holder, {
        ...opened(task, r.msgid, d.now(), sopConfig(d)),
        createStartedAt: null,
        notFriend: r.fail_list.length,
      });
      out.dispatched++;
      await notify();
    } catch (err) {
      // A definite answer from WeCom means nothing was created; otherwise keep the mark (look it up next time).
      if (outcomeKnown(err)) await repo.markTask(d.db, task.id, d.holder, { createStartedAt: null });
      const e = wecomErrorInfo(err);
      if (e.errcode === ERR_NO_SENDABLE) {
        // Nobody left to send to (not friends / over the cap): nothing for the sender to do.
        await repo.closeTaskTargets(d.db, task);
        await repo.settleTask(d.db, task.id, d.holder, {
          status: 'done',
          lastError: 'WeCom: no sendable recipient (41048)',
          completedAt: d.now(),
          updatedAt: d.now(),
        });
      } else if (e.errcode === LOCAL_LIMIT_ERRCODE) {
        // Our own rate limiter said wait: try again next run without spending an attempt.
        await repo.settleTask(d.db, task.id, d.holder, { lastError: errText(err), updatedAt: d.now() });
      } else if (e.kind === 'retryable' && task.attempts + 1 < MAX_CREATE_ATTEMPTS) {
        await repo.settleTask(d.db, task.id, d.holder, {
          attempts: task.attempts + 1,
          lastError: errText(err),
          nextPollAt: d.now() + 60_000 * 2 ** task.attempts,
          updatedAt: d.now(),
        });
      } else {
        await failTask(d, task, errText(err));
        out.failed++;
      }
    }
  }
  return out;
}

function opened(task: SopTask, msgid: string, now: number, c: SopConfig): Partial<SopTask> {
  return {
    status: 'open',
    msgid,
    attempts: task.attempts + 1,
    lastError: null,
    dispatchedAt: now,
    nextPollAt: now + Math.min(c.pollMs, c.remindAfterMs),
    updatedAt: now,
  };
}

/** The add_msg_template task a lost call may have made (see findLost), or null. */
function findLostMsgTemplate(d: SopDeps, task: SopTask, text: string): Promise<string | null> {
  return findLost(d, {
    startedAt: task.createStartedAt as number,
    text,
    page: async (w, cursor) => {
      const r = await d.wecom.listGroupmsg({
        chat_type: task.kind === 'group' ? 'group' : 'single',
        ...w,
        filter_type: 0,
        limit: 100,
        cursor,
      });
      return { items: r.group_msg_list, next: r.next_cursor };
    },
    id: (m) => m.msgid,
    known: (msgid) => repo.knownMsgid(d.db, msgid),
    ours: async (msgid) =>
      (await d.wecom.getGroupmsgTask({ msgid })).task_list.some((x) => x.userid === task.senderUserid),
  });
}

async function failTask(d: SopDeps, task: SopTask, reason: string) {
  await repo.closeTaskTargets(d.db, task);
  await repo.settleTask(d.db, task.id, d.holder, {
    status: 'failed',
    lastError: reason.slice(0, 255),
    attempts: task.attempts + 1,
    completedAt: d.now(),
    updatedAt: d.now(),
  });
  d.log?.warn({ task: task.id, plan: task.planId, reason }, 'sop task failed');
}

// ---- polling ----

export async function pollOpen(d: SopDeps, quiet: boolean, only?: { occurrenceId?: number }) {
  const out = { polled: 0, completed: 0, reminded: 0 };
  const ids = await repo.taskIds(d.db, { status: 'open', due: d.now(), planId: d.planId, ...only, moment: false }, 500);
  for (const id of ids) {
    if (d.signal?.aborted) break;
    const now = d.now();
    const task = await repo.claimTask(d.db, id, 'open', d.holder, now, claimUntil(d, now));
    if (!task?.msgid) continue;
    out.polled++;
    try {
      const done = await pollMessage(d, task);
      if (done) {
        out.completed++;
        continue;
      }
      const set: Partial<SopTask> = { nextPollAt: d.now() + sopConfig(d).pollMs, updatedAt: d.now() };
      if (task.dispatchedAt !== null && now - task.dispatchedAt > TASK_EXPIRY_MS) {
        await repo.closeTaskTargets(d.db, task);
        await repo.settleTask(d.db, task.id, d.holder, {
          status: 'done',
          lastError: 'not sent within 7 days',
          completedAt: now,
          updatedAt: now,
        });
        continue;
      }
      if (!quiet && (await remindIfLate(d, task, set))) out.reminded++;
      await repo.settleTask(d.db, task.id, d.holder, set);
    } catch (err) {
      await repo.settleTask(d.db, task.id, d.holder, {
        lastError: errText(err),
        nextPollAt: d.now() + sopConfig(d).pollMs,
        updatedAt: d.now(),
      });
    }
  }
  return out;
}

/** true when the task is finished (settled here). */
async function pollMessage(d: SopDeps, task: SopTask): Promise<boolean> {
  const msgid = task.msgid as string;
  let cursor: string | undefined;
  let mine: { status: number } | undefined;
  do {
    const page = await d.wecom.getGroupmsgTask({ msgid, cursor });
    mine = page.task_list.find((t) => t.userid === task.senderUserid) ?? mine;
    cursor = page.next_cursor;
  } while (cursor && !mine);
  if (mine?.status !== 2) return false;
  // Sent: read every recipient's result (group sends list only the groups that were sent).
  const byStatus = new Map<number, string[]>();
  cursor = undefined;
  do {
    const page = await d.wecom.getGroupmsgSendResult({ msgid, userid: task.senderUserid, cursor });
    for (const r of page.send_list) {
      const id = task.kind === 'group' ? r.chat_id : r.external_userid;
      if (!id) continue;
      byStatus.set(r.status, [...(byStatus.get(r.status) ?? []), id]);
    }
    cursor = page.next_cursor;
  } while (cursor);
  for (const [status, ids] of byStatus) {
    if (status >= 1 && status <= 3) await repo.setTargetStatus(d.db, task.occurrenceId, ids, status);
  }
  await repo.closeTaskTargets(d.db, task);
  const counts = await repo.countTargetsByStatus(d.db, task);
  await repo.settleTask(d.db, task.id, d.holder, {
    status: 'done',
    senderSent: true,
    sent: counts[1] ?? 0,
    notFriend: counts[2] ?? 0,
    capped: counts[3] ?? 0,
    completedAt: d.now(),
    updatedAt: d.now(),
  });
  return true;
}

/** remind_groupmsg_send once the sender is SOP_REMIND_AFTER_HOURS late, again after as long, ≤ 3 per 24 h. */
async function remindIfLate(d: SopDeps, task: SopTask, set: Partial<SopTask>): Promise<boolean> {
  const now = d.now();
  const c = sopConfig(d);
  const times = (task.remindTimes ?? []).filter((t) => t > now - DAY_MS);
  const last = Math.max(task.dispatchedAt ?? now, ...times);
  if (now - last < c.remindAfterMs || times.length >= 3) return false;
  try {
    await d.wecom.remindGroupmsgSend(task.msgid as string);
    set.remindTimes = [...times, now];
    return true;
  } catch (err) {
    const e = wecomErrorInfo(err);
    // WeCom says the 24 h budget is spent: believe it.
    if (e.errcode === ERR_REMIND_LIMIT) set.remindTimes = [now, now, now];
    else if (e.errcode === ERR_TASK_CANCELLED) {
      set.status = 'cancelled';
      set.completedAt = now;
      await repo.closeTaskTargets(d.db, task);
    } else set.lastError = errText(err);
    return false;
  }
}

// ---- cancel ----

/** Pending tasks of cancelled plans are dropped, open ones cancelled in WeCom; planning stops. */
export async function cancelCancelledPlans(d: SopDeps): Promise<number> {
  const plans = (await repo.listPlans(d.db)).filter(
    (p) => p.status === 'cancelled' && (!d.planId || p.id === d.planId),
  );
  let n = 0;
  for (const p of plans) n += await cancelPlanTasks(d, p.id);
  return n;
}

export async function cancelPlanTasks(d: SopDeps, planId: string): Promise<number> {
  let n = await cancelMomentJobs(d, planId);
  await d.db
    .createQueryBuilder()
    .update(SopOccurrence)
    .set({ status: 'cancelled', updatedAt: d.now() })
    .where("plan_id = :p AND status IN ('planning', 'dispatching')", { p: planId })
    .execute();
  for (const status of ['pending', 'open'] as const) {
    for (const id of await repo.taskIds(d.db, { status, planId }, 100_000)) {
      const now = d.now();
      const task = await repo.claimTask(d.db, id, status, d.holder, now, claimUntil(d, now));
      if (!task) continue;
      if (task.momentJobId !== null) {
        // Its job is cancelled as a whole (cancelMomentJobs), now or on the next run.
        await repo.settleTask(d.db, task.id, d.holder, {});
        continue;
      }
      try {
        if (status === 'open' && task.msgid && task.kind !== 'moment') await d.wecom.cancelGroupmsgSend(task.msgid);
      } catch (err) {
        if (wecomErrorInfo(err).errcode !== ERR_TASK_CANCELLED) {
          await repo.settleTask(d.db, task.id, d.holder, { lastError: errText(err), updatedAt: d.now() });
          continue;
        }
      }
      await repo.closeTaskTargets(d.db, task);
      await repo.settleTask(d.db, task.id, d.holder, { status: 'cancelled', completedAt: d.now(), updatedAt: d.now() });
      n++;
    }
  }
  if (n)
    await audit(d.db, {
      actor: d.holder.slice(0, 64),
      action: 'sop.tasks_cancelled',
      subject: `sop:${planId}`,
      detail: { tasks: n },
    });
  return n;
}

/**
 * `ops sop run <id> --apply`: the current occurrence now (created if not yet, planned, its tasks
 * dispatched unless in quiet hours). Running it again finds the same occurrence: nothing repeats.
 */
export async function runPlanNow(d: SopDeps, planId: string) {
  const created = await createDueOccurrences(d, planId, { manual: true });
  const plan = await repo.findPlan(d.db, planId);
  const version = plan ? await repo.findVersion(d.db, planId, plan.version) : null;
  const keys = version ? dueOccurrences(version.body as PlanFile, d.now()).map((x) => x.key) : [];
  const occurrences: SopOccurrence[] = [];
  for (const key of keys) {
    const o = await repo.occurrenceForKey(d.db, planId, key);
    if (o) occurrences.push(o);
  }
  const quiet = inQuietHours(sopConfig(d).quietHours, d.now());
  let dispatched = 0;
  for (const o of occurrences) {
    if (o.status === 'planning') await planOne(d, o.id);
    if (!quiet) {
      dispatched += (await dispatchPending(d, { occurrenceId: o.id })).dispatched;
      dispatched += (await dispatchMoments(d, { occurrenceId: o.id })).dispatched;
    }
  }
  return {
    created: created.length,
    quiet,
    dispatched,
    occurrences: await Promise.all(occurrences.map(async (o) => (await repo.findOccurrence(d.db, o.id)) ?? o)),
  };
}
