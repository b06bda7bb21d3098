import { Argument, type Command, Option } from 'commander';
import type { Runner } from '../ops';
import { importCommand } from './import';
import { inboxListCommand, inboxReplayCommand, inboxStatsCommand } from './inbox';

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
}
