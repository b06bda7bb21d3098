import { Argument, type Command, Option } from 'commander';
import type { Runner } from '../ops';
import { allocateExplainCommand, allocateReplayCommand } from './allocate';
import { importCommand } from './import';
import { inboxListCommand, inboxReplayCommand, inboxStatsCommand } from './inbox';
import { reportCommand } from './report';
import {
  rulesApplyCommand,
  rulesDryRunCommand,
  rulesHistoryCommand,
  rulesRollbackCommand,
  rulesValidateCommand,
} from './rules';

/** Every subcommand and its options; actions hand parsed arguments to the command functions. */
export function registerCommands(program: Command, run: Runner): void {
  program
    .command('import')
    .description('import branches, managers or customers from a CSV file (UTF-8 or GBK, header row required)')
    .addArgument(new Argument('<kind>', 'what the file holds').choices(['branches', 'managers', 'customers']))
    .argument('<file>', 'CSV file')
    .option('--skip-invalid', 'with --apply: import the valid rows of a file that has bad rows')
    .option('--show-issues <n>', 'how many issues to list in table output', '50')
    .addHelpText(
      'after',
      `
Columns (header names, any order):
  branches   code,name,parent_code,lat,lng            optional: region_code,active
  managers   userid,name,branch_code,capacity,status  optional: role,skills,accepting
  customers  customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags
Phones are stored only as a salted hash and names masked (张*明). Unknown owner_userid is a
warning (the row is kept); unknown branches, bad coordinates, duplicates are errors.`,
    )
    .action((kind: string, file: string, opts: { skipInvalid?: boolean; showIssues: string }, cmd: Command) =>
      run(importCommand, { kind, file, skipInvalid: opts.skipInvalid, showIssues: Number(opts.showIssues) || 50 }, cmd),
    );

  const inbox = program.command('inbox').description('see and re-run failed callback events');
  inbox
    .command('stats')
    .description('events per status (exit 1 when dead or malformed events exist)')
    .action((_o: object, cmd: Command) => run(inboxStatsCommand, {}, cmd));
  inbox
    .command('list')
    .description('list events, newest first')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'pending',
        'processing',
        'done',
        'dead',
        'unhandled',
        'malformed',
      ]),
    )
    .option('--limit <n>', 'how many', '50')
    .action((opts: { status?: string; limit: string }, cmd: Command) => run(inboxListCommand, opts, cmd));
  inbox
    .command('replay')
    .description('re-queue a dead/unhandled/malformed event, or all dead events (dry run without --apply)')
    .argument('[id]', 'inbox event id')
    .option('--all-dead', 'every dead event')
    .action((id: string | undefined, opts: { allDead?: boolean }, cmd: Command) =>
      run(inboxReplayCommand, { id, allDead: opts.allDead }, cmd),
    );

  program
    .command('report')
    .description(
      'operating report: adds, churn (target ≤ 10%), activity (target ≥ 40%), allocation mix, welcome, transfers',
    )
    .option('--from <time>', 'start of the period (2026-11-01, 2026-11-01T08:00 or 30d); default 30 days before --to')
    .option('--to <time>', 'end of the period (exclusive); default now')
    .addOption(new Option('--by <group>', 'one row per branch or per manager').choices(['branch', 'manager']))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'html']).default('table'))
    .option('--out <file>', 'write the report to this file instead of stdout')
    .addHelpText('after', '\nExit 1 when the totals miss the churn or 30-day activity target.')
    .action((opts: { from?: string; to?: string; by?: string; format?: string; out?: string }, cmd: Command) =>
      run(reportCommand, opts, cmd),
    );

  const rules = program
    .command('rules')
    .description('allocation rule sets: validate, dry-run, apply, history, rollback');
  rules
    .command('validate')
    .description('check a rule-set JSON file (schema, and fallback managers / branches / skills against the database)')
    .argument('<file>', 'rule-set JSON')
    .action((file: string, _o: object, cmd: Command) => run(rulesValidateCommand, { file }, cmd));
  rules
    .command('dry-run')
    .description('what the candidate rule set would decide for each customer, against the active one (writes nothing)')
    .argument('<file>', 'candidate rule-set JSON')
    .option('--customers <csv>', 'only the customers listed in this CSV (a customer_id column)')
    .option('--all', 'every customer in the database (the default)')
    .option('--out <csv>', 'write one line per customer: active and candidate decision')
    .addHelpText('after', '\nExit 1 when the candidate leaves customers without a manager or names unknown customers.')
    .action((file: string, opts: { customers?: string; all?: boolean; out?: string }, cmd: Command) =>
      run(rulesDryRunCommand, { file, ...opts }, cmd),
    );
  rules
    .command('apply')
    .description('store and activate a rule set (with --apply); the same file again is a no-op')
    .argument('<file>', 'rule-set JSON')
    .action((file: string, _o: object, cmd: Command) => run(rulesApplyCommand, { file }, cmd));
  rules
    .command('history')
    .description('stored rule-set versions, newest first')
    .action((_o: object, cmd: Command) => run(rulesHistoryCommand, {}, cmd));
  rules
    .command('rollback')
    .description('re-activate a stored version (default: the one active before the current one)')
    .argument('[version]', 'version to activate')
    .action((version: string | undefined, _o: object, cmd: Command) => run(rulesRollbackCommand, { version }, cmd));

  const allocate = program.command('allocate').description('explain and replay allocation decisions');
  allocate
    .command('explain')
    .description(
      'the decision for a customer, external contact or allocation: rule version, candidates and distances, in words',
    )
    .argument('<key>', 'customerId, externalUserid or allocation id')
    .action((key: string, _o: object, cmd: Command) => run(allocateExplainCommand, { key }, cmd));
  allocate
    .command('replay')
    .description('re-decide allocations made since a time under a rule set and show what would move (writes nothing)')
    .requiredOption('--since <time>', 'start (2026-11-01, 2026-11-01T08:00, or 7d)')
    .option('--rules <file>', 'rule-set JSON to replay under (default: the active rule set)')
    .action((opts: { since: string; rules?: string }, cmd: Command) => run(allocateReplayCommand, opts, cmd));
}
