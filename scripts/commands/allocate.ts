import { decide, explainInWords, formatDistance } from '../../server/allocation';
import { allocationContext } from '../../server/allocation/cache';
import { engineCustomer } from '../../server/allocation/engine-input';
import { findCustomer } from '../../server/allocation/repo';
import { getActiveRuleSet } from '../../server/allocation/ruleset-store';
import { explainAllocation, replayAllocations } from '../../server/allocation/service';
import type { Explanation } from '../../server/allocation/types';
import { canonicalCustomerId } from '../../server/customers/ids';
import { formatTime, parseTime } from './args';
import { type CommandContext, type CommandResult, EXIT, UsageError } from './context';
import { loadValidRuleFile } from './rules';
import { renderTable } from './table';

function candidatesTable(e: Explanation): string {
  const rows = e.branches.map((b) => [
    b.code,
    b.name,
    formatDistance(b.distanceMeters),
    b.outcome === 'chosen' ? 'chosen' : `skipped: ${b.skipReason ?? ''}`,
    (b.managers ?? []).map((m) => `${m.userid} ${m.reason}`).join(', '),
  ]);
  const lines = rows.length
    ? [renderTable(['branch', 'name', 'distance', 'outcome', 'managers passed over'], rows)]
    : [];
  if (e.branchesNotListed) lines.push(`… ${e.branchesNotListed} more branches skipped`);
  if (e.fallbackCandidates?.length) {
    lines.push(
      renderTable(
        ['fallback', 'load', 'capacity', 'outcome'],
        e.fallbackCandidates.map((f) => [
          f.userid,
          f.load ?? '',
          f.capacity ?? '',
          f.outcome + (f.skipReason ? `: ${f.skipReason}` : ''),
        ]),
      ),
    );
  }
  lines.push(
    renderTable(
      ['rule', 'outcome', 'detail'],
      e.steps.map((s) => [s.rule, s.outcome, s.detail]),
    ),
  );
  return lines.join('\n\n');
}

/**
 * `allocate explain <customerId|externalUserid|allocationId>`: the stored decision in words with
 * its rule version, candidates and distances. A customer never allocated gets what the active
 * rule set would decide now (marked as such). Unknown keys are an input error.
 */
export async function allocateExplainCommand(args: { key: string }, ctx: CommandContext): Promise<CommandResult> {
  const found = await explainAllocation(ctx.db, args.key);
  if (found) {
    const a = found.allocation;
    const head = renderTable(
      ['allocation', 'customer', 'manager', 'branch', 'rule', 'rule set', 'source', 'status', 'created'],
      [
        [
          a.id,
          a.customerId ?? '',
          a.userid ?? '—',
          a.branchCode ?? '',
          a.reason,
          a.ruleVersion,
          a.source,
          a.status,
          formatTime(a.createdAt),
        ],
      ],
    );
    return {
      exitCode: EXIT.ok,
      json: { stored: true, allocation: a, text: found.text },
      output: [head, '', found.text, '', candidatesTable(found.explanation)].join('\n'),
    };
  }
  const customer = await findCustomer(ctx.db, canonicalCustomerId(args.key));
  if (!customer) throw new UsageError(`no allocation, customer or external contact "${args.key}"`);
  const { index } = await allocationContext(ctx.db, ctx.now());
  const ruleSet = await getActiveRuleSet(ctx.db);
  const d = decide(engineCustomer(customer), index, ruleSet);
  const text = explainInWords(d);
  return {
    exitCode: EXIT.ok,
    json: {
      stored: false,
      customerId: customer.id,
      decision: {
        userid: d.userid,
        branchCode: d.branchCode,
        reason: d.reason,
        ruleSetVersion: d.ruleSetVersion,
        distanceMeters: d.distanceMeters ?? null,
      },
      text,
    },
    output: [
      `customer ${customer.id} has no allocation yet; under the active rule set ${ruleSet.version} it would now be:`,
      '',
      text,
      '',
      candidatesTable(d.explanation),
    ].join('\n'),
  };
}

/**
 * `allocate replay --since <time> [--rules <file>]`: re-decides allocations made since a time
 * under a rule set (default: the active one) and shows what would move. Writes nothing.
 */
export async function allocateReplayCommand(
  args: { since: string; rules?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const since = parseTime(args.since, ctx.now(), 'since');
  const ruleSet = args.rules ? (await loadValidRuleFile(ctx, args.rules)).ruleSet : await getActiveRuleSet(ctx.db);
  const result = await replayAllocations(ctx.db, since, ruleSet);
  const lines = [
    `replayed ${result.considered} allocations since ${formatTime(since)} under rule set ${result.ruleSetVersion} (nothing written): ${result.moved.length} would move.`,
  ];
  if (result.moved.length) {
    lines.push(
      '',
      renderTable(
        ['allocation', 'customer', 'from', 'to', 'branch', 'why'],
        result.moved
          .slice(0, 100)
          .map((m) => [
            m.allocationId,
            m.customerId ?? '',
            `${m.fromUserid ?? '—'} (${m.fromReason})`,
            `${m.toUserid ?? '—'} (${m.toReason})`,
            m.toBranchCode ?? '',
            m.summary,
          ]),
      ),
    );
    if (result.moved.length > 100) lines.push(`… ${result.moved.length - 100} more (see --json)`);
  }
  return { exitCode: EXIT.ok, json: result, output: lines.join('\n') };
}
