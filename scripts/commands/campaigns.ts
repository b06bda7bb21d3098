import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { audit } from '../../server/audit/audit';
import { deliverDueRewards } from '../../server/campaigns/delivery';
import { CampaignFileError, parseCampaignSpec } from '../../server/campaigns/file';
import { rewardPoster } from '../../server/campaigns/http';
import * as repo from '../../server/campaigns/repo';
import { specToRow } from '../../server/campaigns/service';
import { CSV_BOM, type CsvValue, csvDocument } from '../../server/lib/csv';
import {
  buildCampaignReport,
  type CampaignReport,
  type CampaignReportMetrics,
  type CampaignReportRow,
} from '../../server/reports/campaigns';
import { formatTime, oneOf } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { percent, renderTable } from './table';

/** `campaigns apply|list|qr|report|rewards|rewards replay` (server/campaigns). */

export async function campaignsApplyCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(args.file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${args.file} as JSON: ${(err as Error).message}`);
  }
  let spec: ReturnType<typeof parseCampaignSpec>;
  try {
    spec = parseCampaignSpec(raw);
  } catch (err) {
    if (err instanceof CampaignFileError) throw new UsageError(err.message);
    throw err;
  }
  const existing = await repo.findCampaign(ctx.db, spec.code);
  const lines = [
    modeLine(ctx),
    `${existing ? 'update' : 'create'} campaign ${spec.code} (${spec.name}): ${formatTime(spec.startsAt)} → ${formatTime(spec.endsAt)}, ` +
      `reward ${spec.reward.kind} ${spec.reward.amount}, ${spec.newCustomersOnly ? 'new customers only' : 'all customers'}, churn flag ${spec.churnFlagDays} d`,
  ];
  if (ctx.apply) {
    const row = specToRow(spec, `ops:${ctx.operator}`, ctx.now());
    await ctx.db.transaction(async (tx) => {
      await repo.saveCampaign(tx, row);
      await audit(tx, {
        actor: `ops:${ctx.operator}`,
        action: existing ? 'campaign.update' : 'campaign.create',
        subject: `campaign:${spec.code}`,
        detail: spec,
      });
    });
  }
  return {
    exitCode: EXIT.ok,
    output: lines.join('\n'),
    json: { apply: ctx.apply, created: !existing, campaign: spec },
  };
}

export async function campaignsListCommand(_args: object, ctx: CommandContext): Promise<CommandResult> {
  const rows = await repo.listCampaigns(ctx.db);
  return {
    exitCode: EXIT.ok,
    json: rows,
    output: renderTable(
      ['code', 'name', 'starts', 'ends', 'reward', 'new only', 'flag days'],
      rows.map((c) => [
        c.code,
        c.name,
        formatTime(c.startsAt),
        formatTime(c.endsAt),
        `${c.rewardKind} ${c.rewardAmount}`,
        c.newCustomersOnly ? 'yes' : '',
        c.churnFlagDays,
      ]),
    ),
  };
}

export interface QrArgs {
  code: string;
  manager?: string;
  branch?: string;
}

/** Per-manager campaign QR codes: a contact way whose row carries the campaign (never a tag). */
export async function campaignsQrCommand(args: QrArgs, ctx: CommandContext): Promise<CommandResult> {
  if (!args.manager === !args.branch) throw new UsageError('give exactly one of --manager <userid> or --branch <code>');
  const campaign = await repo.findCampaign(ctx.db, args.code);
  if (!campaign) throw new UsageError(`no campaign ${args.code} (apply its file first)`);
  const managers = await repo.qrManagers(ctx.db, { userid: args.manager, branch: args.branch });
  if (!managers.length)
    throw new UsageError(args.manager ? `no manager ${args.manager}` : `no active managers at branch ${args.branch}`);
  const made: { userid: string; state: string; configId: string | null; qrCode: string | null }[] = [];
  for (const m of managers) {
    // ≤ 30 characters (WeCom's limit), unguessable: the state alone names the campaign row.
    const state = `cq${randomBytes(12).toString('base64url')}`;
    if (!ctx.apply) {
      made.push({ userid: m.userid, state: '(on --apply)', configId: null, qrCode: null });
      continue;
    }
    if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
    const wecom = await ctx.wecom();
    const way = await wecom.addContactWay({ type: 1, scene: 2, user: [m.userid], state, skip_verify: true });
    await ctx.db.transaction(async (tx) => {
      await repo.insertCampaignContactWay(tx, {
        configId: way.config_id,
        userid: m.userid,
        state,
        campaign: campaign.code,
        qrCode: way.qr_code ?? null,
        createdAt: ctx.now(),
      });
      await audit(tx, {
        actor: `ops:${ctx.operator}`,
        action: 'campaign.qr',
        subject: `campaign:${campaign.code}`,
        detail: { userid: m.userid, configId: way.config_id },
      });
    });
    made.push({ userid: m.userid, state, configId: way.config_id, qrCode: way.qr_code ?? null });
  }
  return {
    exitCode: EXIT.ok,
    json: { apply: ctx.apply, campaign: campaign.code, codes: made },
    output: [
      modeLine(ctx),
      renderTable(
        ['manager', 'state', 'qr code'],
        made.map((x) => [x.userid, x.state, x.qrCode ?? '']),
      ),
    ].join('\n'),
  };
}

export async function campaignsRewardsCommand(
  args: { failed?: boolean; campaign?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const rows = await repo.listRewards(ctx.db, { status: args.failed ? 'dead' : undefined, campaign: args.campaign });
  const view = rows.map((r) => ({
    id: r.id,
    key: r.idempotencyKey,
    campaign: r.campaignCode,
    status: r.status,
    attempts: r.attempts,
    httpStatus: r.httpStatus,
    lastError: r.lastError,
    sentAt: r.sentAt,
  }));
  return {
    exitCode: args.failed && rows.length ? EXIT.findings : EXIT.ok,
    json: view,
    output: `${rows.length} reward request(s)\n\n${renderTable(
      ['id', 'campaign', 'status', 'attempts', 'http', 'last error', 'sent'],
      view.map((r) => [
        r.id,
        r.campaign,
        r.status,
        r.attempts,
        r.httpStatus ?? '',
        r.lastError ?? '',
        formatTime(r.sentAt),
      ]),
    )}`,
  };
}

/** Dead-lettered rewards back to pending (same idempotency key: the bank never pays twice). */
export async function campaignsReplayCommand(args: { campaign?: string }, ctx: CommandContext): Promise<CommandResult> {
  const dead = await repo.listRewards(ctx.db, { status: 'dead', campaign: args.campaign, limit: 100_000 });
  let replayed = 0;
  if (ctx.apply && dead.length) {
    await ctx.db.transaction(async (tx) => {
      replayed = await repo.replayDeadRewards(
        tx,
        dead.map((d) => d.id),
        ctx.now(),
      );
      await audit(tx, {
        actor: `ops:${ctx.operator}`,
        action: 'reward.replay',
        subject: 'rewards',
        detail: { ids: dead.map((d) => d.id) },
      });
    });
  }
  return {
    exitCode: EXIT.ok,
    json: { apply: ctx.apply, dead: dead.length, replayed },
    output: `${modeLine(ctx)}\n${dead.length} dead reward request(s)${ctx.apply ? `, ${replayed} queued again` : ' would be queued again'}`,
  };
}

const METRIC_HEADERS = [
  'adds',
  'eligible',
  'rewards sent',
  'failed',
  'pending',
  'retention 7d',
  'retention 30d',
  'flagged',
] as const;

const metricCells = (m: CampaignReportMetrics) => [
  m.adds,
  m.eligible,
  m.rewardsSent,
  m.rewardsFailed,
  m.rewardsPending,
  m.cohort7 ? `${percent(m.retention7)} (${m.retained7}/${m.cohort7})` : '—',
  m.cohort30 ? `${percent(m.retention30)} (${m.retained30}/${m.cohort30})` : '—',
  m.flagged,
];

export function campaignReportTable(r: CampaignReport): string {
  const section = (title: string, rows: CampaignReportRow[]) =>
    `${title}\n${renderTable(
      [title === 'by day' ? 'day' : title === 'by branch' ? 'branch' : 'channel', ...METRIC_HEADERS],
      rows.map((x) => [x.key, ...metricCells(x)]),
    )}`;
  const ineligible = Object.entries(r.ineligible)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `campaign ${r.campaign.code} (${r.campaign.name}): ${formatTime(r.campaign.startsAt)} → ${formatTime(r.campaign.endsAt)}, as of ${formatTime(r.asOf)}; churn flag ${r.campaign.churnFlagDays} d`,
    '',
    renderTable(['', ...METRIC_HEADERS], [['total', ...metricCells(r.total)]]),
    `not eligible: ${ineligible || 'none'}`,
    '',
    section('by day', r.byDay),
    '',
    section('by branch', r.byBranch),
    '',
    section('by channel', r.byChannel),
    '',
    `flagged: deleted the manager within ${r.campaign.churnFlagDays} days (${r.flaggedCustomers.length})`,
    r.flaggedCustomers.length
      ? renderTable(
          ['customer', 'contact', 'manager', 'branch', 'added', 'deleted', 'after days'],
          r.flaggedCustomers.map((f) => [
            f.customerId ?? '',
            f.externalUserid,
            f.userid,
            f.branch ?? '',
            formatTime(f.addedAt),
            formatTime(f.deletedAt),
            f.afterDays,
          ]),
        )
      : '(none)',
    '',
    ...r.definitions.map((d) => `definition: ${d}`),
  ].join('\n');
}

const ratio = (x: number | null) => (x === null ? null : Number(x.toFixed(4)));

/** One CSV: a row per day, branch, channel and the total; then one row per flagged customer. */
export function campaignReportCsv(r: CampaignReport): string {
  const header = [
    'section',
    'key',
    'adds',
    'eligible',
    'rewards_sent',
    'rewards_failed',
    'rewards_pending',
    'cohort_7d',
    'retained_7d',
    'retention_7d',
    'cohort_30d',
    'retained_30d',
    'retention_30d',
    'flagged',
    'customer_id',
    'manager',
    'branch',
    'added_at',
    'deleted_at',
  ];
  const line = (section: string, key: string, m: CampaignReportMetrics): CsvValue[] => [
    section,
    key,
    m.adds,
    m.eligible,
    m.rewardsSent,
    m.rewardsFailed,
    m.rewardsPending,
    m.cohort7,
    m.retained7,
    ratio(m.retention7),
    m.cohort30,
    m.retained30,
    ratio(m.retention30),
    m.flagged,
    null,
    null,
    null,
    null,
    null,
  ];
  const rows: CsvValue[][] = [
    line('total', r.campaign.code, r.total),
    ...r.byDay.map((x) => line('day', x.key, x)),
    ...r.byBranch.map((x) => line('branch', x.key, x)),
    ...r.byChannel.map((x) => line('channel', x.key, x)),
    ...r.flaggedCustomers.map((f) => [
      'flagged',
      f.externalUserid,
      ...Array(11).fill(null),
      1,
      f.customerId,
      f.userid,
      f.branch,
      new Date(f.addedAt).toISOString(),
      new Date(f.deletedAt).toISOString(),
    ]),
  ];
  return csvDocument(header, rows, { bom: false });
}

/** `campaigns report <code> [--format table|csv|json] [--out file]`. */
export async function campaignsReportCommand(
  args: { code: string; format?: string; out?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const format = oneOf(args.format ?? 'table', ['table', 'csv', 'json'] as const, 'format');
  const report = await buildCampaignReport(ctx.db, args.code, ctx.now());
  if (!report) throw new UsageError(`no campaign ${args.code}`);
  const body =
    format === 'csv'
      ? campaignReportCsv(report)
      : format === 'json'
        ? JSON.stringify(report, null, 2)
        : campaignReportTable(report);
  if (args.out) {
    // A BOM lets Excel on Chinese Windows open the UTF-8 CSV without garbling.
    writeFileSync(args.out, format === 'csv' ? `${CSV_BOM}${body}` : body);
    return { exitCode: EXIT.ok, json: { ...report, out: args.out }, output: `${format} report written to ${args.out}` };
  }
  return { exitCode: EXIT.ok, json: report, output: body };
}

/**
 * `campaigns rewards deliver [--apply]`: what the reward-delivery job does, run now from this
 * process (plain HTTP to REWARD_WEBHOOK_URL). Safe beside running servers: rows are claimed in
 * batches under a lease that concurrent senders skip, and a claim left by a killed sender expires
 * after --lease-seconds.
 */
export async function campaignsDeliverCommand(
  args: { leaseSeconds?: string; limit?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const r = ctx.config.rewards;
  const leaseSeconds = Number(args.leaseSeconds ?? 60);
  // Longer than the POST timeout (10 s): a live sender's claim never expires under it.
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 15 || leaseSeconds > 3600)
    throw new UsageError('--lease-seconds must be a whole number, 15–3600');
  const limit = Number(args.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be 1–100000');
  if (!r.url) throw new UsageError('REWARD_WEBHOOK_URL is not set: rewards wait in the outbox');
  const due = await repo.dueRewardIds(ctx.db, ctx.now(), limit);
  if (!ctx.apply)
    return {
      exitCode: EXIT.ok,
      json: { apply: false, due: due.length },
      output: `${modeLine(ctx)}\n${due.length} reward request(s) due`,
    };
  const res = await deliverDueRewards(ctx.db, {
    url: r.url,
    secret: r.secret,
    maxAttempts: r.maxAttempts,
    holder: `ops:${ctx.operator}:${randomUUID().slice(0, 8)}`.slice(0, 64),
    now: ctx.now,
    post: rewardPoster(undefined),
    limit,
    leaseMs: leaseSeconds * 1000,
  });
  return {
    exitCode: res.dead ? EXIT.findings : EXIT.ok,
    json: { apply: true, due: due.length, ...res },
    output: `${modeLine(ctx)}\n${due.length} due: ${res.sent} sent, ${res.retried} to retry, ${res.dead} dead-lettered`,
  };
}
