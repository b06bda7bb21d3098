import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { DEFAULT_SOP_CONFIG } from '../../server/config';
import { cancelPlanTasks, dueOccurrences, runPlanNow, type SopDeps } from '../../server/sop/delivery';
import { type PlanFile, PlanFileError, type PlanProblem, parsePlanFile } from '../../server/sop/plan-file';
import { planOccurrence } from '../../server/sop/planner';
import * as repo from '../../server/sop/repo';
import { inQuietHours } from '../../server/sop/schedule';
import { applyPlan, checkPlanReferences, planNotes, planStatus, SopError, setStatus } from '../../server/sop/service';
import { formatTime } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

/** `sop validate|apply|list|pause|resume|cancel|run|status` (server/sop). */

function readPlan(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`cannot parse ${file}: ${(err as Error).message}`);
  }
}

async function checked(
  ctx: CommandContext,
  file: string,
): Promise<{ plan: PlanFile | null; problems: PlanProblem[]; notes: PlanProblem[] }> {
  try {
    const plan = parsePlanFile(readPlan(file));
    return {
      plan,
      problems: await checkPlanReferences(ctx.db, plan, ctx.now()),
      notes: await planNotes(ctx.db, plan),
    };
  } catch (err) {
    if (err instanceof PlanFileError) return { plan: null, problems: err.problems, notes: [] };
    throw err;
  }
}

const notesText = (notes: PlanProblem[]) => notes.map((n) => `\nnote: ${n.path}: ${n.message}`).join('');

const problemsText = (file: string, problems: PlanProblem[]) =>
  `${file}: ${problems.length} problem(s)\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`;

const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SopError) throw new UsageError(err.message);
    throw err;
  }
};

export async function sopValidateCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { plan, problems, notes } = await checked(ctx, args.file);
  return {
    exitCode: problems.length ? EXIT.findings : EXIT.ok,
    json: { valid: problems.length === 0, id: plan?.id ?? null, problems, notes },
    output:
      (problems.length ? problemsText(args.file, problems) : `${args.file}: valid SOP plan ${plan!.id}`) +
      notesText(notes),
  };
}

export async function sopApplyCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { plan, problems, notes } = await checked(ctx, args.file);
  if (!plan || problems.length) throw new UsageError(`invalid SOP plan\n${problemsText(args.file, problems)}`);
  const r = await applyPlan(ctx.db, plan, { actor: `ops:${ctx.operator}`, now: ctx.now(), apply: ctx.apply });
  const head =
    r.outcome === 'unchanged'
      ? `plan ${plan.id} is unchanged (running version ${r.version})`
      : `${r.outcome === 'created' ? 'create' : 'update'} plan ${plan.id} (${plan.name}) → version ${r.version}`;
  const diff =
    r.outcome === 'updated' && r.diff.length
      ? `\n\ndiff against the running version:\n${r.diff.map((l) => `  ${l.path}: ${JSON.stringify(l.from)} → ${JSON.stringify(l.to)}`).join('\n')}`
      : '';
  return {
    exitCode: EXIT.ok,
    json: { apply: ctx.apply, ...r, id: plan.id, notes },
    output: `${modeLine(ctx)}\n${head}${diff}${notesText(notes)}`,
  };
}

export async function sopListCommand(_args: object, ctx: CommandContext): Promise<CommandResult> {
  const plans = await repo.listPlans(ctx.db);
  const rows = await Promise.all(
    plans.map(async (p) => ({ plan: p, last: await repo.latestOccurrence(ctx.db, p.id) })),
  );
  return {
    exitCode: EXIT.ok,
    json: rows.map((r) => ({ ...r.plan, latestOccurrence: r.last })),
    output: renderTable(
      ['id', 'name', 'channel', 'status', 'version', 'latest occurrence', 'state', 'targets', 'tasks'],
      rows.map((r) => [
        r.plan.id,
        r.plan.name,
        r.plan.channel,
        r.plan.status,
        r.plan.version,
        r.last?.occurrenceKey ?? '',
        r.last?.status ?? '',
        r.last?.targets ?? '',
        r.last?.tasks ?? '',
      ]),
    ),
  };
}

function deps(ctx: CommandContext, wecom: SopDeps['wecom'], planId?: string, claimMs?: number): SopDeps {
  return {
    db: ctx.db,
    wecom,
    now: ctx.now,
    config: ctx.config.sop,
    agentId: ctx.config.wecom.agentId,
    publicBaseUrl: ctx.config.publicBaseUrl,
    holder: `ops:${ctx.operator}:${randomUUID().slice(0, 8)}`.slice(0, 64),
    planId,
    claimMs,
  };
}

export function sopStatusChange(status: 'active' | 'paused' | 'cancelled') {
  return async (args: { id: string }, ctx: CommandContext): Promise<CommandResult> =>
    wrap(async () => {
      const r = await setStatus(ctx.db, args.id, status, {
        actor: `ops:${ctx.operator}`,
        now: ctx.now(),
        apply: ctx.apply,
      });
      let cancelledTasks = 0;
      if (status === 'cancelled' && ctx.apply) {
        if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
        cancelledTasks = await cancelPlanTasks(deps(ctx, await ctx.wecom()), args.id);
      }
      const open =
        status === 'cancelled' && !ctx.apply
          ? (await repo.tasksOf(ctx.db, { planId: args.id })).filter(
              (t) => t.status === 'open' || t.status === 'pending',
            ).length
          : 0;
      const verb = status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'cancel';
      return {
        exitCode: EXIT.ok,
        json: { apply: ctx.apply, id: args.id, from: r.from, to: status, cancelledTasks },
        output:
          `${modeLine(ctx)}\n${verb} plan ${args.id}: ${r.from} → ${status}` +
          (status === 'cancelled'
            ? ctx.apply
              ? `; ${cancelledTasks} open or pending task(s) cancelled`
              : `; ${open} open or pending task(s) would be cancelled`
            : ''),
      };
    });
}

export async function sopRunCommand(
  args: { id: string; leaseSeconds?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  return wrap(async () => {
    const leaseSeconds = Number(args.leaseSeconds ?? 120);
    if (!Number.isInteger(leaseSeconds) || leaseSeconds < 5 || leaseSeconds > 3600)
      throw new UsageError('--lease-seconds must be a whole number, 5–3600');
    const plan = await repo.findPlan(ctx.db, args.id);
    if (!plan) throw new SopError(`no SOP plan ${args.id}`);
    if (plan.status !== 'active') throw new SopError(`plan ${args.id} is ${plan.status}; resume it first`);
    const version = await repo.findVersion(ctx.db, plan.id, plan.version);
    const body = version?.body as PlanFile;
    const due = dueOccurrences(body, ctx.now());
    if (!due.length) throw new SopError(`plan ${args.id} has no tick yet`);
    if (!ctx.apply) {
      const lines = [modeLine(ctx)];
      const json = [];
      for (const x of due) {
        const existing = await repo.occurrenceForKey(ctx.db, plan.id, x.key);
        if (existing) {
          lines.push(
            `occurrence ${x.key}: exists (${existing.status}, ${existing.targets} targets, ${existing.tasks} tasks) — running again changes nothing`,
          );
          json.push({ key: x.key, exists: true, status: existing.status });
          continue;
        }
        const r = await planOccurrence(ctx.db, {
          plan: body,
          occurrence: { id: 0, planId: plan.id, occurrenceKey: x.key, scheduledAt: x.tick },
          cap: ctx.config.sop ?? DEFAULT_SOP_CONFIG,
          now: ctx.now(),
          write: false,
          addedOnDay: x.addedOnDay,
        });
        lines.push(
          `occurrence ${x.key}: would reach ${r.targets} target(s) through ${r.tasks.length} WeCom task(s); ` +
            `${r.skippedCap} over the cap, ${r.skippedDeleted} deleted the manager`,
        );
        json.push({
          key: x.key,
          exists: false,
          targets: r.targets,
          tasks: r.tasks.length,
          skippedCap: r.skippedCap,
          skippedDeleted: r.skippedDeleted,
        });
      }
      if (inQuietHours((ctx.config.sop ?? DEFAULT_SOP_CONFIG).quietHours, ctx.now()))
        lines.push('now is inside SOP_QUIET_HOURS: with --apply the tasks wait until the quiet hours end');
      return { exitCode: EXIT.ok, json: { apply: false, occurrences: json }, output: lines.join('\n') };
    }
    if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
    const r = await runPlanNow(deps(ctx, await ctx.wecom(), plan.id, leaseSeconds * 1000), plan.id);
    return {
      exitCode: EXIT.ok,
      json: { apply: true, ...r },
      output: [
        modeLine(ctx),
        ...r.occurrences.map(
          (o) =>
            `occurrence ${o.occurrenceKey}: ${o.status}, ${o.targets} target(s), ${o.tasks} task(s), ${o.skippedCap} over the cap`,
        ),
        r.quiet
          ? 'inside SOP_QUIET_HOURS: tasks wait until the quiet hours end'
          : `${r.dispatched} WeCom task(s) created now`,
      ].join('\n'),
    };
  });
}

export async function sopStatusCommand(
  args: { id: string; occurrence?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  return wrap(async () => {
    const s = await planStatus(ctx.db, args.id, args.occurrence ? Number(args.occurrence) : undefined);
    const o = s.occurrence;
    const head = o
      ? `plan ${s.plan.id} (${s.plan.status}, version ${s.plan.version}) · occurrence #${o.id} ${o.occurrenceKey}: ${o.status}` +
        ` · read ${o.scanned}, targets ${o.targets}, left out by the cap ${o.skippedCap}, deleted the manager ${o.skippedDeleted}, tasks ${o.tasks}` +
        (o.plannedAt ? ` · planned ${formatTime(o.plannedAt)}` : '')
      : `plan ${s.plan.id} (${s.plan.status}): no occurrence yet`;
    const m = s.momentJobs;
    const moments = m.total
      ? `moments: ${m.total} WeCom task(s) carrying ${m.senders} sender(s) (${Object.entries(m.byStatus)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}); published by ${m.published} sender(s)`
      : null;
    return {
      exitCode: EXIT.ok,
      json: s,
      output: [
        head,
        ...(moments ? [moments] : []),
        renderTable(
          ['branch', 'sender', 'tasks', 'open', 'confirmed', 'targets', 'sent', 'not sent', 'over cap', 'not friend'],
          [
            ...s.rows.map((r) => [
              r.branch,
              r.sender,
              r.tasks,
              r.open,
              r.senderConfirmed,
              r.targets,
              r.sent,
              r.notSent,
              r.overCap,
              r.notFriend,
            ]),
            [
              'total',
              '',
              s.totals.tasks,
              '',
              s.rows.reduce((n, r) => n + r.senderConfirmed, 0),
              s.totals.targets,
              s.totals.sent,
              s.totals.notSent,
              s.totals.overCap,
              s.totals.notFriend,
            ],
          ],
        ),
      ].join('\n'),
    };
  });
}
