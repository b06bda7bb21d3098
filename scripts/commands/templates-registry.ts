import { type Command, Option } from 'commander';
import { TEMPLATE_STATUSES } from '../../server/db/entities';
import type { Runner } from '../ops';
import {
  complianceWordsImportCommand,
  templatesApproveCommand,
  templatesCheckCommand,
  templatesExportCommand,
  templatesImportCommand,
  templatesListCommand,
  templatesRejectCommand,
  templatesRetireCommand,
} from './templates';

const FILE_HELP = `
File: a JSON array of { title, body, category, stage, segments, bankTags, product, riskClass, channel,
variantGroup, variant, disclaimer, attachments }, or a CSV with those columns (UTF-8 or GBK).
stage 1–4 or empty (any); riskClass deposit|wealth|fund|insurance|loan|none (wealth, fund and
insurance need their risk disclaimer); channel chat|welcome|group|moments; variables:
{{客户称呼}} {{客户经理}} {{网点}} {{产品}}.`;

/** `templates …` and `compliance words import` (the script library, 话术库). */
export function registerTemplateCommands(program: Command, run: Runner): void {
  const templates = program
    .command('templates')
    .description('the script library (话术库): check, import, review, export');
  templates
    .command('check')
    .description(
      'check wording (sensitive words), variables and disclaimers without writing; exit 1 lists every finding',
    )
    .argument('<file>', 'JSON or CSV file of scripts')
    .addHelpText('after', FILE_HELP)
    .action((file: string, _o: object, cmd: Command) => run(templatesCheckCommand, { file }, cmd));
  templates
    .command('import')
    .description('import scripts, in review (dry run without --apply); one failing script refuses the whole file')
    .argument('<file>', 'JSON or CSV file of scripts')
    .addHelpText('after', FILE_HELP)
    .action((file: string, _o: object, cmd: Command) => run(templatesImportCommand, { file }, cmd));
  templates
    .command('approve')
    .description('approve scripts in review until a date (dry run without --apply)')
    .argument('[ids...]', 'script ids')
    .option('--all-pending', 'every script in review')
    .option('--reviewer <name>', 'who approves (recorded on the script and in the audit log)')
    .option('--expires <date>', 'last day the approval is valid (YYYY-MM-DD, bank time)')
    .option('--comment <text>', 'review comment')
    .action(
      (
        ids: string[],
        opts: { allPending?: boolean; reviewer?: string; expires?: string; comment?: string },
        cmd: Command,
      ) => run(templatesApproveCommand, { ids, ...opts }, cmd),
    );
  templates
    .command('reject')
    .description('reject a script in review, with the reason (dry run without --apply)')
    .argument('<id>', 'script id')
    .option('--reason <text>', 'why (shown to the author)')
    .option('--reviewer <name>', 'who rejects (default: --operator)')
    .action((id: string, opts: { reason?: string; reviewer?: string }, cmd: Command) =>
      run(templatesRejectCommand, { id, ...opts }, cmd),
    );
  templates
    .command('retire')
    .description('retire a script: it stops reaching customers at once (dry run without --apply)')
    .argument('<id>', 'script id')
    .action((id: string, _o: object, cmd: Command) => run(templatesRetireCommand, { id }, cmd));
  templates
    .command('list')
    .description('scripts with status, version, owner and expiry')
    .addOption(new Option('--status <status>', 'only this status').choices([...TEMPLATE_STATUSES]))
    .option('--expiring <days>', 'approved scripts whose approval ends within this many days (30d)')
    .action((opts: { status?: string; expiring?: string }, cmd: Command) => run(templatesListCommand, opts, cmd));
  templates
    .command('export')
    .description('the bank library in the import format (round-trips through templates import)')
    .addOption(new Option('--status <status>', 'which scripts').choices([...TEMPLATE_STATUSES]).default('approved'))
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action((opts: { status?: string; format?: string; out?: string }, cmd: Command) =>
      run(templatesExportCommand, opts, cmd),
    );

  const compliance = program.command('compliance').description('compliance settings of the script library');
  compliance
    .command('words')
    .description('sensitive words (违规用语)')
    .command('import')
    .description('add sensitive words: one per line, or CSV word[,note] (dry run without --apply)')
    .argument('<file>', 'text or CSV file, UTF-8 or GBK')
    .action((file: string, _o: object, cmd: Command) => run(complianceWordsImportCommand, { file }, cmd));
}
