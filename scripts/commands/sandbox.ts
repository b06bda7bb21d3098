import {
  type SimResult,
  type SimulatorTarget,
  simulateAddContact,
  simulateCustomerDeletesManager,
  simulateManagerDeletesCustomer,
  simulateTagChanged,
  simulateTextMessage,
  simulateTransferRefused,
} from '../../server/sandbox/simulator';
import { type CommandContext, type CommandResult, EXIT, UsageError } from './context';
import { renderTable } from './table';

/**
 * `sandbox <action>`: drives the WeCom sandbox of a running demo server (`--server`, default
 * PUBLIC_BASE_URL): the action runs inside that server, which signs and delivers the callback
 * to its own /wecom/callback exactly as WeCom would. Tests pass the app in-process instead.
 */

export type SandboxAction =
  | 'add-contact'
  | 'delete-contact'
  | 'manager-deletes-customer'
  | 'transfer-refused'
  | 'tag-changed'
  | 'text-message';

export interface SandboxArgs {
  action: SandboxAction;
  server?: string;
  /** In-process target (tests); the CLI passes --server. */
  target?: SimulatorTarget;
  userid?: string;
  externalUserid?: string;
  name?: string;
  state?: string;
  welcomeCode?: boolean;
  half?: boolean;
  phone?: string;
  byTransfer?: boolean;
  takeover?: string;
  reason?: 'customer_refused' | 'customer_limit_exceed';
  change?: 'create' | 'update' | 'delete';
  tagId?: string;
  groupId?: string;
  content?: string;
}

function need<T>(value: T | undefined, option: string): T {
  if (value === undefined || value === '') throw new UsageError(`${option} is required for this action`);
  return value;
}

async function simulate(target: SimulatorTarget, a: SandboxArgs): Promise<SimResult> {
  switch (a.action) {
    case 'add-contact':
      return simulateAddContact(target, {
        userid: need(a.userid, '--userid'),
        externalUserId: a.externalUserid,
        name: a.name,
        state: a.state,
        welcomeCode: a.welcomeCode,
        half: a.half,
        phone: a.phone,
      });
    case 'delete-contact':
      return simulateCustomerDeletesManager(target, {
        userid: need(a.userid, '--userid'),
        externalUserId: need(a.externalUserid, '--external-userid'),
      });
    case 'manager-deletes-customer':
      return simulateManagerDeletesCustomer(target, {
        userid: need(a.userid, '--userid'),
        externalUserId: need(a.externalUserid, '--external-userid'),
        byTransfer: a.byTransfer,
      });
    case 'transfer-refused':
      return simulateTransferRefused(target, {
        takeoverUserid: need(a.takeover, '--takeover'),
        externalUserId: need(a.externalUserid, '--external-userid'),
        reason: a.reason,
      });
    case 'tag-changed':
      return simulateTagChanged(target, {
        changeType: need(a.change, '--change'),
        tagId: a.tagId,
        name: a.name,
        groupId: a.groupId,
      });
    case 'text-message':
      return simulateTextMessage(target, { userid: need(a.userid, '--userid'), content: need(a.content, '--content') });
    default:
      throw new UsageError(`unknown sandbox action ${String(a.action)}`);
  }
}

export async function sandboxCommand(args: SandboxArgs, ctx: CommandContext): Promise<CommandResult> {
  if (!ctx.config.wecom.sandbox)
    throw new UsageError('sandbox commands need the sandbox (WECOM_SANDBOX=true, no real credentials)');
  const target = args.target ?? args.server ?? ctx.config.publicBaseUrl;
  let res: SimResult;
  try {
    res = await simulate(target, args);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const e = err as Error & { code?: string; statusCode?: number };
    if (e.code === 'ECONNREFUSED')
      throw new UsageError(`no sandbox server at ${String(target)} (start it with npm run dev)`);
    if (e.statusCode === 400 || /failed:/.test(e.message)) throw new UsageError(e.message);
    throw err;
  }
  const ok = res.status === 200;
  const output = [
    renderTable(
      ['action', 'callback', 'external_userid', 'userid', 'note'],
      [
        [
          res.action,
          `${res.status} ${res.body.slice(0, 20)}`,
          res.externalUserId ?? '',
          res.userid ?? '',
          res.note ?? '',
        ],
      ],
    ),
    ok
      ? 'delivered: the server stores it in the inbox and its worker processes it.'
      : 'the callback route did not accept the event.',
  ].join('\n');
  return { exitCode: ok ? EXIT.ok : EXIT.findings, json: res, output };
}
