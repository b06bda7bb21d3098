import {
  buildTemplateReport,
  renderTemplateReportHtml,
  type TemplateReport,
  type TemplateReportBy,
  templateReportCsv,
} from '../../server/reports/templates';
import { formatTime, oneOf } from './args';
import { type CommandContext, type CommandResult, EXIT } from './context';
import { reportFormat, reportPeriod, reportResult } from './report-output';
import { percent, renderTable } from './table';

export interface ReportTemplatesArgs {
  from?: string;
  to?: string;
  by?: string;
  format?: string;
  out?: string;
}

/**
 * `report templates [--from --to] [--by stage|template|variant] [--format table|csv|html] [--out]`:
 * the 复盘 review of the script library (definitions in server/reports/templates.ts). Always exit 0:
 * a review has no target to miss.
 */
export async function reportTemplatesCommand(args: ReportTemplatesArgs, ctx: CommandContext): Promise<CommandResult> {
  const now = ctx.now();
  const { from, to } = reportPeriod(args, now);
  const by = oneOf(args.by ?? 'template', ['stage', 'template', 'variant'] as const, 'by') as TemplateReportBy;
  const format = reportFormat(args.format);
  const report = await buildTemplateReport(ctx.db, { from, to, by });
  const body =
    format === 'html'
      ? renderTemplateReportHtml(report, now)
      : format === 'csv'
        ? templateReportCsv(report)
        : templateReportTable(report);
  return reportResult({ report, body, format, out: args.out, exitCode: EXIT.ok });
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
