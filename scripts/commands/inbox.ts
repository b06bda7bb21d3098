import { audit } from '../../server/audit/audit';
import {
  eventType,
  getInboxEvent,
  inboxStats,
  isPurged,
  listInbox,
  replayInbox,
} from '../../server/callback/inbox-repo';
import type { InboxStatus } from '../../server/db/entities';
import { formatTime, oneOf, parsePositiveInt } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

const STATUSES: readonly InboxStatus[] = ['pending', 'processing', 'done', 'dead', 'unhandled', 'malformed'];

/** `inbox stats`: counts per status; exit 1 when dead or malformed events wait for an operator. */
export async function inboxStatsCommand(_args: object, ctx: CommandContext): Promise<CommandResult> {
  const stats = await inboxStats(ctx.db);
  const needsAttention = stats.dead + stats.malformed;
  const output = [
    renderTable(
      ['status', 'events'],
      STATUSES.map((s) => [s, stats[s]]),
    ),
    '',
    needsAttention
      ? `${stats.dead} dead and ${stats.malformed} malformed events: see \`inbox list --status dead\`, then \`inbox replay\`.`
      : 'no dead or malformed events.',
  ].join('\n');
  return { exitCode: needsAttention ? EXIT.findings : EXIT.ok, json: stats, output };
}

export interface InboxListArgs {
  status?: string;
  limit?: string;
}

/** `inbox list [--status dead] [--limit 50]`: newest first; the payload is never printed (it holds customer data). */
export async function inboxListCommand(args: InboxListArgs, ctx: CommandContext): Promise<CommandResult> {
  const status = args.status ? oneOf(args.status, STATUSES, 'status') : undefined;
  const limit = args.limit ? parsePositiveInt(args.limit, 'limit', 10_000) : 50;
  const items = await listInbox(ctx.db, { status, limit });
  const output = items.length
    ? renderTable(
        ['id', 'status', 'type', 'attempts', 'received', 'payload', 'last error'],
        items.map((i) => [
          i.id,
          i.status,
          i.type,
          i.attempts,
          formatTime(i.receivedAt),
          i.payloadPurged ? 'purged' : 'kept',
          (i.lastError ?? '').slice(0, 80),
        ]),
      )
    : `no ${status ?? ''} events.`.replace('  ', ' ');
  const purged = items.filter((i) => i.payloadPurged && i.status !== 'done').length;
  const note = purged
    ? `\n${purged} of these failed events had their payload purged (older than INBOX_RETENTION_DAYS=${ctx.config.inbox.retentionDays} days): they cannot be replayed; WeCom's own records are the source now.`
    : '';
  return { exitCode: EXIT.ok, json: items, output: output + note };
}

export interface InboxReplayArgs {
  id?: string;
  allDead?: boolean;
}

/**
 * `inbox replay <id> | --all-dead`: puts failed events back in the queue for the worker (dry run
 * by default: shows what would be re-queued). The worker of a running server picks them up.
 */
export async function inboxReplayCommand(args: InboxReplayArgs, ctx: CommandContext): Promise<CommandResult> {
  if (!args.id === !args.allDead) throw new UsageError('give either an event id or --all-dead');
  let candidates: { id: number; status: string; type: string }[];
  let skippedPurged = 0;
  if (args.id) {
    const id = parsePositiveInt(args.id, 'id', Number.MAX_SAFE_INTEGER);
    const ev = await getInboxEvent(ctx.db, id);
    if (!ev) throw new UsageError(`inbox event ${id} does not exist`);
    if (!['dead', 'unhandled', 'malformed'].includes(ev.status)) {
      return {
        exitCode: EXIT.findings,
        json: {
          replayed: 0,
          id,
          status: ev.status,
          reason: 'only dead, unhandled or malformed events can be replayed',
        },
        output: `event ${id} is ${ev.status}: only dead, unhandled or malformed events can be replayed.`,
      };
    }
    if (isPurged(ev)) {
      const reason = `its payload was purged (events are kept ${ctx.config.inbox.retentionDays} days, INBOX_RETENTION_DAYS)`;
      return {
        exitCode: EXIT.findings,
        json: { replayed: 0, id, status: ev.status, reason: 'payload_purged' },
        output: `event ${id} (${eventType(ev)}, ${ev.status}) cannot be replayed: ${reason}. Its metadata and last error stay visible in \`inbox list\`.`,
      };
    }
    candidates = [{ id, status: ev.status, type: eventType(ev) }];
  } else {
    const dead = await listInbox(ctx.db, { status: 'dead', limit: 100_000 });
    skippedPurged = dead.filter((i) => i.payloadPurged).length;
    candidates = dead
      .filter((i) => !i.payloadPurged)
      .map((i) => ({
        id: i.id,
        status: i.status,
        type: i.type,
      }));
  }
  let replayed = 0;
  if (ctx.apply && candidates.length) {
    replayed = await replayInbox(ctx.db, args.id ? { id: candidates[0].id } : { allDead: true }, ctx.now());
    await audit(ctx.db, {
      actor: ctx.operator,
      action: 'inbox.replay',
      subject: args.id ? `inbox:${args.id}` : 'inbox:all-dead',
      detail: { replayed, ids: candidates.slice(0, 200).map((c) => c.id) },
    });
  }
  const lines = [modeLine(ctx)];
  if (candidates.length) {
    lines.push(
      renderTable(
        ['id', 'status', 'type'],
        candidates.slice(0, 50).map((c) => [c.id, c.status, c.type]),
      ),
    );
    if (candidates.length > 50) lines.push(`… and ${candidates.length - 50} more`);
  }
  lines.push(
    ctx.apply
      ? `${replayed} events re-queued as pending; the worker retries them with a fresh attempt budget.`
      : `${candidates.length} events would be re-queued.`,
  );
  if (skippedPurged) {
    lines.push(
      `${skippedPurged} dead events are past INBOX_RETENTION_DAYS (${ctx.config.inbox.retentionDays} days): their payload was purged, they cannot be replayed.`,
    );
  }
  return {
    exitCode: EXIT.ok,
    json: {
      applied: ctx.apply,
      candidates: candidates.length,
      replayed,
      ids: candidates.map((c) => c.id),
      skippedPurged,
    },
    output: lines.join('\n'),
  };
}
