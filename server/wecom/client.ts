import axios, { AxiosAdapter, AxiosInstance } from 'axios';
import type {
  CorpTagGroup,
  ExternalContactDetail,
  GroupChatDetail,
  GroupChatListItem,
  GroupMsgListItem,
  GroupMsgSendItem,
  GroupMsgTaskItem,
  GroupStatData,
  MomentListItem,
  TransferResultItem,
  WecomApi,
} from './api-types';
import { HTTP_ERRCODE, LOCAL_LIMIT_ERRCODE, NETWORK_ERRCODE, ruleFor, toError, WecomApiError } from './errors';
import { RateLimitExceeded, RateLimiter, RateLimiterOptions } from './rate-limit';
import { cacheKey, SecretStore, TokenCache, TokenCacheOptions } from './token-cache';

/** The slice of app.log the client uses (pino/fastify loggers fit). */
export interface ClientLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The slice of app.metrics the client uses. */
export interface ClientMetrics {
  apiCalls: { inc(labels: { api: string; errcode: string }): void };
  apiDuration: { observe(labels: { api: string }, seconds: number): void };
}

export interface RetryPolicy {
  /** Extra attempts for busy/frequency/network errors (the first attempt is not counted). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface WecomClientOptions {
  corpId: string;
  agentId: string;
  agentSecret: string;
  /** Customer-contact secret; defaults to the agent secret (PROTOCOL.md §5). */
  contactSecret?: string;
  apiBase: string;
  store: SecretStore;
  metrics?: ClientMetrics;
  log?: ClientLog;
  now?: () => number;
  /** Injected so policy tests never wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Custom axios adapter (the sandbox dispatches through app.inject). */
  adapter?: AxiosAdapter;
  limiter?: RateLimiter | RateLimiterOptions;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  tokenCache?: Partial<Omit<TokenCacheOptions, 'store'>>;
}

type Auth = 'agent' | 'contact' | 'none';
type Query = Record<string, string | number | undefined>;
interface Request {
  method: 'GET' | 'POST';
  query?: Query;
  body?: unknown;
  auth: Auth;
  /**
   * The call creates something WeCom has no idempotency key for (add_msg_template,
   * add_moment_task): after a network or HTTP error the request may have been carried out, so it
   * is not retried here; the caller looks it up before trying again (server/sop).
   */
  creates?: true;
}
type Answer = Record<string, unknown> & { errcode?: number; errmsg?: string };

const silent: ClientLog = { info() {}, warn() {}, error() {} };

/**
 * The WeCom server API over axios (PROTOCOL.md §5): tokens from the shared cache, the errcode
 * policy of errors.ts, a per-API rate limiter, metrics and duration logs per call. Tokens travel in
 * the query string only and are never logged (the log carries api, errcode and duration).
 */
export class WecomClient implements WecomApi {
  readonly http: AxiosInstance;
  readonly tokens: TokenCache;
  readonly limiter: RateLimiter;
  private readonly o: WecomClientOptions;
  private readonly retry: RetryPolicy;
  private readonly log: ClientLog;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(opts: WecomClientOptions) {
    this.o = opts;
    this.log = opts.log ?? silent;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.retry = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5_000, ...opts.retry };
    this.http = axios.create({
      baseURL: opts.apiBase,
      timeout: opts.timeoutMs ?? 10_000,
      adapter: opts.adapter,
      validateStatus: () => true,
      // WeCom ids and msgids can exceed 2^53 but arrive as strings; plain JSON is fine.
      responseType: 'json',
      headers: { 'Content-Type': 'application/json' },
    });
    this.tokens = new TokenCache({ now: this.now, sleep: this.sleep, ...opts.tokenCache, store: opts.store });
    this.limiter =
      opts.limiter instanceof RateLimiter
        ? opts.limiter
        : new RateLimiter({ now: this.now, sleep: this.sleep, ...opts.limiter });
  }

  private secret(auth: Exclude<Auth, 'none'>): string {
    return auth === 'contact' ? (this.o.contactSecret ?? this.o.agentSecret) : this.o.agentSecret;
  }

  /** Access token for a secret, from the shared cache (one gettoken across processes). */
  accessToken(auth: Exclude<Auth, 'none'>): Promise<string> {
    const secret = this.secret(auth);
    return this.tokens.get(cacheKey('token', this.o.corpId, secret), async () => {
      const r = await this.call('gettoken', {
        method: 'GET',
        auth: 'none',
        query: { corpid: this.o.corpId, corpsecret: secret },
      });
      return { value: String(r.access_token), expiresIn: Number(r.expires_in ?? 7200) };
    });
  }

  private tokenKey(auth: Exclude<Auth, 'none'>) {
    return cacheKey('token', this.o.corpId, this.secret(auth));
  }

  /** Exponential backoff with equal jitter: half fixed, half random, capped. */
  backoffMs(attempt: number): number {
    const d = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
    return Math.round(d / 2 + this.random() * (d / 2));
  }

  /** One HTTP exchange; never throws: transport problems come back as pseudo errcodes. */
  private async once(
    api: string,
    req: Request,
    token?: string,
  ): Promise<{ errcode: number; errmsg: string; data: Answer; label: string }> {
    const started = this.now();
    let errcode: number;
    let errmsg: string;
    let data: Answer = {};
    let label: string;
    try {
      const res = await this.http.request<Answer>({
        method: req.method,
        url: `/cgi-bin/${api}`,
        params: token ? { ...req.query, access_token: token } : req.query,
        data: req.method === 'POST' ? (req.body ?? {}) : undefined,
      });
      if (res.status >= 200 && res.status < 300 && res.data && typeof res.data === 'object') {
        data = res.data;
        errcode = Number(data.errcode ?? 0);
        errmsg = String(data.errmsg ?? '');
        label = String(errcode);
      } else if (res.status >= 500) {
        errcode = HTTP_ERRCODE;
        errmsg = `HTTP ${res.status}`;
        label = `http_${res.status}`;
      } else {
        errcode = -res.status || HTTP_ERRCODE;
        errmsg = `HTTP ${res.status} with a non-JSON body`;
        label = `http_${res.status}`;
      }
    } catch (err) {
      // Never log `err` itself: axios errors carry the URL, and the URL carries the token.
      const e = err as { code?: string };
      errcode = NETWORK_ERRCODE;
      errmsg = `network error ${e.code ?? 'unknown'}`;
      label = 'network';
    }
    const ms = this.now() - started;
    this.o.metrics?.apiCalls.inc({ api, errcode: label });
    this.o.metrics?.apiDuration.observe({ api }, ms / 1000);
    this.log.info({ api, errcode: label, ms }, 'wecom api call');
    return { errcode, errmsg, data, label };
  }

  /** A call with the whole policy: rate limit, token, refresh-once, bounded backoff, classification. */
  async call(api: string, req: Request): Promise<Answer> {
    let refreshed = false;
    let retries = 0;
    for (;;) {
      try {
        await this.limiter.acquire(api);
      } catch (err) {
        if (err instanceof RateLimitExceeded) {
          throw new WecomApiError({ api, errcode: LOCAL_LIMIT_ERRCODE, errmsg: err.message, kind: 'retryable' });
        }
        throw err;
      }
      const token = req.auth === 'none' ? undefined : await this.accessToken(req.auth);
      const r = await this.once(api, req, token);
      if (r.errcode === 0) return r.data;
      const rule = ruleFor(api, r.errcode);
      if (rule.action === 'refresh' && token && req.auth !== 'none' && !refreshed) {
        refreshed = true;
        this.log.warn({ api, errcode: r.label }, 'wecom token rejected; refreshing once');
        await this.tokens.invalidate(this.tokenKey(req.auth), token);
        continue;
      }
      const unknownOutcome = r.errcode === NETWORK_ERRCODE || r.errcode === HTTP_ERRCODE;
      if (rule.action === 'backoff' && retries < this.retry.maxRetries && !(req.creates && unknownOutcome)) {
        const delay = this.backoffMs(retries++);
        this.log.warn({ api, errcode: r.label, retry: retries, delayMs: delay }, 'wecom api busy; backing off');
        await this.sleep(delay);
        continue;
      }
      const error = toError(api, r.errcode, r.errmsg, rule);
      const level = rule.kind === 'config' || rule.kind === 'unknown' ? 'error' : 'warn';
      this.log[level](
        { api, errcode: r.label, kind: rule.kind, endpoint: `/cgi-bin/${api}`, hint: error.message },
        'wecom api error',
      );
      throw error;
    }
  }

  // ---- WecomApi ----

  async getUserInfo(code: string) {
    const r = await this.call('auth/getuserinfo', { method: 'GET', auth: 'agent', query: { code } });
    return pick(r, ['userid', 'user_ticket', 'openid', 'external_userid']) as {
      userid?: string;
      user_ticket?: string;
      openid?: string;
      external_userid?: string;
    };
  }

  async getUser(userid: string) {
    const r = await this.call('user/get', { method: 'GET', auth: 'agent', query: { userid } });
    return strip(r) as {
      userid: string;
      name?: string;
      department?: number[];
      status?: number;
      main_department?: number;
    };
  }

  async listDepartments(id?: number) {
    const r = await this.call('department/list', { method: 'GET', auth: 'agent', query: { id } });
    return (r.department ?? []) as { id: number; name?: string; parentid: number; order?: number }[];
  }

  async getExternalContact(externalUserid: string): Promise<ExternalContactDetail> {
    // More than 500 followers come in pages; callers want the whole list.
    let cursor: string | undefined;
    let first: ExternalContactDetail | undefined;
    let pages = 0;
    do {
      const r = (await this.call('externalcontact/get', {
        method: 'GET',
        auth: 'contact',
        query: { external_userid: externalUserid, cursor },
      })) as unknown as ExternalContactDetail;
      if (!first) first = { external_contact: r.external_contact, follow_user: [...(r.follow_user ?? [])] };
      else first.follow_user.push(...(r.follow_user ?? []));
      const next = r.next_cursor || undefined;
      // A cursor that does not move would loop forever; 40 pages are 20,000 followers.
      cursor = next && next !== cursor && ++pages < 40 ? next : undefined;
    } while (cursor);
    return first;
  }

  async batchGetByUser(userids: string[], cursor?: string, limit?: number) {
    const r = await this.call('externalcontact/batch/get_by_user', {
      method: 'POST',
      auth: 'contact',
      body: { userid_list: userids, cursor: cursor ?? '', limit: limit ?? 100 },
    });
    return {
      external_contact_list: (r.external_contact_list ?? []) as Awaited<
        ReturnType<WecomApi['batchGetByUser']>
      >['external_contact_list'],
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async getFollowUserList() {
    const r = await this.call('externalcontact/get_follow_user_list', { method: 'GET', auth: 'contact' });
    return (r.follow_user ?? []) as string[];
  }

  async getCorpTagList(opts: { tag_id?: string[]; group_id?: string[] } = {}) {
    const r = await this.call('externalcontact/get_corp_tag_list', { method: 'POST', auth: 'contact', body: opts });
    return (r.tag_group ?? []) as CorpTagGroup[];
  }

  async addCorpTag(req: Parameters<WecomApi['addCorpTag']>[0]) {
    const r = await this.call('externalcontact/add_corp_tag', { method: 'POST', auth: 'contact', body: req });
    return r.tag_group as CorpTagGroup;
  }

  async markTag(req: Parameters<WecomApi['markTag']>[0]) {
    await this.call('externalcontact/mark_tag', { method: 'POST', auth: 'contact', body: req });
  }

  async remark(req: Parameters<WecomApi['remark']>[0]) {
    await this.call('externalcontact/remark', { method: 'POST', auth: 'contact', body: req });
  }

  async sendWelcomeMsg(req: Parameters<WecomApi['sendWelcomeMsg']>[0]) {
    await this.call('externalcontact/send_welcome_msg', { method: 'POST', auth: 'contact', body: req });
  }

  async addContactWay(req: Parameters<WecomApi['addContactWay']>[0]) {
    const r = await this.call('externalcontact/add_contact_way', { method: 'POST', auth: 'contact', body: req });
    return { config_id: String(r.config_id), qr_code: r.qr_code as string | undefined };
  }

  async delContactWay(configId: string) {
    await this.call('externalcontact/del_contact_way', {
      method: 'POST',
      auth: 'contact',
      body: { config_id: configId },
    });
  }

  async transferCustomer(req: Parameters<WecomApi['transferCustomer']>[0]) {
    const r = await this.call('externalcontact/transfer_customer', { method: 'POST', auth: 'contact', body: req });
    return (r.customer ?? []) as { external_userid: string; errcode: number }[];
  }

  async transferResult(req: Parameters<WecomApi['transferResult']>[0]) {
    const r = await this.call('externalcontact/transfer_result', { method: 'POST', auth: 'contact', body: req });
    return {
      customer: (r.customer ?? []) as TransferResultItem[],
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async resignedTransferCustomer(req: Parameters<WecomApi['resignedTransferCustomer']>[0]) {
    const r = await this.call('externalcontact/resigned/transfer_customer', {
      method: 'POST',
      auth: 'contact',
      body: req,
    });
    return (r.customer ?? []) as { external_userid: string; errcode: number }[];
  }

  async resignedTransferResult(req: Parameters<WecomApi['resignedTransferResult']>[0]) {
    const r = await this.call('externalcontact/resigned/transfer_result', {
      method: 'POST',
      auth: 'contact',
      body: req,
    });
    return {
      customer: (r.customer ?? []) as TransferResultItem[],
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async sendMessage(req: Parameters<WecomApi['sendMessage']>[0]) {
    const r = await this.call('message/send', { method: 'POST', auth: 'agent', body: req });
    return { invaliduser: (r.invaliduser as string) || undefined, msgid: r.msgid as string | undefined };
  }

  async listGroupChats(req: Parameters<WecomApi['listGroupChats']>[0]) {
    const r = await this.call('externalcontact/groupchat/list', {
      method: 'POST',
      auth: 'contact',
      body: {
        status_filter: req.statusFilter ?? 0,
        owner_filter: { userid_list: req.ownerUserids },
        cursor: req.cursor ?? '',
        limit: req.limit ?? 1000,
      },
    });
    return {
      group_chat_list: ((r.group_chat_list ?? []) as GroupChatListItem[]).map((g) => ({
        chat_id: String(g.chat_id),
        status: Number(g.status ?? 0),
      })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async getGroupChat(chatId: string): Promise<GroupChatDetail> {
    const r = await this.call('externalcontact/groupchat/get', {
      method: 'POST',
      auth: 'contact',
      body: { chat_id: chatId, need_name: 0 },
    });
    const g = (r.group_chat ?? {}) as GroupChatDetail;
    if (!g.chat_id || !g.owner) {
      throw new WecomApiError({
        api: 'externalcontact/groupchat/get',
        errcode: 0,
        errmsg: 'answer has no group_chat',
        kind: 'unknown',
      });
    }
    return { ...g, member_list: g.member_list ?? [] };
  }

  async groupStatisticByDay(req: Parameters<WecomApi['groupStatisticByDay']>[0]) {
    const r = await this.call('externalcontact/groupchat/statistic_group_by_day', {
      method: 'POST',
      auth: 'contact',
      body: {
        day_begin_time: req.dayBeginTime,
        day_end_time: req.dayEndTime,
        owner_filter: { userid_list: req.ownerUserids },
      },
    });
    return ((r.items ?? []) as { stat_time: number; data?: GroupStatData }[]).map((i) => ({
      stat_time: Number(i.stat_time),
      data: i.data ?? {},
    }));
  }

  async addMsgTemplate(req: Parameters<WecomApi['addMsgTemplate']>[0]) {
    const r = await this.call('externalcontact/add_msg_template', {
      method: 'POST',
      auth: 'contact',
      body: req,
      creates: true,
    });
    return {
      msgid: required(r, 'msgid', 'externalcontact/add_msg_template'),
      fail_list: (r.fail_list ?? []) as string[],
    };
  }

  async getGroupmsgTask(req: Parameters<WecomApi['getGroupmsgTask']>[0]) {
    const r = await this.call('externalcontact/get_groupmsg_task', {
      method: 'POST',
      auth: 'contact',
      body: { msgid: req.msgid, limit: req.limit ?? 1000, cursor: req.cursor ?? '' },
    });
    return {
      task_list: ((r.task_list ?? []) as GroupMsgTaskItem[]).map((t) => ({ ...t, status: Number(t.status) })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async listGroupmsg(req: Parameters<WecomApi['listGroupmsg']>[0]) {
    const r = await this.call('externalcontact/get_groupmsg_list_v2', {
      method: 'POST',
      auth: 'contact',
      body: { ...req, limit: req.limit ?? 100, cursor: req.cursor ?? '' },
    });
    return {
      group_msg_list: ((r.group_msg_list ?? []) as GroupMsgListItem[]).map((m) => ({
        ...m,
        create_time: Number(m.create_time),
        create_type: Number(m.create_type),
      })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async getGroupmsgSendResult(req: Parameters<WecomApi['getGroupmsgSendResult']>[0]) {
    const r = await this.call('externalcontact/get_groupmsg_send_result', {
      method: 'POST',
      auth: 'contact',
      body: { msgid: req.msgid, userid: req.userid, limit: req.limit ?? 1000, cursor: req.cursor ?? '' },
    });
    return {
      send_list: ((r.send_list ?? []) as GroupMsgSendItem[]).map((t) => ({ ...t, status: Number(t.status) })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async remindGroupmsgSend(msgid: string) {
    await this.call('externalcontact/remind_groupmsg_send', { method: 'POST', auth: 'contact', body: { msgid } });
  }

  async cancelGroupmsgSend(msgid: string) {
    await this.call('externalcontact/cancel_groupmsg_send', { method: 'POST', auth: 'contact', body: { msgid } });
  }

  async addMomentTask(req: Parameters<WecomApi['addMomentTask']>[0]) {
    const r = await this.call('externalcontact/add_moment_task', {
      method: 'POST',
      auth: 'contact',
      body: req,
      creates: true,
    });
    return { jobid: required(r, 'jobid', 'externalcontact/add_moment_task') };
  }

  async getMomentTaskResult(jobid: string) {
    const r = await this.call('externalcontact/get_moment_task_result', {
      method: 'GET',
      auth: 'contact',
      query: { jobid },
    });
    return {
      status: Number(r.status ?? 0),
      result: r.result as Awaited<ReturnType<WecomApi['getMomentTaskResult']>>['result'],
    };
  }

  async getMomentTask(req: Parameters<WecomApi['getMomentTask']>[0]) {
    const r = await this.call('externalcontact/get_moment_task', {
      method: 'POST',
      auth: 'contact',
      body: { moment_id: req.moment_id, limit: req.limit ?? 1000, cursor: req.cursor ?? '' },
    });
    return {
      task_list: ((r.task_list ?? []) as { userid: string; publish_status: number }[]).map((t) => ({
        userid: t.userid,
        publish_status: Number(t.publish_status),
      })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  async cancelMomentTask(momentId: string) {
    await this.call('externalcontact/cancel_moment_task', {
      method: 'POST',
      auth: 'contact',
      body: { moment_id: momentId },
    });
  }

  async listMoments(req: Parameters<WecomApi['listMoments']>[0]) {
    const r = await this.call('externalcontact/get_moment_list', {
      method: 'POST',
      auth: 'contact',
      body: { ...req, limit: req.limit ?? 20, cursor: req.cursor ?? '' },
    });
    return {
      moment_list: ((r.moment_list ?? []) as MomentListItem[]).map((m) => ({
        ...m,
        create_time: Number(m.create_time),
        create_type: Number(m.create_type),
      })),
      next_cursor: (r.next_cursor as string) || undefined,
    };
  }

  getJsapiTicket(): Promise<string> {
    return this.tokens.get(cacheKey('jsapi_ticket', this.o.corpId, this.o.agentSecret), async () => {
      const r = await this.call('get_jsapi_ticket', { method: 'GET', auth: 'agent' });
      return { value: required(r, 'ticket', 'get_jsapi_ticket'), expiresIn: Number(r.expires_in ?? 7200) };
    });
  }

  getAgentTicket(): Promise<string> {
    return this.tokens.get(cacheKey('agent_ticket', this.o.corpId, this.o.agentSecret), async () => {
      const r = await this.call('ticket/get', { method: 'GET', auth: 'agent', query: { type: 'agent_config' } });
      return { value: required(r, 'ticket', 'ticket/get'), expiresIn: Number(r.expires_in ?? 7200) };
    });
  }
}

/** A success answer without the value we came for is a protocol violation, not something to cache. */
function required(r: Answer, field: string, api: string): string {
  const v = r[field];
  if (typeof v !== 'string' || !v) {
    throw new WecomApiError({ api, errcode: 0, errmsg: `answer has no ${field}`, kind: 'unknown' });
  }
  return v;
}

function strip(r: Answer): Record<string, unknown> {
  const { errcode: _c, errmsg: _m, ...rest } = r;
  return rest;
}

function pick(r: Answer, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (r[k] !== undefined && r[k] !== '') out[k] = r[k];
  return out;
}
