import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import type { SopPlan, SopTask } from '../db/entities';
import { type PlanFile, type PlanProblem, parsePlanFile, planTemplates } from './plan-file';
import * as repo from './repo';

/**
 * SOP plans as operators handle them: validate against the database, apply a new version (with
 * the diff against the running one), pause / resume / cancel, and the status of the latest
 * occurrence per branch and sender. Delivery (occurrences → WeCom tasks) is in delivery.ts.
 */

const CHANNEL_OF = { group: 'group', chat: 'chat', moments: 'moments' } as const;

/** Problems only the database can find: scripts, branches, regions and corp tags that don't fit. */
export async function checkPlanReferences(db: DataSource, plan: PlanFile, now: number): Promise<PlanProblem[]> {
  const problems: PlanProblem[] = [];
  const refs = planTemplates(plan);
  const templates = await repo.templatesByIds(
    db,
    refs.map((r) => r.id),
  );
  for (const r of refs) {
    const t = templates.get(r.id);
    if (!t) problems.push({ path: r.path, message: `no script ${r.id}` });
    else if (t.status !== 'approved')
      problems.push({ path: r.path, message: `script ${r.id} is ${t.status}, not approved` });
    else if (t.ownerUserid !== null) problems.push({ path: r.path, message: `script ${r.id} is a personal script` });
    else if (t.channel !== CHANNEL_OF[plan.channel])
      problems.push({
        path: r.path,
        message: `script ${r.id} is for channel ${t.channel}, the plan sends to ${plan.channel}`,
      });
    else if (t.expiresAt !== null && t.expiresAt <= now)
      problems.push({ path: r.path, message: `the approval of script ${r.id} has expired` });
  }
  const a = plan.audience.groups ?? plan.audience.customers ?? {};
  const branches = 'branches' in a ? (a.branches ?? []) : [];
  const known = await repo.existingBranches(db, branches);
  branches.forEach((b, i) => {
    if (!known.has(b))
      problems.push({
        path: `audience.${plan.audience.groups ? 'groups' : 'customers'}.branches[${i}]`,
        message: `no branch ${b}`,
      });
  });
  const regions = plan.audience.groups?.regions ?? [];
  const knownRegions = await repo.existingRegions(db, regions);
  regions.forEach((r, i) => {
    if (!knownRegions.has(r))
      problems.push({ path: `audience.groups.regions[${i}]`, message: `no branch is in region ${r}` });
  });
  const tags = plan.audience.customers?.corpTags ?? [];
  const knownTags = await repo.corpTagIds(db, tags);
  tags.forEach((t, i) => {
    if (!knownTags.has(t))
      problems.push({ path: `audience.customers.corpTags[${i}]`, message: `no corp tag named ${t}` });
  });
  return problems;
}

/**
 * What a valid plan will cost that the author may not expect (printed by validate and apply, not
 * blocking): a moments script naming the manager makes every manager's post its own WeCom task, and
 * WeCom creates 10 a minute (10,000 managers ≈ 17 h); {{网点}} splits by branch only.
 */
export async function planNotes(db: DataSource, plan: PlanFile): Promise<PlanProblem[]> {
  if (plan.channel !== 'moments') return [];
  const refs = planTemplates(plan);
  const templates = await repo.templatesByIds(
    db,
    refs.map((r) => r.id),
  );
  return refs
    .filter((r) => /\{\{\s*客户经理\s*\}\}/.test(templates.get(r.id)?.content ?? ''))
    .map((r) => ({
      path: r.path,
      message:
        `script ${r.id} names the manager ({{客户经理}}): each manager's post becomes its own WeCom task, ` +
        'and WeCom creates 10 a minute (10,000 managers ≈ 17 h); without it one task carries up to SOP_MOMENT_SENDERS_PER_TASK managers',
    }));
}

/** Parses and checks a plan; throws PlanFileError-like problems as one list. */
export async function validatePlan(db: DataSource, input: unknown, now: number) {
  const plan = parsePlanFile(input);
  return { plan, problems: await checkPlanReferences(db, plan, now) };
}

export interface DiffLine {
  path: string;
  from: unknown;
  to: unknown;
}

/** Field-level differences between two JSON values (paths like `audience.groups.branches`). */
export function diffPlans(a: unknown, b: unknown, path = ''): DiffLine[] {
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const out: DiffLine[] = [];
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) {
      out.push(
        ...diffPlans((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
      );
    }
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: path || '(root)', from: a, to: b }];
}

export interface ApplyResult {
  outcome: 'created' | 'updated' | 'unchanged';
  version: number;
  diff: DiffLine[];
}

/** A new version when the plan differs from the running one; audited; dry run unless `apply`. */
export async function applyPlan(
  db: DataSource,
  plan: PlanFile,
  o: { actor: string; now: number; apply: boolean },
): Promise<ApplyResult> {
  const current = await repo.findPlan(db, plan.id);
  const running = current ? await repo.findVersion(db, plan.id, current.version) : null;
  const diff = diffPlans(running?.body ?? {}, plan);
  if (current && !diff.length) return { outcome: 'unchanged', version: current.version, diff };
  const version = (current?.version ?? 0) + 1;
  if (o.apply) {
    await db.transaction(async (tx) => {
      // The primary key (plan, version) makes two concurrent applies of one plan fail one of them.
      await repo.insertPlanVersion(
        tx,
        {
          id: plan.id,
          name: plan.name,
          channel: plan.channel,
          status: current?.status ?? 'active',
          version,
          createdBy: o.actor.slice(0, 64),
          createdAt: o.now,
          updatedAt: o.now,
        },
        { planId: plan.id, version, body: plan, createdBy: o.actor.slice(0, 64), createdAt: o.now },
      );
      await audit(tx, {
        actor: o.actor,
        action: current ? 'sop.update' : 'sop.create',
        subject: `sop:${plan.id}`,
        detail: { version, diff },
      });
    });
  }
  return { outcome: current ? 'updated' : 'created', version, diff };
}

export async function setStatus(
  db: DataSource,
  id: string,
  status: SopPlan['status'],
  o: { actor: string; now: number; apply: boolean },
): Promise<{ plan: SopPlan; from: SopPlan['status'] }> {
  const plan = await repo.findPlan(db, id);
  if (!plan) throw new SopError(`no SOP plan ${id}`);
  if (plan.status === 'cancelled' && status !== 'cancelled')
    throw new SopError(`plan ${id} is cancelled; apply it under a new id to run it again`);
  const from = plan.status;
  if (o.apply && from !== status) {
    await db.transaction(async (tx) => {
      await repo.setPlanStatus(tx, id, status, o.now);
      await audit(tx, { actor: o.actor, action: `sop.${verb(status)}`, subject: `sop:${id}`, detail: { from } });
    });
  }
  return { plan: { ...plan, status: o.apply ? status : plan.status }, from };
}

const verb = (s: SopPlan['status']) => (s === 'active' ? 'resume' : s === 'paused' ? 'pause' : 'cancel');

/** Input errors of SOP commands (unknown plan, cancelled plan …): exit code 2 in the CLI. */
export class SopError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SopError';
  }
}

export interface StatusRow {
  branch: string;
  sender: string;
  tasks: number;
  targets: number;
  sent: number;
  notSent: number;
  overCap: number;
  notFriend: number;
  senderConfirmed: number;
  open: number;
}

/** Per branch and sender, for one occurrence (default: the plan's latest). */
export async function planStatus(db: DataSource, id: string, occurrenceId?: number) {
  const plan = await repo.findPlan(db, id);
  if (!plan) throw new SopError(`no SOP plan ${id}`);
  const occurrence = occurrenceId ? await repo.findOccurrence(db, occurrenceId) : await repo.latestOccurrence(db, id);
  if (occurrence && occurrence.planId !== id) throw new SopError(`occurrence ${occurrenceId} is not of plan ${id}`);
  const tasks: SopTask[] = occurrence ? await repo.tasksOf(db, { occurrenceId: occurrence.id }) : [];
  const rows = new Map<string, StatusRow>();
  for (const t of tasks) {
    const key = `${t.branchCode ?? ''}|${t.senderUserid}`;
    const r =
      rows.get(key) ??
      ({
        branch: t.branchCode ?? '',
        sender: t.senderUserid,
        tasks: 0,
        targets: 0,
        sent: 0,
        notSent: 0,
        overCap: 0,
        notFriend: 0,
        senderConfirmed: 0,
        open: 0,
      } satisfies StatusRow);
    r.tasks++;
    r.targets += t.targets;
    r.sent += t.sent;
    r.overCap += t.capped;
    r.notFriend += t.notFriend;
    r.notSent += Math.max(0, t.targets - t.sent - t.capped - t.notFriend);
    if (t.senderSent) r.senderConfirmed++;
    if (t.status === 'open' || t.status === 'pending') r.open++;
    rows.set(key, r);
  }
  const list = [...rows.values()].sort((a, b) => a.branch.localeCompare(b.branch) || a.sender.localeCompare(b.sender));
  const totals = list.reduce(
    (s, r) => ({
      tasks: s.tasks + r.tasks,
      targets: s.targets + r.targets,
      sent: s.sent + r.sent,
      notSent: s.notSent + r.notSent,
      overCap: s.overCap + r.overCap,
      notFriend: s.notFriend + r.notFriend,
    }),
    { tasks: 0, targets: 0, sent: 0, notSent: 0, overCap: 0, notFriend: 0 },
  );
  const jobs = occurrence ? await repo.momentJobsOfOccurrence(db, occurrence.id) : [];
  const byStatus: Record<string, number> = {};
  for (const j of jobs) byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
  const momentJobs = {
    total: jobs.length,
    byStatus,
    senders: jobs.reduce((n, j) => n + j.senders, 0),
    published: list.reduce((n, r) => n + r.senderConfirmed, 0),
  };
  return { plan, occurrence, rows: list, totals, momentJobs };
}
