import type { DataSource } from 'typeorm';
import { csvDocument } from '../lib/csv';
import { churnedAfter } from '../playbook/attribution';
import { wilson } from '../playbook/variant-performance';
import { card, dateText, esc, intervalChart, num, pct, REPORT_CSS } from './html';

/**
 * `ops report templates` — the 复盘 review of the script library over a period [from, to):
 *
 * - sends: real sends of a script in the period (channel send, or a copy confirmed 已发送)
 * - customers: distinct WeCom contacts among those sends
 * - conversions: sends credited with at least one bank outcome (`ops import outcomes`)
 * - rate: conversions ÷ sends, with a 95 % Wilson interval
 * - churn after touch: sends after which the customer deleted the manager within 7 days
 * - best: in each variant group, the wording with the highest lower Wilson bound (at least one
 *   conversion); marked ★
 *
 * Grouped by the touch stage (第几次触达 when sent), by script version, or by variant (scripts in a
 * variant group only).
 */

export type TemplateReportBy = 'stage' | 'template' | 'variant';

export interface TemplateReportRow {
  key: string;
  label: string;
  stage: number | null;
  templateId: number | null;
  variantGroup: string | null;
  variant: string | null;
  sends: number;
  customers: number;
  conversions: number;
  rate: number | null;
  low: number;
  high: number;
  churns: number;
  churnRate: number | null;
  best: boolean;
}

export interface TemplateReport {
  from: number;
  to: number;
  by: TemplateReportBy;
  rows: TemplateReportRow[];
  total: TemplateReportRow;
}

interface SendRow {
  id: number;
  template_id: number;
  external_userid: string;
  touch_stage: number;
  sent_at: number | string;
  title: string;
  variant_group: string | null;
  variant: string | null;
  conversions: number | string;
  deleted_at: number | string | null;
  deleted_by: string | null;
}

class Acc {
  sends = 0;
  conversions = 0;
  churns = 0;
  readonly customers = new Set<string>();
  constructor(
    readonly key: string,
    readonly label: string,
    readonly stage: number | null,
    readonly templateId: number | null,
    readonly variantGroup: string | null,
    readonly variant: string | null,
  ) {}

  add(r: SendRow): void {
    this.sends++;
    this.customers.add(r.external_userid);
    if (Number(r.conversions) > 0) this.conversions++;
    if (churnedAfter(Number(r.sent_at), r.deleted_at === null ? null : Number(r.deleted_at), r.deleted_by)) {
      this.churns++;
    }
  }

  row(): TemplateReportRow {
    const ci = wilson(this.conversions, this.sends);
    return {
      key: this.key,
      label: this.label,
      stage: this.stage,
      templateId: this.templateId,
      variantGroup: this.variantGroup,
      variant: this.variant,
      sends: this.sends,
      customers: this.customers.size,
      conversions: this.conversions,
      rate: this.sends ? this.conversions / this.sends : null,
      low: ci.low,
      high: ci.high,
      churns: this.churns,
      churnRate: this.sends ? this.churns / this.sends : null,
      best: false,
    };
  }
}

export async function buildTemplateReport(
  db: DataSource,
  opts: { from: number; to: number; by: TemplateReportBy },
): Promise<TemplateReport> {
  const rows: SendRow[] = await db.query(
    `SELECT t.id, t.template_id, t.external_userid, t.stage AS touch_stage, t.sent_at,
            st.title, st.variant_group, st.variant,
            (SELECT COUNT(*) FROM outcomes o WHERE o.touch_id = t.id) AS conversions,
            f.deleted_at, f.deleted_by
       FROM touches t
       JOIN script_templates st ON st.id = t.template_id
       LEFT JOIN follows f ON f.external_userid = t.external_userid AND f.userid = t.userid
      WHERE t.sent_at >= ? AND t.sent_at < ?
        AND (t.channel = 'send' OR (t.channel = 'copy' AND t.confirmed_at IS NOT NULL))`,
    [opts.from, opts.to],
  );
  const groups = new Map<string, Acc>();
  const total = new Acc('total', '合计', null, null, null, null);
  for (const r of rows) {
    total.add(r);
    let acc: Acc | undefined;
    if (opts.by === 'stage') {
      const stage = Number(r.touch_stage);
      const key = `stage:${stage}`;
      acc = groups.get(key) ?? new Acc(key, `第${stage}次触达`, stage, null, null, null);
    } else {
      if (opts.by === 'variant' && !r.variant_group) continue;
      const id = Number(r.template_id);
      const key = `template:${id}`;
      const label = r.variant_group ? `${r.title}（${r.variant_group}${r.variant ? ` · ${r.variant}` : ''}）` : r.title;
      acc = groups.get(key) ?? new Acc(key, label, null, id, r.variant_group, r.variant);
    }
    groups.set(acc.key, acc);
    acc.add(r);
  }
  const out = [...groups.values()].map((a) => a.row());
  // The best wording of each variant group: highest lower bound, among wordings that converted.
  const bestOf = new Map<string, TemplateReportRow>();
  for (const r of out) {
    if (!r.variantGroup || r.conversions === 0) continue;
    const cur = bestOf.get(r.variantGroup);
    if (!cur || r.low > cur.low || (r.low === cur.low && (r.templateId ?? 0) < (cur.templateId ?? 0))) {
      bestOf.set(r.variantGroup, r);
    }
  }
  for (const r of bestOf.values()) r.best = true;
  out.sort((a, b) =>
    opts.by === 'stage'
      ? (a.stage ?? 0) - (b.stage ?? 0)
      : (a.variantGroup ?? '').localeCompare(b.variantGroup ?? '') || (a.templateId ?? 0) - (b.templateId ?? 0),
  );
  return { from: opts.from, to: opts.to, by: opts.by, rows: out, total: total.row() };
}

const ratio = (r: number | null) => (r === null ? null : Number(r.toFixed(4)));

export const TEMPLATE_CSV_HEADER = [
  'group',
  'label',
  'stage',
  'template_id',
  'variant_group',
  'variant',
  'sends',
  'customers',
  'conversions',
  'conversion_rate',
  'rate_low_95',
  'rate_high_95',
  'churn_after_touch',
  'churn_rate',
  'best_in_group',
];

export function templateReportCsv(report: TemplateReport): string {
  const line = (r: TemplateReportRow) => [
    r.key,
    r.label,
    r.stage,
    r.templateId,
    r.variantGroup,
    r.variant,
    r.sends,
    r.customers,
    r.conversions,
    ratio(r.rate),
    ratio(r.low),
    ratio(r.high),
    r.churns,
    ratio(r.churnRate),
    r.best,
  ];
  // Titles and group names are typed by people: csvDocument neutralises formulas.
  return csvDocument(TEMPLATE_CSV_HEADER, [...report.rows.map(line), line(report.total)], { bom: false });
}

const BY_ZH: Record<TemplateReportBy, string> = {
  stage: '按触达阶段',
  template: '按话术',
  variant: '按话术版本（变体）',
};
const MAX_CHART_ROWS = 40;

export function renderTemplateReportHtml(report: TemplateReport, generatedAt: number): string {
  const t = report.total;
  const chartRows = report.rows.slice(0, MAX_CHART_ROWS);
  const cards = [
    card('发送次数', num(t.sends), `触达客户 ${num(t.customers)} 人`, 'plain'),
    card('转化', num(t.conversions), '归因到话术发送的银行业务结果', 'plain'),
    card('转化率', pct(t.rate), `95% 区间 ${pct(t.low)}–${pct(t.high)}`, 'plain'),
    card('触达后流失', num(t.churns), `发送后 7 日内客户删除客户经理 · ${pct(t.churnRate)}`, t.churns ? 'bad' : 'good'),
  ].join('');
  const head = ['分组', '发送', '客户数', '转化', '转化率', '95% 区间', '触达后流失', '流失率', '组内最佳'];
  const tr = (r: TemplateReportRow, cls = '') =>
    `<tr class="${cls}"><td>${esc(r.label)}</td>${[
      num(r.sends),
      num(r.customers),
      num(r.conversions),
      pct(r.rate),
      r.sends ? `${pct(r.low)}–${pct(r.high)}` : '—',
      num(r.churns),
      pct(r.churnRate),
      r.best ? '★' : '',
    ]
      .map((c) => `<td class="n">${c}</td>`)
      .join('')}</tr>`;
  const charts = chartRows.length
    ? `${intervalChart(
        '转化率与 95% 置信区间（★ 为变体组内最佳）',
        chartRows.map((r) => ({
          label: r.label,
          value: r.rate,
          low: r.low,
          high: r.high,
          mark: r.best,
          note: `${num(r.conversions)}/${num(r.sends)}`,
        })),
      )}${intervalChart(
        '触达后 7 日内流失率',
        chartRows.map((r) => {
          const ci = wilson(r.churns, r.sends);
          return {
            label: r.label,
            value: r.churnRate,
            low: ci.low,
            high: ci.high,
            note: `${num(r.churns)}/${num(r.sends)}`,
          };
        }),
        '#d9534f',
      )}`
    : '<p class="note">统计区间内没有话术发送记录。</p>';
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>话术复盘 ${esc(dateText(report.from))} 至 ${esc(dateText(report.to))}</title>
<style>
${REPORT_CSS}</style>
</head>
<body><main>
<h1>话术复盘</h1>
<div class="meta">统计区间：${esc(dateText(report.from))} 至 ${esc(dateText(report.to))} · ${BY_ZH[report.by]} · 生成时间 ${esc(dateText(generatedAt))}</div>
<section class="cards">${cards}</section>
<h2>转化</h2>
${charts}
<h2>明细</h2>
<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${report.rows.map((r) => tr(r)).join('')}${tr(t, 'total')}</tbody></table></div>
<p class="defs">口径：发送 = 统计区间内通过侧边栏发送、或复制后确认“已发送”的话术；转化 = 被归因到该次发送的银行业务结果（开户、绑卡、签约手机银行、购买理财、资产提升等，归因窗口内最后一次发送，指明产品时按产品匹配）；
转化率区间为 Wilson 95% 区间；触达后流失 = 发送后 7 日内客户删除客户经理；组内最佳 = 同一变体组中转化率区间下限最高的话术版本。</p>
</main></body></html>
`;
}
