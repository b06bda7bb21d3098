import { pollTransferResults, type ReassignReport, reassignCustomers } from '../../server/contacts/reassign';
import { countTransfersInStatus } from '../../server/contacts/repo';
import type { WecomApi } from '../../server/wecom/api-types';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import type { Progress } from './progress';
import { renderTable } from './table';

export interface ReassignArgs {
  from?: string;
  to?: string;
  auto?: boolean;
  poll?: boolean;
}

// 'skipped' = already in transfer from an earlier run: re-running is safe and asks nothing twice.
const GOOD = new Set(['waiting', 'success', 'requested', 'skipped']);

/** Counts every customer sent to WeCom, so the bar moves batch by batch (≤ 100 per call). */
function counting(api: WecomApi, bar: Progress): WecomApi {
  let done = 0;
  const tick = (n: number) => {
    done += n;
    bar.update(done, { rows: done });
  };
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'transferCustomer' && prop !== 'resignedTransferCustomer') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (req: { external_userid: string[] }) => {
        try {
          return await (value as (r: unknown) => Promise<unknown>).call(target, req);
        } finally {
          tick(req.external_userid.length);
        }
      };
    },
  });
}

function wecomOf(ctx: CommandContext): Promise<WecomApi> {
  if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
  return ctx.wecom();
}

/**
 * `reassign --from <userid> (--to <userid> | --auto) [--apply]`: hand a leaving manager's customers
 * to others, on-job or resigned transfer by the manager's status, in batches of ≤ 100.
 * `reassign --poll [--apply]`: ask WeCom for the results of waiting transfers and record them.
 * Exit 1 when customers are refused, over the transfer limit, without a takeover, or failed.
 */
export async function reassignCommand(args: ReassignArgs, ctx: CommandContext): Promise<CommandResult> {
  if (args.poll) {
    if (args.from || args.to || args.auto) throw new UsageError('--poll takes no --from/--to/--auto');
    return poll(ctx);
  }
  if (!args.from) throw new UsageError('--from <userid> is required');
  if (Boolean(args.to) === Boolean(args.auto)) throw new UsageError('give exactly one of --to <userid> or --auto');
  const wecom = await wecomOf(ctx);
  const base = { from: args.from, to: args.to, actor: ctx.operator, now: ctx.now() };
  const plan = await reassignCustomers(ctx.db, wecom, { ...base, apply: false });
  let report: ReassignReport = plan;
  if (ctx.apply) {
    const sendable = plan.items.filter((i) => i.takeover && !i.skip).length;
    const bar = ctx.progress('transfer', Math.max(sendable, 1), 'customers');
    try {
      report = await reassignCustomers(ctx.db, counting(wecom, bar), { ...base, apply: true });
    } finally {
      bar.stop();
    }
  }
  const counts = report.counts;
  const problems = Object.entries(counts)
    .filter(([k]) => !GOOD.has(k))
    .reduce((s, [, n]) => s + n, 0);
  const lines = [
    modeLine(ctx),
    `${report.total} customers of ${report.from}, ${report.kind === 'resigned' ? 'resigned (离职继承)' : 'on-job (在职继承)'} transfer${args.to ? ` to ${args.to}` : ', takeovers chosen by the allocation engine'}`,
  ];
  if (Object.keys(report.byTakeover).length) {
    lines.push(
      '',
      renderTable(
        ['takeover', 'customers'],
        Object.entries(report.byTakeover)
          .sort((a, b) => b[1] - a[1])
          .map(([u, n]) => [u, n]),
      ),
    );
  }
  if (Object.keys(counts).length) {
    lines.push(
      '',
      renderTable(
        ['result', 'customers'],
        Object.entries(counts).map(([k, n]) => [k, n]),
      ),
    );
  }
  const refused = (report.outcomes ?? []).filter((o) => !GOOD.has(o.status)).slice(0, 20);
  if (refused.length) {
    lines.push(
      '',
      renderTable(
        ['customer', 'status', 'errcode'],
        refused.map((o) => [o.externalUserid, o.status, o.errcode ?? '']),
      ),
    );
  }
  lines.push(
    '',
    ctx.apply
      ? `transfers requested and recorded; run \`reassign --poll --apply\` later to record the customers' answers.`
      : 'nothing sent: add --apply to request these transfers.',
  );
  if (counts.limit) lines.push(`${counts.limit} customers are over WeCom's limit of 2 on-job transfers in 90 days.`);
  if (counts.no_takeover) lines.push(`${counts.no_takeover} customers have no eligible takeover manager.`);
  return {
    exitCode: problems ? EXIT.findings : EXIT.ok,
    json: { ...report, items: report.items.slice(0, 1000), itemsNotListed: Math.max(0, report.items.length - 1000) },
    output: lines.join('\n'),
  };
}

async function poll(ctx: CommandContext): Promise<CommandResult> {
  const waiting = await countTransfersInStatus(ctx.db, ['waiting', 'requested']);
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      json: { applied: false, waiting },
      output: `${modeLine(ctx)}\n${waiting} transfers wait for the customer's answer; add --apply to ask WeCom and record the results.`,
    };
  }
  const res = await pollTransferResults(ctx.db, await wecomOf(ctx), { actor: ctx.operator, now: ctx.now() });
  const bad = (res.byStatus.refused ?? 0) + (res.byStatus.failed ?? 0);
  return {
    exitCode: bad ? EXIT.findings : EXIT.ok,
    json: { applied: true, ...res },
    output: [
      modeLine(ctx),
      `checked ${res.checked} waiting transfers, ${res.changed} changed:`,
      renderTable(
        ['status', 'transfers'],
        Object.entries(res.byStatus).map(([k, n]) => [k, n]),
      ),
    ].join('\n'),
  };
}
