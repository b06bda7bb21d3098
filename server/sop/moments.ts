import type { ScriptTemplate, SopMomentJob } from '../db/entities';
import { prepared } from '../playbook/library';
import { ERR_TASK_CANCELLED, LOCAL_LIMIT_ERRCODE, wecomErrorInfo } from '../wecom/errors';
import type { SopDeps } from './delivery';
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
  remindMomentSenders,
  sendable,
  sopConfig,
  TASK_EXPIRY_MS,
} from './dispatch-common';
import type { PlanFile } from './plan-file';
import * as repo from './repo';

/**
 * Moments (客户朋友圈) at province scale. WeCom allows 10 add_moment_task calls a minute per corp,
 * but one call takes up to 100,000 senders (visible_range.sender_list.user_list). So the planner
 * still writes one sop_tasks row per sender (status and the report stay per sender and branch),
 * and delivery packs them into jobs (sop_moment_jobs): senders of one occurrence whose text is the
 * same (a script naming the branch splits by branch; one naming the manager, per manager) go in
 * one job of up to SOP_MOMENT_SENDERS_PER_TASK. 10,000 managers with one text: 1 call, not 10,000
 * (17 hours at 10 a minute).
 *
 * A job is claimed and created like a task (compare-and-set lease). `started_at` is written just
 * before add_moment_task; a job found with it but without a jobid was left by a process that died
 * mid-call (or a call whose answer was lost), and is looked up in get_moment_list (corp-created,
 * same text, created since started_at, not a moment we recorded, with our senders) before being
 * created again. get_moment_task gives each sender's publish status, applied to their tasks in bulk.
 */

/** WeCom allows 10 add_moment_task per minute per corp (PROTOCOL-SOP.md §4); the job runs every minute. */
const MOMENTS_PER_RUN = 10;

/** Creates moment jobs: first jobs a dead process left half-made, then new ones from loose tasks. */
export async function dispatchMoments(d: SopDeps, only?: { occurrenceId?: number }) {
  const out = { dispatched: 0, failed: 0, jobs: 0 };
  let budget = MOMENTS_PER_RUN;
  const templates = new Map<number, ScriptTemplate | null>();
  const now = d.now();
  for (const id of await repo.momentJobIds(
    d.db,
    { status: 'creating', unlockedAt: now, planId: d.planId, occurrenceId: only?.occurrenceId },
    budget,
  )) {
    if (budget <= 0 || d.signal?.aborted) break;
    const job = await repo.claimMomentJob(d.db, id, 'creating', d.holder, d.now(), claimUntil(d, d.now()));
    if (!job) continue;
    const r = await createJob(d, job);
    if (r.called) budget--;
    tally(out, r);
  }
  for (const occurrenceId of await repo.occurrencesWithLooseMoments(d.db, now, {
    planId: d.planId,
    occurrenceId: only?.occurrenceId,
  })) {
    while (budget > 0 && !d.signal?.aborted) {
      const made = await newJobs(d, occurrenceId, templates);
      if (!made.length) break;
      for (const job of made) {
        if (budget <= 0) {
          // Over this minute's quota: release it, the next run creates it (started_at is still null).
          await repo.settleMomentJob(d.db, job.id, d.holder, {});
          continue;
        }
        const r = await createJob(d, job);
        if (r.called) budget--;
        tally(out, r);
      }
    }
  }
  return out;
}

function tally(out: { dispatched: number; failed: number; jobs: number }, r: CreateResult) {
  out.dispatched += r.senders;
  out.failed += r.failed;
  if (r.senders) out.jobs++;
}

/**
 * One page of the occurrence's loose tasks becomes jobs, one per distinct text. Tasks whose sender
 * left, or whose script is no longer approved, fail here with the reason.
 */
async function newJobs(
  d: SopDeps,
  occurrenceId: number,
  templates: Map<number, ScriptTemplate | null>,
): Promise<SopMomentJob[]> {
  const now = d.now();
  const rows = await repo.looseMomentTasks(d.db, occurrenceId, now, sopConfig(d).momentSendersPerTask);
  if (!rows.length) return [];
  const occ = await repo.findOccurrence(d.db, occurrenceId);
  if (!occ) return [];
  const plan = await repo.findPlan(d.db, occ.planId);
  if (plan?.status !== 'active') return [];
  if (!templates.has(occ.templateId))
    templates.set(occ.templateId, (await repo.templatesByIds(d.db, [occ.templateId])).get(occ.templateId) ?? null);
  const t = templates.get(occ.templateId) ?? null;
  const usable = sendable(t, now);
  const view = await repo.senderViews(
    d.db,
    rows.map((r) => r.sender),
  );
  const byText = new Map<string, number[]>();
  const failed: { id: number; reason: string }[] = [];
  for (const r of rows) {
    const v = view(r.sender);
    if (!usable) failed.push({ id: r.id, reason: NOT_SENDABLE });
    else if (!v.active) failed.push({ id: r.id, reason: 'the sender is no longer an active manager' });
    else {
      const text = prepared(t, null, v).text.slice(0, 2000);
      byText.set(text, [...(byText.get(text) ?? []), r.id]);
    }
  }
  for (const f of failed) await repo.failLooseTask(d.db, f.id, f.reason, now);
  const jobs: SopMomentJob[] = [];
  for (const [text, ids] of byText) {
    const job = await d.db.transaction((tx) =>
      repo.createMomentJob(
        tx,
        {
          occurrenceId,
          planId: occ.planId,
          status: 'creating',
          senders: ids.length,
          text,
          jobid: null,
          momentId: null,
          published: 0,
          attempts: 0,
          lockedBy: d.holder,
          lockedUntil: claimUntil(d, now),
          nextPollAt: null,
          lastError: null,
          startedAt: null,
          createdAt: now,
          dispatchedAt: null,
          completedAt: null,
          updatedAt: now,
        },
        ids,
      ),
    );
    if (job) jobs.push(job);
  }
  // Every row of the page either failed or is in a job (or another instance took it): progress.
  return failed.length && !jobs.length ? newJobs(d, occurrenceId, templates) : jobs;
}

interface CreateResult {
  /** add_moment_task was called (counts against the per-minute quota). */
  called: boolean;
  /** Senders whose tasks are now open. */
  senders: number;
  failed: number;
}

/** Creates (or finds, after a crash) the claimed job in WeCom. */
async function createJob(d: SopDeps, job: SopMomentJob): Promise<CreateResult> {
  const senders = await repo.jobSenders(d.db, job.id, 'pending');
  const none: CreateResult = { called: false, senders: 0, failed: 0 };
  if (!senders.length) {
    await repo.settleMomentJob(d.db, job.id, d.holder, { status: 'done', completedAt: d.now(), updatedAt: d.now() });
    return none;
  }
  const plan = await repo.findPlan(d.db, job.planId);
  if (plan?.status !== 'active') {
    await repo.settleMomentJob(d.db, job.id, d.holder, {});
    return none;
  }
  if (job.startedAt !== null) {
    const momentId = await findLostMoment(d, job, senders);
    if (momentId) {
      const n = await opened(d, job, { momentId }, senders, plan.name);
      d.log?.warn({ job: job.id, plan: job.planId, momentId }, 'sop moment job found in WeCom after a lost answer');
      return { called: false, senders: n, failed: 0 };
    }
  }
  const occ = await repo.findOccurrence(d.db, job.occurrenceId);
  const t = occ ? (await repo.templatesByIds(d.db, [occ.templateId])).get(occ.templateId) : undefined;
  const attachments = t
    ? attachmentsFor('moment', prepared(t, null, { userid: '', name: '', branchName: null }).attachments)
    : [];
  const tags = occ ? await audienceTagIds(d, occ.planId, occ.version) : null;
  if (tags && !tags.length) {
    // Never widen a tagged post to every customer: the tags are gone, so is the audience.
    const reason = "none of the plan's corp tags exists any more";
    const failed = await repo.updateJobTasks(d.db, job.id, ['pending'], {
      status: 'failed',
      lastError: reason,
      completedAt: d.now(),
      updatedAt: d.now(),
    });
    await repo.settleMomentJob(d.db, job.id, d.holder, { status: 'failed', lastError: reason, completedAt: d.now() });
    return { called: false, senders: 0, failed };
  }
  await repo.markMomentJob(d.db, job.id, d.holder, { startedAt: d.now(), updatedAt: d.now() });
  try {
    const r = await d.wecom.addMomentTask({
      text: { content: job.text },
      ...(attachments.length ? { attachments } : {}),
      visible_range: {
        sender_list: { user_list: senders },
        ...(tags ? { external_contact_list: { tag_list: tags } } : {}),
      },
    });
    const n = await opened(d, job, { jobid: r.jobid }, senders, plan.name);
    return { called: true, senders: n, failed: 0 };
  } catch (err) {
    const e = wecomErrorInfo(err);
    const known = outcomeKnown(err);
    const set: Partial<SopMomentJob> = {
      lastError: errText(err),
      updatedAt: d.now(),
      // Only a definite answer says WeCom made nothing; otherwise look it up before the next try.
      ...(known ? { startedAt: null } : {}),
    };
    if (e.errcode === LOCAL_LIMIT_ERRCODE) {
      await repo.settleMomentJob(d.db, job.id, d.holder, set);
      return none;
    }
    if (e.kind === 'retryable' && job.attempts + 1 < MAX_CREATE_ATTEMPTS) {
      // Stays claimed-looking until the backoff ends: the creating sweep takes it after that.
      await repo.markMomentJob(d.db, job.id, d.holder, {
        ...set,
        attempts: job.attempts + 1,
        lockedUntil: d.now() + 60_000 * 2 ** job.attempts,
      });
      return { called: true, senders: 0, failed: 0 };
    }
    const failed = await repo.updateJobTasks(d.db, job.id, ['pending'], {
      status: 'failed',
      lastError: errText(err),
      attempts: job.attempts + 1,
      completedAt: d.now(),
      updatedAt: d.now(),
    });
    await repo.settleMomentJob(d.db, job.id, d.holder, {
      ...set,
      status: 'failed',
      attempts: job.attempts + 1,
      completedAt: d.now(),
    });
    d.log?.warn({ job: job.id, plan: job.planId, senders: failed, error: errText(err) }, 'sop moment job failed');
    return { called: true, senders: 0, failed };
  }
}

/**
 * The corp tag ids a moments plan's audience names (the post is visible only to customers carrying
 * one), [] when it names tags none of which exists now, null when it names none (every customer).
 */
async function audienceTagIds(d: SopDeps, planId: string, version: number): Promise<string[] | null> {
  const v = await repo.findVersion(d.db, planId, version);
  const names = (v?.body as PlanFile | undefined)?.audience.customers?.corpTags;
  if (!names?.length) return null;
  return repo.corpTagIdList(d.db, names);
}

/** The job is in WeCom: it and its pending tasks open; each sender gets the app reminder. */
async function opened(
  d: SopDeps,
  job: SopMomentJob,
  id: { jobid?: string; momentId?: string },
  senders: string[],
  planName: string,
): Promise<number> {
  const now = d.now();
  const poll = now + Math.min(sopConfig(d).pollMs, sopConfig(d).remindAfterMs);
  const n = await d.db.transaction(async (tx) => {
    const changed = await repo.updateJobTasks(tx, job.id, ['pending'], {
      status: 'open',
      msgid: id.jobid ?? null,
      momentId: id.momentId ?? null,
      attempts: job.attempts + 1,
      lastError: null,
      dispatchedAt: now,
      updatedAt: now,
    });
    await repo.settleMomentJob(tx, job.id, d.holder, {
      status: 'open',
      jobid: id.jobid ?? null,
      momentId: id.momentId ?? null,
      attempts: job.attempts + 1,
      lastError: null,
      dispatchedAt: now,
      nextPollAt: poll,
      updatedAt: now,
    });
    return changed;
  });
  await notifySenders(d, { occurrenceId: job.occurrenceId, kind: 'moment', senders, planName, text: job.text });
  return n;
}

/** The moment a lost add_moment_task may have made (see findLost), or null. */
function findLostMoment(d: SopDeps, job: SopMomentJob, senders: string[]): Promise<string | null> {
  const ours = new Set(senders);
  return findLost(d, {
    startedAt: job.startedAt as number,
    text: job.text,
    page: async (w, cursor) => {
      const r = await d.wecom.listMoments({ ...w, filter_type: 0, limit: 20, cursor });
      return { items: r.moment_list, next: r.next_cursor };
    },
    id: (m) => m.moment_id,
    known: (momentId) => repo.knownMomentId(d.db, momentId),
    ours: async (momentId) =>
      (await d.wecom.getMomentTask({ moment_id: momentId, limit: 1000 })).task_list.some((x) => ours.has(x.userid)),
  });
}

// ---- polling ----

/** Open jobs: moment_id from the job result, then each sender's publish status applied in bulk. */
export async function pollMomentJobs(d: SopDeps, quiet: boolean, only?: { occurrenceId?: number }) {
  const out = { polled: 0, completed: 0, reminded: 0 };
  const ids = await repo.momentJobIds(
    d.db,
    { status: 'open', due: d.now(), planId: d.planId, occurrenceId: only?.occurrenceId },
    100,
  );
  for (const id of ids) {
    if (d.signal?.aborted) break;
    const now = d.now();
    const job = await repo.claimMomentJob(d.db, id, 'open', d.holder, now, claimUntil(d, now));
    if (!job) continue;
    out.polled++;
    try {
      const r = await pollJob(d, job, quiet);
      out.completed += r.finished;
      out.reminded += r.reminded;
    } catch (err) {
      await repo.settleMomentJob(d.db, job.id, d.holder, {
        lastError: errText(err),
        nextPollAt: d.now() + sopConfig(d).pollMs,
        updatedAt: d.now(),
      });
    }
  }
  return out;
}

/** The senders whose tasks finished in this poll, and how many were reminded. */
async function pollJob(d: SopDeps, job: SopMomentJob, quiet: boolean): Promise<{ finished: number; reminded: number }> {
  const now = d.now();
  let momentId = job.momentId;
  let finished = 0;
  let reminded = 0;
  if (!momentId) {
    const r = await d.wecom.getMomentTaskResult(job.jobid as string);
    if (r.status !== 3) {
      await repo.settleMomentJob(d.db, job.id, d.holder, { nextPollAt: now + 60_000, updatedAt: now });
      return { finished: 0, reminded: 0 };
    }
    if (r.result?.errcode || !r.result?.moment_id) {
      const reason = `moment task failed: errcode ${r.result?.errcode ?? 'none'}`;
      finished += await repo.updateJobTasks(d.db, job.id, ['open'], {
        status: 'failed',
        lastError: reason,
        completedAt: now,
        updatedAt: now,
      });
      await repo.settleMomentJob(d.db, job.id, d.holder, {
        status: 'failed',
        lastError: reason,
        completedAt: now,
        updatedAt: now,
      });
      return { finished, reminded: 0 };
    }
    momentId = r.result.moment_id;
    const invalid = r.result.invalid_sender_list?.user_list ?? [];
    if (invalid.length)
      finished += await repo.updateJobTasks(
        d.db,
        job.id,
        ['open'],
        {
          status: 'failed',
          lastError: 'WeCom rejected the sender (not visible to the app)',
          completedAt: now,
          updatedAt: now,
        },
        invalid,
      );
    await repo.updateJobTasks(d.db, job.id, ['open'], { momentId });
    await repo.markMomentJob(d.db, job.id, d.holder, { momentId });
  }
  // The job's senders still waiting: only this claim changes its tasks until it settles.
  const waiting = await repo.jobSenders(d.db, job.id, 'open');
  const published = new Set<string>();
  const listed = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await d.wecom.getMomentTask({ moment_id: momentId, cursor, limit: 1000 });
    for (const t of page.task_list) {
      listed.add(t.userid);
      if (t.publish_status === 1) published.add(t.userid);
    }
    cursor = page.next_cursor;
  } while (cursor);
  finished += await repo.updateJobTasks(
    d.db,
    job.id,
    ['open'],
    { status: 'done', senderSent: true, completedAt: now, updatedAt: now },
    waiting.filter((u) => published.has(u)),
  );
  // get_moment_task lists every sender of the moment, published or not: one it does not list is not
  // a sender (the job result's invalid_sender_list says the same, but a job found again after a lost
  // answer has no result to read).
  const unlisted = waiting.filter((u) => !listed.has(u));
  if (unlisted.length)
    finished += await repo.updateJobTasks(
      d.db,
      job.id,
      ['open'],
      {
        status: 'failed',
        lastError: 'WeCom did not take the sender (not visible to the app)',
        completedAt: now,
        updatedAt: now,
      },
      unlisted,
    );
  const open = waiting.filter((u) => listed.has(u) && !published.has(u));
  const stillOpen = open.length;
  const expired = job.dispatchedAt !== null && now - job.dispatchedAt > TASK_EXPIRY_MS;
  if (stillOpen && !expired && !quiet) reminded = await remindIfLate(d, job, open);
  if (stillOpen && expired)
    finished += await repo.updateJobTasks(d.db, job.id, ['open'], {
      status: 'done',
      lastError: 'not published within 7 days',
      completedAt: now,
      updatedAt: now,
    });
  const over = !stillOpen || expired;
  await repo.settleMomentJob(d.db, job.id, d.holder, {
    momentId,
    published: published.size,
    ...(over ? { status: 'done', completedAt: now } : {}),
    nextPollAt: now + sopConfig(d).pollMs,
    updatedAt: now,
  });
  return { finished, reminded };
}

/**
 * Moment senders who have not published after SOP_REMIND_AFTER_HOURS get the app card again,
 * like remind_groupmsg_send for mass sends: again after as long, at most 3 times in 24 hours. The
 * times are marked on the tasks before the cards go (a crash loses a reminder, never repeats one).
 */
async function remindIfLate(d: SopDeps, job: SopMomentJob, open: string[]): Promise<number> {
  const now = d.now();
  const times = (await repo.jobRemindTimes(d.db, job.id)).filter((t) => t > now - DAY_MS);
  const last = Math.max(job.dispatchedAt ?? now, ...times);
  if (now - last < sopConfig(d).remindAfterMs || times.length >= 3) return 0;
  await repo.updateJobTasks(d.db, job.id, ['open'], { remindTimes: [...times, now] });
  const plan = await repo.findPlan(d.db, job.planId);
  await remindMomentSenders(d, {
    occurrenceId: job.occurrenceId,
    senders: open,
    planName: plan?.name ?? job.planId,
    text: job.text,
  });
  return open.length;
}

// ---- cancel ----

/** A cancelled plan's moment jobs: open ones cancelled in WeCom; their open and pending tasks cancelled. */
export async function cancelMomentJobs(d: SopDeps, planId: string): Promise<number> {
  let n = 0;
  for (const status of ['creating', 'open'] as const) {
    for (const id of await repo.momentJobIds(d.db, { status, unlockedAt: d.now(), planId }, 10_000)) {
      const now = d.now();
      const job = await repo.claimMomentJob(d.db, id, status, d.holder, now, claimUntil(d, now));
      if (!job) continue;
      try {
        let momentId = job.momentId;
        if (!momentId && job.jobid) {
          const r = await d.wecom.getMomentTaskResult(job.jobid);
          momentId = r.result?.moment_id ?? null;
          if (!momentId && r.status !== 3) {
            // Not created yet in WeCom: try again next run rather than leave a live moment behind.
            await repo.settleMomentJob(d.db, job.id, d.holder, { updatedAt: now });
            continue;
          }
        }
        if (!momentId && job.status === 'creating' && job.startedAt !== null)
          momentId = await findLostMoment(d, job, await repo.jobSenders(d.db, job.id, 'pending'));
        if (momentId) await d.wecom.cancelMomentTask(momentId);
      } catch (err) {
        if (wecomErrorInfo(err).errcode !== ERR_TASK_CANCELLED) {
          await repo.settleMomentJob(d.db, job.id, d.holder, { lastError: errText(err), updatedAt: d.now() });
          continue;
        }
      }
      n += await repo.updateJobTasks(d.db, job.id, ['pending', 'open'], {
        status: 'cancelled',
        completedAt: d.now(),
        updatedAt: d.now(),
      });
      await repo.settleMomentJob(d.db, job.id, d.holder, {
        status: 'cancelled',
        completedAt: d.now(),
        updatedAt: d.now(),
      });
    }
  }
  return n;
}
