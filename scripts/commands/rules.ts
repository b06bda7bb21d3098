import { readFileSync } from 'node:fs';
import {
  allCustomers,
  countCustomers,
  customersById,
  type DecisionPair,
  dryRunRuleSet,
} from '../../server/allocation/dry-run';
import { parseRuleSet, type RuleSet, RuleSetError } from '../../server/allocation/rule-set';
import {
  activateRuleSet,
  checkRuleSetAgainstOrg,
  findRuleSetRow,
  getActiveRuleSet,
  listRuleSets,
  type RuleSetCheck,
  rollback,
  saveRuleSet,
} from '../../server/allocation/ruleset-store';
import { audit } from '../../server/audit/audit';
import type { Customer } from '../../server/db/entities';
import { CsvInputError, inspectFile, readCsv } from '../../server/imports/csv-source';
import { openCsvFile } from '../../server/lib/csv';
import { formatTime } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

const RULE_ZH: Record<string, string> = {
  owner: 'owner 管户',
  nearest_branch: 'nearest 就近网点',
  fallback: 'fallback 兜底',
  added_manager: 'added 已添加',
  none: 'none 未分配',
};

function readRuleFile(file: string): { text: string; doc: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\ufeff/, '');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return { text, doc: JSON.parse(text) };
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

type Check = RuleSetCheck;

function parseOrReport(doc: unknown): { ruleSet?: RuleSet; checks: Check[] } {
  try {
    return { ruleSet: parseRuleSet(doc), checks: [] };
  } catch (err) {
    if (err instanceof RuleSetError) {
      return {
        checks: err.issues.map((i) => ({ level: 'error' as const, path: i.path || '(document)', message: i.message })),
      };
    }
    throw err;
  }
}

/** `rules validate <file>`: schema and org checks; exit 1 on errors, 0 with warnings only. */
export async function rulesValidateCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { doc } = readRuleFile(args.file);
  const parsed = parseOrReport(doc);
  const checks = parsed.ruleSet ? await checkRuleSetAgainstOrg(ctx.db, parsed.ruleSet) : parsed.checks;
  const errors = checks.filter((c) => c.level === 'error').length;
  const lines = checks.length
    ? [
        renderTable(
          ['level', 'path', 'problem'],
          checks.map((c) => [c.level, c.path, c.message]),
        ),
      ]
    : [];
  lines.push(
    errors
      ? `${args.file}: ${errors} error(s); this rule set cannot be applied.`
      : `${args.file}: valid rule set version ${parsed.ruleSet!.version}${checks.length ? ' (see warnings)' : ''}.`,
  );
  return {
    exitCode: errors ? EXIT.findings : EXIT.ok,
    json: { valid: errors === 0, version: parsed.ruleSet?.version ?? null, issues: checks },
    output: lines.join('\n'),
  };
}

export async function loadValidRuleFile(
  ctx: CommandContext,
  file: string,
): Promise<{ ruleSet: RuleSet; doc: unknown }> {
  const { doc } = readRuleFile(file);
  const parsed = parseOrReport(doc);
  const checks = parsed.ruleSet ? await checkRuleSetAgainstOrg(ctx.db, parsed.ruleSet) : parsed.checks;
  const errors = checks.filter((c) => c.level === 'error');
  if (errors.length) {
    throw new UsageError(
      `${file} is not a valid rule set:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}\n(run \`rules validate\`)`,
    );
  }
  return { ruleSet: parsed.ruleSet!, doc };
}

async function idsFromCsv(file: string): Promise<string[]> {
  try {
    const facts = await inspectFile(file);
    const ids: string[] = [];
    let col = -1;
    for await (const rec of readCsv(file, facts.encoding)) {
      if (col < 0) {
        col = rec.fields.findIndex((f) => f.trim().toLowerCase() === 'customer_id');
        if (col < 0) throw new UsageError(`${file}: the header needs a customer_id column`);
        continue;
      }
      if (rec.fields[col]) ids.push(rec.fields[col]);
    }
    return [...new Set(ids)];
  } catch (err) {
    if (err instanceof CsvInputError) throw new UsageError(err.message);
    throw err;
  }
}

export interface RulesDryRunArgs {
  file: string;
  customers?: string;
  all?: boolean;
  out?: string;
}

/**
 * `rules dry-run <file> [--customers ids.csv | --all] [--out decisions.csv]`: every customer (or
 * the listed ones) decided under the active and the candidate rule set. Exit 1 when the candidate
 * leaves customers without a manager or names unknown customers.
 */
export async function rulesDryRunCommand(args: RulesDryRunArgs, ctx: CommandContext): Promise<CommandResult> {
  if (args.customers && args.all) throw new UsageError('give --customers <csv> or --all, not both');
  const { ruleSet: candidate } = await loadValidRuleFile(ctx, args.file);
  const active = await getActiveRuleSet(ctx.db);
  const unknown: string[] = [];
  let total: number;
  let source: AsyncIterable<Customer[]>;
  if (args.customers) {
    const ids = await idsFromCsv(args.customers);
    total = ids.length;
    source = customersById(ctx.db, ids, (id) => unknown.push(id));
  } else {
    total = await countCustomers(ctx.db);
    source = allCustomers(ctx.db);
  }
  const out = args.out
    ? openCsvFile(args.out, [
        'customer_id',
        'active_userid',
        'active_rule',
        'active_branch',
        'candidate_userid',
        'candidate_rule',
        'candidate_branch',
        'candidate_distance_m',
        'changed',
      ])
    : null;
  const samples: DecisionPair[] = [];
  const bar = ctx.progress('decide', Math.max(total, 1), 'customers');
  let result: Awaited<ReturnType<typeof dryRunRuleSet>>;
  try {
    result = await dryRunRuleSet(ctx.db, {
      active,
      candidate,
      customers: source,
      onDecision: async (p) => {
        const changed = p.active.userid !== p.candidate.userid;
        if (changed && samples.length < 20) samples.push(p);
        await out?.row([
          p.customerId,
          p.active.userid,
          p.active.reason,
          p.active.branchCode,
          p.candidate.userid,
          p.candidate.reason,
          p.candidate.branchCode,
          p.candidate.distanceMeters === undefined ? null : Math.round(p.candidate.distanceMeters),
          changed ? 1 : 0,
        ]);
      },
      onProgress: (done) => bar.update(done, { rows: done }),
    });
  } finally {
    bar.stop();
    await out?.close();
  }
  result.unknownCustomers = unknown;

  const rules = ['owner', 'nearest_branch', 'fallback', 'added_manager', 'none'];
  const lines = [
    `candidate ${candidate.version} vs active ${active.version}: ${result.customers} customers decided (nothing written)`,
    '',
    renderTable(
      ['rule', `active ${active.version}`, `candidate ${candidate.version}`],
      rules
        .filter((r) => result.byRule.active[r] || result.byRule.candidate[r])
        .map((r) => [RULE_ZH[r] ?? r, result.byRule.active[r] ?? 0, result.byRule.candidate[r] ?? 0]),
    ),
    '',
    'per branch (customers assigned):',
    renderTable(
      ['branch', 'active', 'candidate', 'Δ'],
      result.byBranch.map((b) => [b.code, b.active, b.candidate, b.candidate - b.active]),
    ),
    '',
    'per manager (load = active follows today):',
    renderTable(
      ['manager', 'branch', 'capacity', 'load now', 'after active', 'after candidate'],
      result.managers
        .slice(0, 50)
        .map((m) => [
          `${m.name} (${m.userid})`,
          m.branchCode,
          m.capacity,
          m.loadBefore,
          m.loadBefore + m.assignedActive,
          m.loadBefore + m.assignedCandidate,
        ]),
    ),
  ];
  if (result.managers.length > 50) lines.push(`… ${result.managers.length - 50} more managers (see --json)`);
  lines.push('', `${result.changed} customers would get a different manager than under the active rule set.`);
  if (samples.length) {
    lines.push(
      renderTable(
        ['customer', 'active', 'candidate', 'why (candidate)'],
        samples.map((s) => [
          s.customerId,
          `${s.active.userid ?? '—'} (${s.active.reason})`,
          `${s.candidate.userid ?? '—'} (${s.candidate.reason})`,
          s.candidate.explanation.summaryZh,
        ]),
      ),
    );
  }
  if (result.unallocated) lines.push(`${result.unallocated} customers would get NO manager under the candidate.`);
  if (unknown.length)
    lines.push(`${unknown.length} customer ids are not in the database: ${unknown.slice(0, 10).join(', ')}`);
  if (args.out) lines.push(`per-customer decisions written to ${args.out}`);
  return {
    exitCode: result.unallocated || unknown.length ? EXIT.findings : EXIT.ok,
    json: {
      ...result,
      samples: samples.map((s) => ({
        customerId: s.customerId,
        active: { userid: s.active.userid, reason: s.active.reason },
        candidate: { userid: s.candidate.userid, reason: s.candidate.reason, summary: s.candidate.explanation.summary },
      })),
      out: args.out ?? null,
    },
    output: lines.join('\n'),
  };
}

/**
 * `rules apply <file>`: stores the version and activates it (with --apply). Applying the same
 * file again is a no-op; a known version with a different body is refused (bump the version).
 */
export async function rulesApplyCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { ruleSet, doc } = await loadValidRuleFile(ctx, args.file);
  const existing = await findRuleSetRow(ctx.db, ruleSet.version);
  if (existing && JSON.stringify(JSON.parse(existing.body)) !== JSON.stringify(doc)) {
    throw new UsageError(
      `version ${ruleSet.version} already exists with a different body: give the new rules a new version`,
    );
  }
  const active = await getActiveRuleSet(ctx.db);
  const already = existing?.active === true;
  const action: 'none' | 'activate' | 'save+activate' = already ? 'none' : existing ? 'activate' : 'save+activate';
  if (ctx.apply && action !== 'none') {
    if (action === 'save+activate') await saveRuleSet(ctx.db, doc, ctx.operator, ctx.now());
    await activateRuleSet(ctx.db, ruleSet.version, ctx.operator, ctx.now());
  }
  const what = action === 'activate' ? 'activate the stored' : 'save and activate';
  const text =
    action === 'none'
      ? `rule set ${ruleSet.version} is already active: nothing to do.`
      : ctx.apply
        ? `${what} rule set ${ruleSet.version} (previously active: ${active.version}): done, audit rows recorded.`
        : `would ${what} rule set ${ruleSet.version} (active now: ${active.version}). Run \`rules dry-run\` first to see its effect.`;
  return {
    exitCode: EXIT.ok,
    json: { applied: ctx.apply && action !== 'none', action, version: ruleSet.version, previous: active.version },
    output: [modeLine(ctx), text].join('\n'),
  };
}

/** `rules history`: every stored version, newest first. */
export async function rulesHistoryCommand(_args: object, ctx: CommandContext): Promise<CommandResult> {
  const list = await listRuleSets(ctx.db);
  return {
    exitCode: EXIT.ok,
    json: list,
    output: list.length
      ? renderTable(
          ['version', 'active', 'author', 'created', 'activated', 'description'],
          list.map((r) => [
            r.version,
            r.active ? '●' : '',
            r.author,
            formatTime(r.createdAt),
            formatTime(r.activatedAt),
            r.description,
          ]),
        )
      : 'no rule sets stored: the built-in default applies.',
  };
}

/** `rules rollback [version]`: re-activates a stored version (default: the one active before the current). */
export async function rulesRollbackCommand(args: { version?: string }, ctx: CommandContext): Promise<CommandResult> {
  const list = await listRuleSets(ctx.db);
  const current = list.find((r) => r.active);
  const target = args.version
    ? list.find((r) => r.version === args.version)
    : list
        .filter((r) => !r.active && r.activatedAt !== null)
        .sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0];
  if (!target) {
    throw new UsageError(
      args.version ? `no rule set version ${args.version}` : 'no previously active rule set to roll back to',
    );
  }
  if (target.active) {
    return {
      exitCode: EXIT.ok,
      json: { applied: false, version: target.version, reason: 'already active' },
      output: `rule set ${target.version} is already active: nothing to do.`,
    };
  }
  if (ctx.apply) {
    if (args.version) {
      await activateRuleSet(ctx.db, target.version, ctx.operator, ctx.now());
      await audit(ctx.db, { actor: ctx.operator, action: 'ruleset.rollback', subject: `ruleset:${target.version}` });
    } else {
      await rollback(ctx.db, ctx.operator, ctx.now());
    }
  }
  return {
    exitCode: EXIT.ok,
    json: { applied: ctx.apply, version: target.version, previous: current?.version ?? null },
    output: [
      modeLine(ctx),
      `${ctx.apply ? 'rolled back' : 'would roll back'} from ${current?.version ?? 'default'} to ${target.version}.`,
    ].join('\n'),
  };
}
