import { type CsvValue, csvDocument } from '../../server/lib/csv';
import { buildGroupReport, type GroupReport, type GroupReportRow } from '../../server/reports/groups';
import { REASON_ZH, renderReportHtml } from '../../server/reports/html';
import {
  ALLOCATION_REASONS,
  buildReport,
  type GroupBy,
  type OperatingReport,
  type ReportRow,
  TRANSFER_STATUSES,
  WELCOME_SKIP_REASONS,
} from '../../server/reports/queries';
import { formatTime, oneOf } from './args';
import { type CommandContext, type CommandResult, EXIT, UsageError } from './context';
import { type ReportFormat, reportFormat, reportPeriod, reportResult } from './report-output';
import { percent, renderTable } from './table';

export interface ReportArgs {
  view?: string;
  from?: string;
  to?: string;
  by?: string;
  format?: string;
  out?: string;
}

/**
 * `report [--from --to] [--by branch|manager] [--format table|csv|html] [--out file]`. The period
 * defaults to the 30 days before now. Exit 1 when the totals miss the churn or activity target.
 */
export async function reportCommand(args: ReportArgs, ctx: CommandContext): Promise<CommandResult> {
  const now = ctx.now();
  const { from, to } = reportPeriod(args, now);
  const by: GroupBy = args.by ? oneOf(args.by, ['branch', 'manager'] as const, 'by') : 'total';
  const format = reportFormat(args.format);
  const view = oneOf(args.view ?? 'contacts', ['contacts', 'groups'] as const, 'view');
  if (view === 'groups')
    return groupsReport(args, ctx, {
      from,
      to,
      by: args.by === 'manager' ? 'owner' : (by as 'total' | 'branch'),
      format,
    });
  const report = await buildReport(ctx.db, { from, to, by });
  const exitCode = report.findings.length ? EXIT.findings : EXIT.ok;

  let body: string;
  if (format === 'html') body = renderReportHtml(report, now);
  else if (format === 'csv') body = reportCsv(report);
  else body = reportTable(report);

  const note = report.findings.length ? `\nfindings: ${report.findings.join('; ')}` : '';
  return reportResult({ report, body, format, out: args.out, exitCode, note });
}

/** Why welcomes did not go out, in the words an operator reads. */
export const WELCOME_SKIP_ZH: Record<(typeof WELCOME_SKIP_REASONS)[number], string> = {
  no_template: '无可用欢迎语',
  code_expired: '超时未发',
};

const skippedTotal = (r: ReportRow) => WELCOME_SKIP_REASONS.reduce((s, k) => s + r.welcomeSkipped[k], 0);

/** "3 (无可用欢迎语 2, 超时未发 1)", or "0". */
export function skippedText(r: ReportRow): string {
  const total = skippedTotal(r);
  if (!total) return '0';
  const parts = WELCOME_SKIP_REASONS.filter((k) => r.welcomeSkipped[k]).map(
    (k) => `${WELCOME_SKIP_ZH[k]} ${r.welcomeSkipped[k]}`,
  );
  return `${total} (${parts.join(', ')})`;
}

const transfersText = (r: ReportRow) =>
  TRANSFER_STATUSES.filter((s) => r.transfers[s])
    .map((s) => `${s} ${r.transfers[s]}`)
    .join(', ');

function mix(r: ReportRow): string {
  const total = ALLOCATION_REASONS.reduce((s, k) => s + (r.allocations[k] ?? 0), 0);
  if (!total) return '';
  return ALLOCATION_REASONS.filter((k) => r.allocations[k])
    .map((k) => `${REASON_ZH[k]} ${percent(r.allocations[k] / total)}`)
    .join(' / ');
}

export function reportTable(report: OperatingReport): string {
  const rows = [...report.rows, report.total];
  const head = [
    `period ${formatTime(report.from)} → ${formatTime(report.to)}; targets: churn ≤ ${report.targets.churnMax * 100}%, 30-day activity ≥ ${report.targets.activityMin * 100}%`,
    '',
  ];
  const table = renderTable(
    [
      report.by === 'manager' ? '客户经理' : report.by === 'branch' ? '网点' : '范围',
      'adds',
      'churned',
      'churn',
      'active',
      'act 7d',
      'act 30d',
      'allocation mix',
      'welcome',
      'welcome skipped',
      'transfers',
    ],
    rows.map((r) => [
      r.label,
      r.adds,
      r.churned,
      percent(r.churnRate),
      r.activeFollows,
      percent(r.activity7),
      percent(r.activity30),
      mix(r),
      percent(r.welcomeRate),
      skippedText(r),
      transfersText(r),
    ]),
  );
  const skipped = skippedTotal(report.total);
  const why = skipped
    ? [
        '',
        `welcomes skipped: ${skipped} — ${WELCOME_SKIP_REASONS.filter((k) => report.total.welcomeSkipped[k])
          .map((k) => `${k} (${WELCOME_SKIP_ZH[k]}) ${report.total.welcomeSkipped[k]}`)
          .join(', ')}`,
      ]
    : [];
  const tail = report.findings.length ? ['', ...report.findings.map((f) => `MISSED: ${f}`)] : ['', 'targets met.'];
  return [...head, table, ...why, ...tail].join('\n');
}

const ratioCell = (r: number | null) => (r === null ? null : Number(r.toFixed(4)));

export function reportCsv(report: OperatingReport): string {
  const header = [
    'group',
    'label',
    'adds',
    'churned',
    'deleted_by_manager',
    'churn_rate',
    'active_follows',
    'active_7d',
    'active_30d',
    'activity_7d',
    'activity_30d',
    ...ALLOCATION_REASONS.map((k) => `alloc_${k}`),
    'welcome_sent',
    'welcome_failed',
    'welcome_rate',
    ...WELCOME_SKIP_REASONS.map((k) => `welcome_skipped_${k}`),
    ...TRANSFER_STATUSES.map((k) => `transfer_${k}`),
  ];
  const line = (r: ReportRow): CsvValue[] => [
    r.key,
    r.label,
    r.adds,
    r.churned,
    r.deletedByManager,
    ratioCell(r.churnRate),
    r.activeFollows,
    r.active7,
    r.active30,
    ratioCell(r.activity7),
    ratioCell(r.activity30),
    ...ALLOCATION_REASONS.map((k) => r.allocations[k] ?? 0),
    r.welcomeSent,
    r.welcomeFailed,
    ratioCell(r.welcomeRate),
    ...WELCOME_SKIP_REASONS.map((k) => r.welcomeSkipped[k]),
    ...TRANSFER_STATUSES.map((k) => r.transfers[k] ?? 0),
  ];
  // Labels are branch and manager names typed by people: csvDocument neutralises formulas.
  return csvDocument(header, [...report.rows.map(line), line(report.total)], { bom: false });
}

async function groupsReport(
  args: ReportArgs,
  ctx: CommandContext,
  o: { from: number; to: number; by: 'total' | 'branch' | 'owner'; format: ReportFormat },
): Promise<CommandResult> {
  if (o.format === 'html') throw new UsageError('--view groups supports --format table or csv');
  const report = await buildGroupReport(ctx.db, o);
  const exitCode = report.findings.length ? EXIT.findings : EXIT.ok;
  const body = o.format === 'csv' ? groupReportCsv(report) : groupReportTable(report);
  return reportResult({ report, body, format: o.format, out: args.out, exitCode });
}

export function groupReportTable(report: GroupReport): string {
  const head = [
    `customer groups, period ${formatTime(report.from)} → ${formatTime(report.to)}; targets: churn ≤ ${report.targets.churnMax * 100}%, activity ≥ ${report.targets.activityMin * 100}%`,
    `definition: ${report.definition}`,
    '',
  ];
  const table = renderTable(
    [
      report.by === 'owner' ? '群主' : report.by === 'branch' ? '网点' : '范围',
      'groups',
      'members',
      'joins',
      'quits',
      'churn',
      'activity',
      'stat days',
    ],
    [...report.rows, report.total].map((r) => [
      r.label,
      r.groups,
      r.members,
      r.joins,
      r.quits,
      percent(r.churnRate),
      percent(r.activity),
      r.statDays,
    ]),
  );
  const tail = report.findings.length ? ['', ...report.findings.map((f) => `MISSED: ${f}`)] : ['', 'targets met.'];
  return [...head, table, ...tail].join('\n');
}

export function groupReportCsv(report: GroupReport): string {
  const header = [
    'group',
    'label',
    'groups',
    'members',
    'members_at_start',
    'joins',
    'quits',
    'churn_rate',
    'member_days_active',
    'member_days',
    'activity',
    'stat_days',
  ];
  const line = (r: GroupReportRow): CsvValue[] => [
    r.key,
    r.label,
    r.groups,
    r.members,
    r.membersAtStart,
    r.joins,
    r.quits,
    ratioCell(r.churnRate),
    r.memberDaysActive,
    r.memberDays,
    ratioCell(r.activity),
    r.statDays,
  ];
  // Labels are names typed by people: csvDocument neutralises formulas.
  return csvDocument(header, [...report.rows.map(line), line(report.total)], { bom: false });
}
