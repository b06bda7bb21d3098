import { Argument, type Command, Option } from 'commander';
import type { Runner } from '../ops';
import { allocateExplainCommand, allocateReplayCommand } from './allocate';
import {
  campaignsApplyCommand,
  campaignsDeliverCommand,
  campaignsListCommand,
  campaignsQrCommand,
  campaignsReplayCommand,
  campaignsReportCommand,
  campaignsRewardsCommand,
} from './campaigns';
import { groupsListCommand, groupsSetPurposeCommand, groupsStatsCommand, groupsSyncCommand } from './groups';
import { importCommand } from './import';
import { inboxListCommand, inboxReplayCommand, inboxStatsCommand } from './inbox';
import { reassignCommand } from './reassign';
import { referralsCreateCommand, referralsReportCommand } from './referrals';
import { reportCommand } from './report';
import { reportTemplatesCommand } from './report-templates';
import {
  rulesApplyCommand,
  rulesDryRunCommand,
  rulesHistoryCommand,
  rulesRollbackCommand,
  rulesValidateCommand,
} from './rules';
import { sandboxCommand } from './sandbox';
import { registerSopCommands } from './sop-registry';
import { registerTemplateCommands } from './templates-registry';

/** Every subcommand and its options; actions hand parsed arguments to the command functions. */
export function registerCommands(program: Command, run: Runner): void {
  registerTemplateCommands(program, run);
  registerSopCommands(program, run);
  program
    .command('import')
    .description(
      'import branches, managers, customers, holdings or outcomes from a CSV file (UTF-8 or GBK, header row required)',
    )
    .addArgument(
      new Argument('<kind>', 'what the file holds').choices([
        'branches',
        'managers',
        'customers',
        'holdings',
        'outcomes',
      ]),
    )
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
             optional: asset_tier,risk_rating,risk_rating_date,birthday,preferred_branch
  holdings   customer_id,product,product_type,amount_band,open_date,maturity_date
  outcomes   customer_id,event,occurred_at                optional: product,amount
             (event: 开户, 绑卡, 签约手机银行, 购买理财, 资产提升 …; occurred_at in bank time, UTC+8)
Phones are stored only as a salted hash and names masked (张*明); a birthday keeps only MM-DD;
holdings keep an amount band (5万以下, 5-20万, 20-50万, 50-100万, 100-300万, 300万以上), never an amount. Unknown owner_userid is a
warning (the row is kept); unknown branches, bad coordinates, duplicates are errors.
Outcomes keep only the amount band and are credited to the last send (发送, or 复制 confirmed 已发送)
to the customer within ATTRIBUTION_WINDOW_DAYS (default 14), for the same product when one is named;
a file with any bad row is refused whole, and the same outcome imported twice is stored once.`,
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

  const report = program
    .command('report')
    .description(
      'operating report: adds, churn (target ≤ 10%), activity (target ≥ 40%), allocation mix, welcome, transfers',
    )
    .option('--from <time>', 'start of the period (2026-11-01, 2026-11-01T08:00 or 30d); default 30 days before --to')
    .option('--to <time>', 'end of the period (exclusive); default now')
    // No .choices: `report templates --by stage` reaches this parser too (commander parses the parent's
    // options first); reportCommand and reportTemplatesCommand each check their own values.
    .addOption(new Option('--by <group>', 'one row per branch or per manager (branch|manager)'))
    .addOption(
      new Option('--view <view>', 'contacts (default) or customer groups (owner = manager)')
        .choices(['contacts', 'groups'])
        .default('contacts'),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'html']).default('table'))
    .option('--out <file>', 'write the report to this file instead of stdout')
    .addHelpText('after', '\nExit 1 when the totals miss the churn or 30-day activity target.')
    .action(
      (opts: { from?: string; to?: string; by?: string; format?: string; out?: string; view?: string }, cmd: Command) =>
        run(reportCommand, opts, cmd),
    );
  report
    .command('templates')
    .description(
      '复盘 of the script library: sends, customers, conversions, conversion rate with a 95% interval, churn after touch, best variant',
    )
    .addHelpText(
      'after',
      `
Options (read by the report command, so they may go before or after "templates"):
  --from <time>      start of the period; default 30 days before --to
  --to <time>        end of the period (exclusive); default now
  --by <group>       stage | template (default) | variant
  --format <format>  table (default) | csv | html
  --out <file>       write the report to this file instead of stdout`,
    )
    .action((_o: object, cmd: Command) => {
      const o = (cmd.parent as Command).opts() as {
        from?: string;
        to?: string;
        by?: string;
        format?: string;
        out?: string;
      };
      return run(reportTemplatesCommand, { from: o.from, to: o.to, by: o.by, format: o.format, out: o.out }, cmd);
    });

  const groups = program.command('groups').description('customer groups (客户群): sync from WeCom, list, set purposes');
  groups
    .command('sync')
    .description("read every manager's customer groups from WeCom (groupchat/list + get); dry run without --apply")
    .option('--owner <userid...>', 'only these group owners')
    .addHelpText(
      'after',
      '\nThe nightly job groups-sync does the same with --apply. Exit 1 when some groups could not be read.',
    )
    .action((opts: { owner?: string[] }, cmd: Command) => run(groupsSyncCommand, opts, cmd));
  groups
    .command('list')
    .description('groups in the registry with branch, owner, purpose and customer count')
    .option('--branch <code>', 'only groups of this branch (the owner’s branch)')
    .option('--owner <userid>', 'only groups of this owner')
    .option('--all', 'include dismissed groups')
    .action((opts: { branch?: string; owner?: string; all?: boolean }, cmd: Command) =>
      run(groupsListCommand, opts, cmd),
    );
  groups
    .command('set-purpose')
    .description('set (or --clear) the purpose of a group, e.g. 网点客户维护 (SOP audiences select by it)')
    .argument('<chatId>', 'the group chat_id')
    .argument('[purpose]', '1–32 letters, digits, _ or -')
    .option('--clear', 'remove the purpose')
    .action((chatId: string, purpose: string | undefined, opts: { clear?: boolean }, cmd: Command) =>
      run(groupsSetPurposeCommand, { chatId, purpose, clear: opts.clear }, cmd),
    );
  groups
    .command('stats')
    .description('fetch daily group statistics per owner (statistic_group_by_day) for the last N days')
    .option('--days <n>', 'days before today (1–180)', '1')
    .action((opts: { days?: string }, cmd: Command) => run(groupsStatsCommand, opts, cmd));

  const campaigns = program.command('campaigns').description('campaigns (立减金 …): apply files, QR codes, rewards');
  campaigns
    .command('apply')
    .description(
      'create or update a campaign from a JSON file (code, name, startsAt, endsAt, reward, newCustomersOnly, churnFlagDays)',
    )
    .argument('<file>', 'campaign JSON')
    .action((file: string, _o: object, cmd: Command) => run(campaignsApplyCommand, { file }, cmd));
  campaigns
    .command('list')
    .description('campaigns, newest first')
    .action((_o: object, cmd: Command) => run(campaignsListCommand, {}, cmd));
  campaigns
    .command('qr')
    .description('per-manager campaign QR codes (contact ways carrying the campaign)')
    .argument('<code>', 'campaign code')
    .option('--manager <userid>', 'one manager')
    .option('--branch <code>', 'every active manager of a branch')
    .action((code: string, opts: { manager?: string; branch?: string }, cmd: Command) =>
      run(campaignsQrCommand, { code, ...opts }, cmd),
    );
  campaigns
    .command('report')
    .description(
      'adds by day, branch and channel; rewards sent/failed/pending; 7- and 30-day retention; customers who deleted the manager within churnFlagDays',
    )
    .argument('<code>', 'campaign code')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--out <file>', 'write the report to this file instead of stdout')
    .action((code: string, opts: { format?: string; out?: string }, cmd: Command) =>
      run(campaignsReportCommand, { code, ...opts }, cmd),
    );
  const rewards = campaigns
    .command('rewards')
    .description('reward requests in the outbox (--failed: dead-lettered ones, exit 1 if any)')
    .option('--failed', 'only dead-lettered requests')
    .option('--campaign <code>', 'only this campaign')
    .action((opts: { failed?: boolean; campaign?: string }, cmd: Command) => run(campaignsRewardsCommand, opts, cmd));
  rewards
    .command('deliver')
    .description('POST due reward requests now, as the reward-delivery job does (dry run: count them)')
    .option('--lease-seconds <n>', 'how long a claimed request is held before another sender may retry it', '60')
    .option('--limit <n>', 'at most this many requests', '1000')
    .action((opts: { leaseSeconds?: string; limit?: string }, cmd: Command) => run(campaignsDeliverCommand, opts, cmd));
  rewards
    .command('replay')
    .description('queue dead-lettered reward requests again (same idempotency keys)')
    .option('--campaign <code>', 'only this campaign')
    .action((opts: { campaign?: string }, cmd: Command) => run(campaignsReplayCommand, opts, cmd));

  const referrals = program.command('referrals').description('referrals (MGM, 推荐码): codes and the referrer ranking');
  referrals
    .command('create')
    .description(
      "a customer's referral QR code / link (a contact way of their manager; the same code when asked again)",
    )
    .argument('<customerId>', 'bank customer id of the referrer')
    .option('--manager <userid>', "the manager it adds (default: the customer's owner)")
    .action((customerId: string, opts: { manager?: string }, cmd: Command) =>
      run(referralsCreateCommand, { customerId, ...opts }, cmd),
    );
  referrals
    .command('report')
    .description('referrers ranked within each branch: referred, eligible, parted, rewarded')
    .option('--since <time>', 'only referrals added since (e.g. 2026-01-01)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action((opts: { since?: string; format?: string }, cmd: Command) => run(referralsReportCommand, opts, cmd));

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

  program
    .command('reassign')
    .description("move a leaving manager's customers to other managers (on-job or resigned transfer, batches of ≤ 100)")
    .option('--from <userid>', 'the leaving manager')
    .option('--to <userid>', 'one takeover manager for every customer')
    .option('--auto', 'let the allocation engine choose a takeover per customer (same branch first)')
    .option('--poll', "instead: ask WeCom for the customers' answers to waiting transfers and record them")
    .addHelpText(
      'after',
      "\nDry run without --apply. Respects WeCom's limit of 2 on-job transfers per customer in 90 days.\nExit 1 when customers are refused, over the limit, without a takeover, or failed.",
    )
    .action((opts: { from?: string; to?: string; auto?: boolean; poll?: boolean }, cmd: Command) =>
      run(reassignCommand, opts, cmd),
    );

  const sandbox = program
    .command('sandbox')
    .description('drive the WeCom sandbox of a running demo server (signed callbacks, as WeCom sends them)');
  const sim = (name: string, description: string) =>
    sandbox
      .command(name)
      .description(description)
      .option('--server <url>', 'the demo server (default: PUBLIC_BASE_URL)');
  const act = (action: string) => (opts: Record<string, unknown>, cmd: Command) =>
    run(sandboxCommand, { action, ...opts }, cmd, { db: false });
  sim('add-contact', 'a customer adds a manager (add_external_contact, with a welcome code)')
    .requiredOption('--userid <userid>', 'the manager')
    .option('--external-userid <id>', 'an existing external contact (default: a new one)')
    .option('--name <nickname>', 'WeChat nickname of a new contact')
    .option('--state <state>', 'contact-way state, e.g. from an allocation')
    .option('--no-welcome-code', 'send the event without a welcome code')
    .option('--half', 'add_half_external_contact (not yet two-way friends)')
    .option(
      '--phone <phone>',
      "a phone noted on the contact (links the bank customer with it, e.g. a demo customer's 139000000NN)",
    )
    .action(act('add-contact'));
  sim('delete-contact', 'the customer deletes the manager (del_follow_user: churn)')
    .requiredOption('--userid <userid>', 'the manager')
    .requiredOption('--external-userid <id>', 'the customer')
    .action(act('delete-contact'));
  sim('manager-deletes-customer', 'the manager deletes the customer (del_external_contact)')
    .requiredOption('--userid <userid>', 'the manager')
    .requiredOption('--external-userid <id>', 'the customer')
    .option('--by-transfer', 'an on-job transfer completed (Source=DELETE_BY_TRANSFER)')
    .action(act('manager-deletes-customer'));
  sim('transfer-refused', 'the customer refused an on-job transfer (transfer_fail)')
    .requiredOption('--takeover <userid>', 'the takeover manager')
    .requiredOption('--external-userid <id>', 'the customer')
    .addOption(new Option('--reason <reason>', 'fail reason').choices(['customer_refused', 'customer_limit_exceed']))
    .action(act('transfer-refused'));
  sim('tag-changed', 'a corp tag changed in the admin console (change_external_tag)')
    .addOption(
      new Option('--change <type>', 'what happened').choices(['create', 'update', 'delete']).makeOptionMandatory(),
    )
    .option('--tag-id <id>', 'the tag (update/delete)')
    .option('--name <name>', 'tag name (create/update)')
    .option('--group-id <id>', 'tag group (create)')
    .action(act('tag-changed'));
  sim('text-message', 'a member writes a text message to the app')
    .requiredOption('--userid <userid>', 'the member')
    .requiredOption('--content <text>', 'the message')
    .action(act('text-message'));
}
