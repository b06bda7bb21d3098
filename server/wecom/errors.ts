import type { WecomErrorInfo, WecomErrorKind } from './api-types';

/**
 * The errcode policy, in one place (PROTOCOL.md §5). The client looks up every non-zero errcode
 * here and does exactly what the rule says; callers only ever see `WecomApiError.kind`.
 */

export type WecomAction =
  /** Drop the cached access token, fetch a new one, retry the call once. */
  | 'refresh'
  /** Retry with exponential backoff and jitter, a bounded number of times. */
  | 'backoff'
  /** Give up at once. */
  | 'fail';

export interface ErrcodeRule {
  action: WecomAction;
  kind: WecomErrorKind;
  /** What an operator has to change (config errors), shown in the error message and the log. */
  fix?: (errmsg: string, api: string) => string;
}

/** Network errors and 5xx answers have no errcode; the client reports them with these pseudo codes. */
export const NETWORK_ERRCODE = -100;
export const HTTP_ERRCODE = -101;
/** The client-side rate limiter refused to wait any longer (the call never left the process). */
export const LOCAL_LIMIT_ERRCODE = -102;

const ADMIN = '企业微信管理后台 (work.weixin.qq.com/wework_admin)';

/** WeCom's 60020 message ends with "from ip: 1.2.3.4, more info at …". */
export function ipFromErrmsg(errmsg: string): string | undefined {
  const m = /from ip:?\s*([0-9a-fA-F:.]+[0-9a-fA-F])/i.exec(errmsg);
  return m?.[1];
}

const config = (fix: (errmsg: string, api: string) => string): ErrcodeRule => ({ action: 'fail', kind: 'config', fix });
const data: ErrcodeRule = { action: 'fail', kind: 'data' };
const final: ErrcodeRule = { action: 'fail', kind: 'final' };
const backoff: ErrcodeRule = { action: 'backoff', kind: 'retryable' };
const refresh: ErrcodeRule = { action: 'refresh', kind: 'retryable' };

const RULES: Record<number, ErrcodeRule> = {
  [-1]: backoff, // system busy
  [NETWORK_ERRCODE]: backoff,
  [HTTP_ERRCODE]: backoff,
  45009: backoff, // frequency limit
  45033: backoff, // too many concurrent calls to one API
  41096: backoff, // another app is sending this welcome message right now
  40014: refresh, // invalid access_token
  42001: refresh, // expired access_token
  40001: refresh, // on gettoken this is a bad secret, see GETTOKEN_RULES
  40013: config(
    () => `WeCom rejected the corp id (40013): set WECOM_CORP_ID to the 企业ID shown in ${ADMIN} → 我的企业 → 企业信息`,
  ),
  48002: config(
    (_m, api) =>
      `WeCom refused ${api} for this app (48002, API not permitted): in ${ADMIN} add the self-built app under ` +
      "客户与上下游 → 客户联系 → API → 可调用接口的应用, and check the app's visible range (可见范围) covers the managers",
  ),
  48009: config(
    () =>
      `WeCom refused the address-book secret from a new IP (48009): in ${ADMIN} → 管理工具 → 通讯录同步, ` +
      "add this server's egress IP to the trusted IPs, or use the app secret instead",
  ),
  60020: config((errmsg) => {
    const ip = ipFromErrmsg(errmsg);
    return (
      `WeCom rejected the call from ${ip ? `IP ${ip}` : "this server's IP"} (60020): in ${ADMIN} → 应用管理 → ` +
      `(the self-built app) → 企业可信IP, add ${ip ?? "the server's egress IP"}; it takes about a minute to apply`
    );
  }),
  50001: config(
    () =>
      `WeCom rejected the redirect/page domain (50001): in ${ADMIN} → 应用管理 → (the self-built app) → ` +
      '网页授权及JS-SDK, set the 可信域名 to the host of PUBLIC_BASE_URL (exact host and port)',
  ),
  41001: { action: 'fail', kind: 'unknown' }, // access_token missing: a bug in this client
  40029: { action: 'fail', kind: 'auth' },
  40003: data,
  40058: data, // invalid parameter
  40068: data, // invalid tag id
  40071: data, // tag name already exists
  40096: data,
  40097: data, // handover member has not resigned
  40098: data, // takeover member not activated / not allowed
  60011: data,
  60111: data,
  84061: data,
  81017: {
    action: 'fail',
    kind: 'data',
    fix: () => 'WeCom refused groupchat/list without owner_filter (81017): the request must name at most 100 owners',
  },
  40050: data, // chat_id does not exist (dismissed group)
  90500: data, // group owner has not resigned (wrong transfer API)
  90501: data, // not a customer group
  90502: data, // group owner already resigned
  90509: data, // not a WeCom customer group
  90507: backoff, // resigned-owner group transfer still running
  90508: final, // resigned-owner group transfer already done
  41051: final, // welcome message already sent / chat started / code expired
  // Mass messaging and moments (PROTOCOL-SOP.md §3.5, §4): the SOP delivery job decides on these.
  41048: data, // no sendable customer (all filtered, not friends, or over the cap)
  41063: { action: 'fail', kind: 'retryable' }, // task still being dispatched: query again on the next poll
  41078: { action: 'fail', kind: 'retryable' }, // too many moment jobs running
  41079: { action: 'fail', kind: 'retryable' }, // moment still being dispatched
  41093: final, // the mass task was already cancelled
  41094: final, // reminder frequency exceeded (3 per 24 h)
  41064: data, // too many attachments
  41065: data, // invalid attachment type
  41089: data, // moment text and attachments both empty
  40128: final, // transfer limit reached
  40129: final, // customer already in a transfer
  40100: final, // member already in a transfer
};

/** On gettoken, 40001 means the secret is wrong: refreshing can't help (and repeated tries get the IP blocked). */
const GETTOKEN_RULES: Record<number, ErrcodeRule> = {
  40001: config(
    () =>
      `WeCom rejected the app secret (40001 on gettoken): copy the Secret of the self-built app from ${ADMIN} → ` +
      '应用管理 → (the app) → Secret into WECOM_AGENT_SECRET (and WECOM_CONTACT_SECRET if set); repeated failures get the IP blocked for an hour',
  ),
};

const UNKNOWN: ErrcodeRule = { action: 'fail', kind: 'unknown' };

export function ruleFor(api: string, errcode: number): ErrcodeRule {
  if (api === 'gettoken') return GETTOKEN_RULES[errcode] ?? RULES[errcode] ?? UNKNOWN;
  return RULES[errcode] ?? UNKNOWN;
}

export class WecomApiError extends Error implements WecomErrorInfo {
  readonly api: string;
  readonly errcode: number;
  readonly errmsg: string;
  readonly kind: WecomErrorKind;

  constructor(info: WecomErrorInfo & { kind: WecomErrorKind; message?: string }) {
    super(info.message ?? `WeCom ${info.api} failed: ${info.errcode} ${info.errmsg}`);
    this.name = 'WecomApiError';
    this.api = info.api;
    this.errcode = info.errcode;
    this.errmsg = info.errmsg;
    this.kind = info.kind;
  }
}

/** Builds the error the caller sees after the policy has run its course. */
export function toError(api: string, errcode: number, errmsg: string, rule: ErrcodeRule): WecomApiError {
  const message = rule.fix
    ? rule.fix(errmsg, api)
    : rule.kind === 'unknown'
      ? `WeCom ${api} returned errcode ${errcode} that this client does not know (${errmsg}); not retried`
      : undefined;
  return new WecomApiError({ api, errcode, errmsg, kind: rule.kind, message });
}

export const isWecomApiError = (e: unknown): e is WecomApiError => e instanceof WecomApiError;

/**
 * The one reading of a WeCom error for feature code: the client's classification, or 'unknown'
 * with no errcode for anything that is not a WeCom API error (a bug, a DB error …).
 */
export function wecomErrorInfo(err: unknown): { kind: WecomErrorKind; errcode: number | null } {
  return isWecomApiError(err) ? { kind: err.kind, errcode: err.errcode } : { kind: 'unknown', errcode: null };
}

export const ERR_WELCOME_ALREADY_SENT = 41051;
export const ERR_NO_SENDABLE = 41048;
export const ERR_TASK_DISPATCHING = 41063;
export const ERR_TASK_CANCELLED = 41093;
export const ERR_REMIND_LIMIT = 41094;
export const ERR_TRANSFER_LIMIT = 40128;
export const ERR_ALREADY_IN_TRANSFER = [40129, 40100];
