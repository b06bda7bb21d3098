import { escapeHtml } from '../lib/html';
import { ALLOCATION_REASONS, type OperatingReport, type ReportRow, TRANSFER_STATUSES } from './queries';

/**
 * One self-contained HTML page (inline CSS and SVG, no scripts, no external assets) that a
 * branch head can open from an e-mail attachment: headline figures against the targets, then
 * charts per branch or manager, then the full table.
 */

export const esc = escapeHtml;

export const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
export const num = (n: number) => n.toLocaleString('zh-CN');

export const REASON_ZH: Record<string, string> = {
  owner: '管户经理',
  nearest_branch: '就近网点',
  fallback: '兜底团队',
  added_manager: '已添加经理',
  none: '未分配',
};
export const TRANSFER_ZH: Record<string, string> = {
  success: '成功',
  waiting: '等待接替',
  requested: '已提交',
  queued: '排队中',
  refused: '客户拒绝',
  limit: '接替方已满',
  failed: '失败',
};
const COLORS = ['#2f6fdb', '#29a36a', '#f0a020', '#8e5bd8', '#9aa4b2', '#d9534f', '#17a2b8'];
/** Same order as TRANSFER_STATUSES: success green, in-flight blues, refusals and failures warm. */
const TRANSFER_COLORS = ['#29a36a', '#8fb3f0', '#5b8def', '#2f6fdb', '#f0a020', '#8e5bd8', '#d9534f'];

export function dateText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Legend swatches laid out by label width (CJK characters are about twice as wide as Latin ones). */
export function legendSvg(items: { label: string; color: string }[], x0: number, y: number): string {
  let x = x0;
  return items
    .map(({ label, color }) => {
      const width = [...label].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 12 : 7), 0);
      const svg = `<rect x="${x}" y="${y}" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="${y + 9}" class="lbl">${esc(label)}</text>`;
      x += 14 + width + 18;
      return svg;
    })
    .join('');
}

/** Horizontal bars of a ratio per row, with a dashed target line and red bars on the wrong side. */
function ratioChart(
  title: string,
  rows: ReportRow[],
  series: { label: string; value: (r: ReportRow) => number | null; color: string }[],
  target: { value: number; label: string; better: 'below' | 'above' },
): string {
  const labelW = 190;
  const chartW = 520;
  const barH = 14;
  const groupH = series.length * (barH + 3) + 10;
  const top = 34;
  const height = top + rows.length * groupH + 30;
  const maxV = Math.max(target.value * 1.5, ...rows.flatMap((r) => series.map((s) => s.value(r) ?? 0)), 0.0001);
  const x = (v: number) => labelW + (Math.min(v, maxV) / maxV) * chartW;
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y0 = top + i * groupH;
    parts.push(
      `<text x="${labelW - 8}" y="${y0 + groupH / 2}" text-anchor="end" dominant-baseline="middle" class="lbl">${esc(r.label)}</text>`,
    );
    series.forEach((s, j) => {
      const v = s.value(r);
      const y = y0 + j * (barH + 3);
      if (v === null) {
        parts.push(`<text x="${labelW + 4}" y="${y + barH - 3}" class="na">无数据</text>`);
        return;
      }
      const bad = target.better === 'below' ? v > target.value : v < target.value;
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${Math.max(1, x(v) - labelW).toFixed(1)}" height="${barH}" fill="${bad ? '#d9534f' : s.color}" rx="2"><title>${esc(`${r.label} ${s.label} ${pct(v)}`)}</title></rect>`,
        `<text x="${(x(v) + 4).toFixed(1)}" y="${y + barH - 3}" class="val">${pct(v)}</text>`,
      );
    });
  });
  const tx = x(target.value).toFixed(1);
  parts.push(
    `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 22}" stroke="#333" stroke-dasharray="5 4" stroke-width="1.5"/>`,
    `<text x="${tx}" y="${top - 10}" text-anchor="middle" class="tgt">${esc(target.label)}</text>`,
  );
  const legend = legendSvg(
    series.map((s) => ({ label: s.label, color: s.color })),
    labelW,
    height - 16,
  );
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${labelW + chartW + 70} ${height}" width="100%" role="img" aria-label="${esc(title)}">${parts.join('')}${legend}</svg></figure>`;
}

/** 100%-stacked bars of counts per category, one bar per row. */
function mixChart(
  title: string,
  rows: ReportRow[],
  keys: readonly string[],
  names: Record<string, string>,
  get: (r: ReportRow) => Record<string, number>,
  colors: readonly string[] = COLORS,
): string {
  const labelW = 190;
  const chartW = 520;
  const barH = 18;
  const top = 10;
  const height = top + rows.length * (barH + 8) + 30;
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 8);
    const counts = get(r);
    const sum = keys.reduce((s, k) => s + (counts[k] ?? 0), 0);
    parts.push(
      `<text x="${labelW - 8}" y="${y + barH / 2}" text-anchor="end" dominant-baseline="middle" class="lbl">${esc(r.label)}</text>`,
    );
    if (sum === 0) {
      parts.push(`<text x="${labelW + 4}" y="${y + barH - 5}" class="na">无数据</text>`);
      return;
    }
    let xPos = labelW;
    keys.forEach((k, j) => {
      const n = counts[k] ?? 0;
      if (!n) return;
      const w = (n / sum) * chartW;
      parts.push(
        `<rect x="${xPos.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[j % colors.length]}"><title>${esc(`${r.label} ${names[k] ?? k}: ${num(n)} (${pct(n / sum)})`)}</title></rect>`,
      );
      if (w > 34) {
        parts.push(
          `<text x="${(xPos + w / 2).toFixed(1)}" y="${y + barH - 5}" text-anchor="middle" class="in">${pct(n / sum)}</text>`,
        );
      }
      xPos += w;
    });
    parts.push(`<text x="${labelW + chartW + 6}" y="${y + barH - 5}" class="val">${num(sum)}</text>`);
  });
  const legend = legendSvg(
    keys.map((k, i) => ({ label: names[k] ?? k, color: colors[i % colors.length] })),
    labelW,
    height - 16,
  );
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${labelW + chartW + 70} ${height}" width="100%" role="img" aria-label="${esc(title)}">${parts.join('')}${legend}</svg></figure>`;
}

/**
 * Horizontal bars of a rate per row with its confidence interval as a whisker; `mark` rows get a
 * star and a green bar (the best wording of a variant group).
 */
export function intervalChart(
  title: string,
  rows: { label: string; value: number | null; low: number; high: number; mark?: boolean; note?: string }[],
  color = '#2f6fdb',
): string {
  const labelW = 220;
  const chartW = 500;
  const barH = 14;
  const rowH = barH + 10;
  const top = 10;
  const height = top + rows.length * rowH + 30;
  const maxV = Math.max(0.0001, ...rows.map((r) => Math.max(r.high, r.value ?? 0)));
  const x = (v: number) => labelW + (Math.min(v, maxV) / maxV) * chartW;
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y + barH / 2}" text-anchor="end" dominant-baseline="middle" class="lbl">${esc(`${r.mark ? '★ ' : ''}${r.label}`)}</text>`,
    );
    if (r.value === null) {
      parts.push(`<text x="${labelW + 4}" y="${y + barH - 3}" class="na">无数据</text>`);
      return;
    }
    const tip = `${r.label} ${pct(r.value)}（95% 区间 ${pct(r.low)}–${pct(r.high)}）${r.note ? ` ${r.note}` : ''}`;
    parts.push(
      `<rect x="${labelW}" y="${y}" width="${Math.max(1, x(r.value) - labelW).toFixed(1)}" height="${barH}" fill="${r.mark ? '#29a36a' : color}" rx="2"><title>${esc(tip)}</title></rect>`,
      `<line x1="${x(r.low).toFixed(1)}" y1="${y + barH / 2}" x2="${x(r.high).toFixed(1)}" y2="${y + barH / 2}" stroke="#111" stroke-width="1.2"/>`,
      `<line x1="${x(r.low).toFixed(1)}" y1="${y + 3}" x2="${x(r.low).toFixed(1)}" y2="${y + barH - 3}" stroke="#111"/>`,
      `<line x1="${x(r.high).toFixed(1)}" y1="${y + 3}" x2="${x(r.high).toFixed(1)}" y2="${y + barH - 3}" stroke="#111"/>`,
      `<text x="${(x(r.high) + 6).toFixed(1)}" y="${y + barH - 3}" class="val">${pct(r.value)}${r.note ? ` · ${esc(r.note)}` : ''}</text>`,
    );
  });
  const legend = legendSvg(
    [
      { label: '转化率', color },
      { label: '组内最佳', color: '#29a36a' },
    ],
    labelW,
    height - 16,
  );
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${labelW + chartW + 140} ${height}" width="100%" role="img" aria-label="${esc(title)}">${parts.join('')}${legend}</svg></figure>`;
}

export function card(title: string, value: string, note: string, state: 'good' | 'bad' | 'plain'): string {
  return `<div class="card ${state}"><div class="t">${esc(title)}</div><div class="v">${esc(value)}</div><div class="n">${esc(note)}</div></div>`;
}

/** The page style shared by the operating report and `report templates`. */
export const REPORT_CSS = `body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:0;background:#f4f6f9;color:#1f2937}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#6b7280;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-top:16px}
.card{background:#fff;border-radius:8px;padding:12px 14px;border-top:4px solid #9aa4b2;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card.good{border-top-color:#29a36a}.card.bad{border-top-color:#d9534f}
.card .t{font-size:13px;color:#6b7280}.card .v{font-size:26px;font-weight:600;margin:4px 0}.card .n{font-size:12px;color:#6b7280}
.card.bad .v{color:#c0392b}.card.good .v{color:#1e7e50}
.findings{margin-top:14px;padding:10px 14px;border-radius:6px;background:#fdecea;color:#8a1f17;font-size:14px}
.findings.ok{background:#e8f6ee;color:#1e6b43}
figure{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}
figcaption{font-weight:600;margin-bottom:6px}
svg .lbl{font-size:12px;fill:#374151}svg .val{font-size:11px;fill:#374151}svg .in{font-size:11px;fill:#fff}
svg .tgt{font-size:11px;fill:#111;font-weight:600}svg .na{font-size:11px;fill:#9ca3af}
table{border-collapse:collapse;width:100%;background:#fff;font-size:12px}
th,td{border-bottom:1px solid #e5e7eb;padding:5px 6px;white-space:nowrap}th{background:#eef2f7;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:600;background:#f9fafb}
.miss{color:#c0392b;font-weight:600}.note,.defs{font-size:12px;color:#6b7280}
.scroll{overflow-x:auto}
`;

const MAX_CHART_ROWS = 30;

export function renderReportHtml(report: OperatingReport, generatedAt: number): string {
  const t = report.total;
  const { churnMax, activityMin } = report.targets;
  const scope = report.by === 'branch' ? '按网点' : report.by === 'manager' ? '按客户经理' : '全行合计';
  const chartRows = report.rows.length ? report.rows.slice(0, MAX_CHART_ROWS) : [t];
  const chartNote =
    report.rows.length > MAX_CHART_ROWS
      ? `<p class="note">图中仅显示新增客户最多的 ${MAX_CHART_ROWS} 个，完整数据见下表。</p>`
      : '';
  const transferTotal = Object.values(t.transfers).reduce((a, b) => a + b, 0);
  const state = (bad: boolean | null) => (bad === null ? 'plain' : bad ? 'bad' : 'good');

  const cards = [
    card('新增客户', num(t.adds), '期间添加客户经理的客户数', 'plain'),
    card(
      '流失率',
      pct(t.churnRate),
      `目标 ≤ ${churnMax * 100}% · 流失 ${num(t.churned)} 人`,
      state(t.churnRate === null ? null : t.churnRate > churnMax),
    ),
    card(
      '30日活跃率',
      pct(t.activity30),
      `目标 ≥ ${activityMin * 100}% · ${num(t.active30)}/${num(t.activeFollows)}`,
      state(t.activity30 === null ? null : t.activity30 < activityMin),
    ),
    card('7日活跃率', pct(t.activity7), `${num(t.active7)}/${num(t.activeFollows)} 位在册客户`, 'plain'),
    card(
      '欢迎语成功率',
      pct(t.welcomeRate),
      `成功 ${num(t.welcomeSent)} · 失败 ${num(t.welcomeFailed)} · 跳过 ${num(t.welcomeSkipped.no_template + t.welcomeSkipped.code_expired)}（无可用欢迎语 ${num(t.welcomeSkipped.no_template)}，超时未发 ${num(t.welcomeSkipped.code_expired)}）`,
      'plain',
    ),
    card(
      '客户迁移',
      transferTotal ? pct((t.transfers.success ?? 0) / transferTotal) : '—',
      `成功 ${num(t.transfers.success ?? 0)} / 共 ${num(transferTotal)}`,
      'plain',
    ),
  ].join('');

  const reasonKeys = ALLOCATION_REASONS;
  const transferKeys = TRANSFER_STATUSES;
  const tableHead = [
    report.by === 'manager' ? '客户经理' : report.by === 'branch' ? '网点' : '范围',
    '新增',
    '流失',
    '流失率',
    '在册',
    '7日活跃',
    '30日活跃',
    ...reasonKeys.map((k) => REASON_ZH[k]),
    '欢迎语成功率',
    ...transferKeys.map((k) => `迁移${TRANSFER_ZH[k]}`),
  ];
  const tableRow = (r: ReportRow, cls = '') =>
    `<tr class="${cls}"><td>${esc(r.label)}</td>${[
      num(r.adds),
      num(r.churned),
      `<span class="${r.churnRate !== null && r.churnRate > churnMax ? 'miss' : ''}">${pct(r.churnRate)}</span>`,
      num(r.activeFollows),
      pct(r.activity7),
      `<span class="${r.activity30 !== null && r.activity30 < activityMin ? 'miss' : ''}">${pct(r.activity30)}</span>`,
      ...reasonKeys.map((k) => num(r.allocations[k] ?? 0)),
      pct(r.welcomeRate),
      ...transferKeys.map((k) => num(r.transfers[k] ?? 0)),
    ]
      .map((c) => `<td class="n">${c}</td>`)
      .join('')}</tr>`;

  const findings = report.findings.length
    ? `<div class="findings"><b>未达标：</b>${[
        t.churnRate !== null && t.churnRate > churnMax ? `流失率 ${pct(t.churnRate)} 高于 ${churnMax * 100}% 目标` : '',
        t.activity30 !== null && t.activity30 < activityMin
          ? `30日活跃率 ${pct(t.activity30)} 低于 ${activityMin * 100}% 目标`
          : '',
      ]
        .filter(Boolean)
        .map(esc)
        .join('；')}</div>`
    : '<div class="findings ok">流失率与活跃率均达到目标。</div>';

  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>客户经理企业微信运营报告 ${esc(dateText(report.from))} 至 ${esc(dateText(report.to))}</title>
<style>
${REPORT_CSS}</style>
</head>
<body><main>
<h1>客户经理企业微信运营报告</h1>
<div class="meta">统计区间：${esc(dateText(report.from))} 至 ${esc(dateText(report.to))} · ${scope} · 生成时间 ${esc(dateText(generatedAt))}</div>
<section class="cards">${cards}</section>
${findings}
<h2>流失率（目标 ≤ ${churnMax * 100}%）</h2>
${ratioChart('客户删除客户经理人数 ÷ 新增客户数', chartRows, [{ label: '流失率', value: (r) => r.churnRate, color: '#2f6fdb' }], { value: churnMax, label: `目标 ${churnMax * 100}%`, better: 'below' })}
<h2>活跃率（目标 ≥ ${activityMin * 100}%）</h2>
${ratioChart(
  '近 7 日 / 30 日有沟通的客户 ÷ 在册客户',
  chartRows,
  [
    { label: '7日活跃率', value: (r) => r.activity7, color: '#8fb3f0' },
    { label: '30日活跃率', value: (r) => r.activity30, color: '#2f6fdb' },
  ],
  { value: activityMin, label: `目标 ${activityMin * 100}%`, better: 'above' },
)}
${chartNote}
<h2>分配方式</h2>
${mixChart('新客户按哪条规则分配', report.rows.length ? [t, ...chartRows] : [t], reasonKeys, REASON_ZH, (r) => r.allocations)}
<h2>客户迁移结果</h2>
${mixChart('按接替客户经理统计', report.rows.length ? [t, ...chartRows] : [t], transferKeys, TRANSFER_ZH, (r) => r.transfers, TRANSFER_COLORS)}
<h2>明细</h2>
<div class="scroll"><table><thead><tr>${tableHead.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${report.rows.map((r) => tableRow(r)).join('')}${tableRow(t, 'total')}</tbody></table></div>
<p class="defs">口径：新增 = 统计区间内添加客户经理的客户；流失 = 区间内客户主动删除客户经理；在册 = 区间结束时仍为双向好友的客户；
活跃 = 区间结束前 7/30 日内客户经理发送过话术或有聊天记录；欢迎语成功率不含未发送（跳过）的情况；迁移按接替的客户经理统计。</p>
</main></body></html>
`;
}
