import { csvDocument } from '../../server/lib/csv';
import { referrerSubject } from '../../server/referrals/repo';
import { createReferralCode, rankReferrers } from '../../server/referrals/service';
import { oneOf, parseTime } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

/** `referrals create|report` (server/referrals): MGM referral codes and the referrer ranking. */

export async function referralsCreateCommand(
  args: { customerId: string; manager?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const { customer, manager, contact } = await referrerSubject(ctx.db, args.customerId, args.manager);
  if (!customer) throw new UsageError(`no customer ${args.customerId}`);
  const userid = args.manager ?? customer.ownerUserid;
  if (!userid) throw new UsageError(`customer ${args.customerId} has no owner: give --manager <userid>`);
  if (manager?.status !== 'active') throw new UsageError(`no active manager ${userid}`);
  // contact: the referrer's WeCom contact, when linked to one (so a self-scan is recognised).
  const referrer = { customerId: customer.id, externalUserid: contact?.externalUserid ?? null };
  if (!ctx.apply)
    return {
      exitCode: EXIT.ok,
      json: { apply: false, customerId: customer.id, userid },
      output: `${modeLine(ctx)}\nwould make (or reuse) a referral code of ${customer.id} that adds ${userid}`,
    };
  if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
  const made = await createReferralCode(ctx.db, await ctx.wecom(), {
    referrer,
    userid,
    actor: `ops:${ctx.operator}`,
    now: ctx.now(),
  });
  return {
    exitCode: EXIT.ok,
    json: { apply: true, customerId: customer.id, userid, ...made },
    output: [
      modeLine(ctx),
      `${made.created ? 'made' : 'already had'} a referral code of ${customer.id} adding ${userid}`,
      `QR code / link: ${made.qrCode ?? '(none returned)'}`,
    ].join('\n'),
  };
}

export async function referralsReportCommand(
  args: { since?: string; format?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const format = oneOf(args.format ?? 'table', ['table', 'csv', 'json'] as const, 'format');
  const since = args.since ? parseTime(args.since, ctx.now(), 'since') : null;
  const ranks = await rankReferrers(ctx.db, since);
  const header = ['branch', 'rank', 'referrer', 'referred', 'eligible', 'parted', 'rewarded'];
  const cells = ranks.map((r) => [r.branch, r.rank, r.referrer, r.referred, r.eligible, r.parted, r.rewarded]);
  const output =
    format === 'csv'
      ? csvDocument(header, cells, { bom: false })
      : format === 'json'
        ? JSON.stringify(ranks, null, 2)
        : `${ranks.length} referrer(s), ranked within each branch by eligible referred customers\n\n${renderTable(header, cells)}`;
  return { exitCode: EXIT.ok, json: ranks, output };
}
