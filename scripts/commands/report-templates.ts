import { writeFileSync } from 'node:fs';
import { CSV_BOM } from '../../server/lib/csv';
import {
  buildTemplateReport,
  renderTemplateReportHtml,
  type TemplateReport,
  type TemplateReportBy,
  templateReportCsv,
} from '../../server/reports/templates';
import { formatTime, oneOf, parseTime } from './args';
import { type CommandContext, type CommandResult, EXIT, UsageError } from './context';
import { percent, renderTable } from './table';

export interface ReportTemplatesArgs {
  from?: string;
  to?: string;
  by?: string;
  format?: string;
  out?: string;
}

const DAY = 86_400_000;

/**
 * `report templates [--from --to] [--by stage|template|variant] [--format table|csv|html] [--out]`:
 * the 复盘 review of the script library (definitions in server/reports/templates.ts). Always exit 0:
 * a review has no target to miss.
 */
export async function reportTemplatesCommand(args: ReportTemplatesArgs, ctx: CommandContext): Promise<CommandResult> {
  const now = ctx.now();
  const to = args.to ? parseTime(args.to, now, 'to') : now;
  const from = args.from ? parseTime(args.from, now, 'from') : to - 30 * DAY;
  if (from >= to) throw new UsageError('--from must be before --to');
  const by = oneOf(args.by ?? 'template', ['stage', 'template', 'variant'] as const, 'by') as TemplateReportBy;
  const format = oneOf(args.format ?? 'table', ['table', 'csv', 'html'] as const, 'format');
  const report = await buildTemplateReport(ctx.db, { from, to, by });
  const body =
    format === 'html'
      ? renderTemplateReportHtml(report, now)
      : format === 'csv'
        ? templateReportCsv(report)
        : templateReportTable(report);
  if (args.out) {
    writeFileSync(args.out, format === 'csv' ? `${CSV_BOM}${body}` : body);
    return {
      exitCode: EXIT.ok,
      json: { ...report, out: args.out, format },
      output: `${format} report written to ${args.out}`,
    };
  }
  return { exitCode: EXIT.ok, json: report, output: body };
}

export function templateReportTable(report: TemplateReport): string {
  const rate = (r: TemplateReport['total']) =>
    r.rate === null ? '—' : `${percent(r.rate)} [${percent(r.low)}–${percent(r.high)}]`;
  const rows = [...report.rows, report.total];
  return [
    `period ${formatTime(report.from)} → ${formatTime(report.to)}, by ${report.by}; ★ = best wording of its variant group`,
    '',
    renderTable(
      [report.by === 'stage' ? '阶段' : '话术', 'sends', 'customers', 'conv', 'rate [95% CI]', 'churn 7d', 'best'],
      rows.map((r) => [
        r.label,
        r.sends,
        r.customers,
        r.conversions,
        rate(r),
        r.churnRate === null ? '—' : `${r.churns} (${percent(r.churnRate)})`,
        r.best ? '★' : '',
      ]),
    ),
  ].join('\n');
}
