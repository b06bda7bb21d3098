import { countManagers, findBranch } from '../../server/allocation/repo';
import { audit } from '../../server/audit/audit';
import * as repo from '../../server/groups/repo';
import { fetchGroupStats, syncGroups } from '../../server/groups/sync';
import type { WecomApi } from '../../server/wecom/api-types';
import { formatTime, parsePositiveInt } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

/** `groups sync|list|set-purpose|stats`: the customer-group registry (server/groups). */

function wecomOf(ctx: CommandContext): Promise<WecomApi> {
  if (!ctx.wecom) throw new UsageError('no WeCom API configured for this command');
  return ctx.wecom();
}

export interface GroupsSyncArgs {
  owner?: string[];
}

/** Reads every manager's groups from WeCom; dry run shows what would change, --apply writes. */
export async function groupsSyncCommand(args: GroupsSyncArgs, ctx: CommandContext): Promise<CommandResult> {
  const wecom = await wecomOf(ctx);
  const total = args.owner?.length || (await countManagers(ctx.db));
  const bar = ctx.progress('groups', Math.max(total, 1), 'owners');
  const s = await syncGroups(ctx.db, wecom, {
    now: ctx.now(),
    apply: ctx.apply,
    actor: `ops:${ctx.operator}`,
    owners: args.owner,
    onProgress: (done) => bar.update(done),
  });
  bar.stop();
  const lines = [
    modeLine(ctx),
    `owners ${s.owners} · groups ${s.groups} · new ${s.newGroups} · changed ${s.changedGroups} · joins ${s.joins} · quits ${s.quits} · dismissed ${s.dismissed}${s.failed ? ` · failed ${s.failed}` : ''}`,
  ];
  if (s.changes.length) {
    lines.push(
      '',
      renderTable(
        ['chat_id', 'owner', 'branch', 'new', 'joins', 'quits'],
        s.changes
          .slice(0, 200)
          .map((c) => [c.chatId, c.owner, c.branchCode ?? '', c.isNew ? 'yes' : '', c.joins, c.quits]),
      ),
    );
    if (s.changes.length > 200) lines.push(`… and ${s.changes.length - 200} more (use --json)`);
  }
  return { exitCode: s.failed ? EXIT.findings : EXIT.ok, output: lines.join('\n'), json: { apply: ctx.apply, ...s } };
}

export interface GroupsListArgs {
  branch?: string;
  owner?: string;
  all?: boolean;
}

export async function groupsListCommand(args: GroupsListArgs, ctx: CommandContext): Promise<CommandResult> {
  if (args.branch && !(await findBranch(ctx.db, args.branch))) {
    throw new UsageError(`--branch "${args.branch}" is not a known branch code`);
  }
  const groups = await repo.listGroups(ctx.db, {
    branchCode: args.branch,
    ownerUserid: args.owner,
    includeDismissed: args.all,
  });
  const table = renderTable(
    ['chat_id', 'name', 'branch', 'owner', 'purpose', 'customers', 'members', 'synced', 'dismissed'],
    groups.map((g) => [
      g.chatId,
      g.name,
      g.branchCode ?? '',
      g.ownerUserid,
      g.purpose ?? '',
      g.customerCount,
      g.memberCount,
      formatTime(g.syncedAt),
      formatTime(g.dismissedAt),
    ]),
  );
  return {
    exitCode: EXIT.ok,
    output: `${groups.length} group(s)\n\n${table}`,
    json: groups,
  };
}

/** A purpose is a short label operators choose (SOP audiences select groups by it). */
export const PURPOSE_PATTERN = /^[\p{L}\p{N}_-]{1,32}$/u;

export interface SetPurposeArgs {
  chatId: string;
  purpose?: string;
  clear?: boolean;
}

export async function groupsSetPurposeCommand(args: SetPurposeArgs, ctx: CommandContext): Promise<CommandResult> {
  if (!args.clear && (!args.purpose || !PURPOSE_PATTERN.test(args.purpose))) {
    throw new UsageError(
      'purpose must be 1–32 letters, digits, "_" or "-" (e.g. 网点客户维护 or wealth_salon), or use --clear',
    );
  }
  const group = await repo.findGroup(ctx.db, args.chatId);
  if (!group) throw new UsageError(`no customer group ${args.chatId} (run \`groups sync --apply\` first?)`);
  const purpose = args.clear ? null : (args.purpose as string);
  const lines = [
    modeLine(ctx),
    `${group.chatId} (${group.name}): purpose ${group.purpose ?? '(none)'} → ${purpose ?? '(none)'}`,
  ];
  if (ctx.apply && group.purpose !== purpose) {
    await ctx.db.transaction(async (tx) => {
      await repo.setPurpose(tx, group.chatId, purpose, ctx.now());
      await audit(tx, {
        actor: `ops:${ctx.operator}`,
        action: 'group.purpose',
        subject: `group:${group.chatId}`,
        detail: { from: group.purpose, to: purpose },
      });
    });
  }
  return {
    exitCode: EXIT.ok,
    output: lines.join('\n'),
    json: { apply: ctx.apply, chatId: group.chatId, from: group.purpose, to: purpose },
  };
}

export interface GroupsStatsArgs {
  days?: string;
}

/** Fetches daily statistics per group owner (the nightly job does yesterday; this backfills). */
export async function groupsStatsCommand(args: GroupsStatsArgs, ctx: CommandContext): Promise<CommandResult> {
  const days = args.days ? parsePositiveInt(args.days, 'days', 180) : 1;
  const owners = await repo.groupOwners(ctx.db);
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\nwould fetch ${days} day(s) of statistics for ${owners.length} group owner(s)`,
      json: { apply: false, owners: owners.length, days },
    };
  }
  const res = await fetchGroupStats(ctx.db, await wecomOf(ctx), { now: ctx.now(), days, owners });
  return {
    exitCode: res.failed ? EXIT.findings : EXIT.ok,
    output: `${modeLine(ctx)}\nowners ${res.owners} · days stored ${res.rows}${res.failed ? ` · failed ${res.failed}` : ''}`,
    json: { apply: true, days, ...res },
  };
}
