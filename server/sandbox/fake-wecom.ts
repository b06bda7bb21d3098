import { randomBytes } from 'node:crypto';
import Fastify, { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { FakeMassSend } from './fake-masssend';
import type {
  FakeCall,
  FakeContact,
  FakeContactWay,
  FakeDepartment,
  FakeFollow,
  FakeGroup,
  FakeSeed,
  FakeTagGroup,
  FakeTransfer,
  FakeUser,
  SentMessage,
  SentWelcome,
} from './fake-types';

/**
 * An in-memory WeCom corp that answers the `/cgi-bin/...` API with WeCom's semantics: errcode/errmsg
 * JSON with HTTP 200, tokens per secret (7200 s, the same token while valid), 40014/42001 for
 * bad/expired tokens, 40013/40001 for a bad corp/secret, single-use OAuth codes (5 min, 40029),
 * single-use welcome codes (20 s, 41051), transfer limits (40128), 84061 without a relation.
 * It records every request (secrets removed) and can be told to fail the next calls of an API.
 */

export interface FakeWecomOptions {
  corpId: string;
  agentId: string | number;
  agentSecret: string;
  /** Defaults to agentSecret (one secret for everything, as new corps do). */
  contactSecret?: string;
  now?: () => number;
  seed?: Partial<FakeSeed>;
  /** How many calls to keep for the log (counts are kept for all). */
  keepCalls?: number;
  /** Base URL used for fake QR code links. */
  qrBase?: string;
}

type Kind = 'agent' | 'contact';
/** 'http500': HTTP 500; 'timeout': no answer for `delayMs` (then a 504), as a hung upstream does. */
type Fault = { errcode: number | 'http500' | 'timeout'; times: number; errmsg?: string; delayMs?: number };
type Answer = { status?: number; body: Record<string, unknown> /** Answer only after this long. */; delayMs?: number };

/** How long a 'timeout' fault keeps the caller waiting by default: longer than any client timeout here. */
const TIMEOUT_FAULT_MS = 15_000;

const TOKEN_TTL_S = 7200;
const OAUTH_TTL_MS = 5 * 60_000;
const WELCOME_TTL_MS = 20_000;
const TRANSFER_WINDOW_MS = 90 * 24 * 3600_000;
const TRANSFER_COMPLETES_MS = 24 * 3600_000;
const ERRMSG: Record<number, string> = {
  0: 'ok',
  40001: 'invalid credential',
  40003: 'invalid userid',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40050: 'chatid not found',
  40056: 'invalid agentid',
  40058: 'invalid parameter',
  40068: 'invalid tagid',
  40071: 'tag name already exists',
  40096: 'invalid external userid',
  40097: 'handover user not resigned',
  40128: 'customer transferred too often',
  40129: 'customer already in transfer',
  41001: 'access_token missing',
  41051: 'welcome code invalid, used or expired',
  42001: 'access_token expired',
  48002: 'api forbidden',
  60111: 'userid not found',
  84061: 'not external contact',
};

const rand = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

export class FakeWecom {
  readonly corpId: string;
  readonly agentId: string;
  private readonly secrets: Record<Kind, string>;
  readonly now: () => number;
  private readonly keepCalls: number;
  private readonly qrBase: string;

  readonly users = new Map<string, FakeUser>();
  readonly departments = new Map<number, FakeDepartment>();
  readonly contacts = new Map<string, FakeContact>();
  /** key `${external_userid}|${userid}` */
  readonly follows = new Map<string, FakeFollow>();
  readonly tagGroups: FakeTagGroup[] = [];
  readonly transfers: FakeTransfer[] = [];
  readonly contactWays = new Map<string, FakeContactWay>();
  readonly messages: SentMessage[] = [];
  readonly welcomes: SentWelcome[] = [];
  readonly groups = new Map<string, FakeGroup>();
  /** Every join, kept for the daily statistics (Unix seconds). */
  readonly groupJoins: { chat_id: string; at: number }[] = [];
  /** Mass-send and moment tasks waiting for the "manager" to confirm them (fake-masssend.ts). */
  readonly massSend = new FakeMassSend({
    now: () => this.now(),
    isUser: (u) => this.users.get(u)?.status === 1,
    isFriend: (e, u) => {
      const f = this.follows.get(`${e}|${u}`);
      return !!f && !f.deletedByCustomer;
    },
    groupOwner: (c) => {
      const g = this.groups.get(c);
      return g && !g.dismissed ? g.owner : undefined;
    },
  });

  private readonly tokens = new Map<string, { secret: string; expiresAt: number; revoked: boolean }>();
  private readonly tickets = new Map<string, { ticket: string; expiresAt: number }>();
  private readonly oauthCodes = new Map<string, { userid: string; expiresAt: number; used: boolean }>();
  private readonly welcomeCodes = new Map<
    string,
    { userid: string; external_userid: string; expiresAt: number; used: boolean }
  >();
  private readonly faults = new Map<string, Fault[]>();
  private readonly counts = new Map<string, number>();
  private readonly secretCounts = new Map<string, number>();
  readonly calls: FakeCall[] = [];
  private seq = 0;
  private idSeq = 0;

  constructor(opts: FakeWecomOptions) {
    this.corpId = opts.corpId;
    this.agentId = String(opts.agentId);
    this.secrets = { agent: opts.agentSecret, contact: opts.contactSecret ?? opts.agentSecret };
    this.now = opts.now ?? Date.now;
    this.keepCalls = opts.keepCalls ?? 2000;
    this.qrBase = opts.qrBase ?? 'https://wework.qpic.cn/wwpic/sandbox';
    if (opts.seed) this.load(opts.seed);
  }

  load(seed: Partial<FakeSeed>): void {
    for (const d of seed.departments ?? []) this.departments.set(d.id, { ...d });
    for (const u of seed.users ?? []) this.users.set(u.userid, { ...u, department: [...u.department] });
    for (const c of seed.contacts ?? []) this.contacts.set(c.external_userid, { ...c });
    for (const f of seed.follows ?? [])
      this.follows.set(`${f.external_userid}|${f.userid}`, { ...f, tag_ids: [...f.tag_ids] });
    for (const g of seed.tagGroups ?? []) this.tagGroups.push({ ...g, tag: g.tag.map((t) => ({ ...t })) });
    for (const g of seed.groups ?? []) {
      this.groups.set(g.chat_id, { ...g, members: g.members.map((m) => ({ ...m })) });
      for (const m of g.members) this.groupJoins.push({ chat_id: g.chat_id, at: m.join_time });
    }
  }

  // ---------- test and simulator controls ----------

  /** Calls recorded for `api` ('gettoken', 'externalcontact/get' …); optionally only those with a secret kind. */
  count(api: string, secret?: Kind): number {
    return secret ? (this.secretCounts.get(`${api}|${secret}`) ?? 0) : (this.counts.get(api) ?? 0);
  }

  /**
   * The next `times` calls of `api` answer `errcode`, or HTTP 500 with 'http500', or nothing for
   * `delayMs` (default 15 s, then a 504) with 'timeout'. Nothing happens on the fake's side for a
   * faulted call (no message is sent), as with WeCom's own errors.
   */
  failNext(api: string, errcode: number | 'http500' | 'timeout', times = 1, errmsg?: string, delayMs?: number): void {
    const list = this.faults.get(api) ?? [];
    list.push({ errcode, times, errmsg, delayMs });
    this.faults.set(api, list);
  }

  /** Drops every scripted fault not yet taken. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** WeCom may revoke tokens early: every issued token answers 40014 from now on. */
  revokeTokens(): void {
    for (const t of this.tokens.values()) t.revoked = true;
  }

  /** Every issued token answers 42001 from now on. */
  expireTokens(): void {
    const now = this.now();
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now - 1);
  }

  /** Tickets are reissued on the next get_jsapi_ticket / ticket/get. */
  expireTickets(): void {
    this.tickets.clear();
  }

  issueOAuthCode(userid: string): string {
    const code = `sbxcode${rand(24)}`;
    this.oauthCodes.set(code, { userid, expiresAt: this.now() + OAUTH_TTL_MS, used: false });
    return code;
  }

  issueWelcomeCode(userid: string, externalUserid: string): string {
    const code = `WXSBX${rand(36)}`;
    this.welcomeCodes.set(code, {
      userid,
      external_userid: externalUserid,
      expiresAt: this.now() + WELCOME_TTL_MS,
      used: false,
    });
    return code;
  }

  newExternalUserid(): string {
    return `wmsbx${rand(28)}`;
  }

  /** The customer added `userid` (creates the contact if new); what add_external_contact reports. */
  addFollow(
    contact: FakeContact,
    userid: string,
    opts: { state?: string; addWay?: number; remarkMobiles?: string[] } = {},
  ): FakeFollow {
    if (!this.contacts.has(contact.external_userid)) this.contacts.set(contact.external_userid, { ...contact });
    const key = `${contact.external_userid}|${userid}`;
    const f: FakeFollow = {
      userid,
      external_userid: contact.external_userid,
      remark: '',
      description: '',
      createtime: Math.floor(this.now() / 1000),
      state: opts.state,
      add_way: opts.addWay ?? (opts.state ? 1 : 3),
      tag_ids: [],
      ...(opts.remarkMobiles?.length ? { remark_mobiles: opts.remarkMobiles } : {}),
    };
    this.follows.set(key, f);
    return f;
  }

  /** Removes the relation (manager deleted the customer, or a transfer moved it). */
  removeFollow(externalUserid: string, userid: string): boolean {
    return this.follows.delete(`${externalUserid}|${userid}`);
  }

  /** The customer deleted the manager: the one-way relation stays usable by API. */
  markDeletedByCustomer(externalUserid: string, userid: string): boolean {
    const f = this.follows.get(`${externalUserid}|${userid}`);
    if (f) f.deletedByCustomer = true;
    return !!f;
  }

  followsOf(externalUserid: string): FakeFollow[] {
    return [...this.follows.values()].filter((f) => f.external_userid === externalUserid);
  }

  /** The latest waiting transfer of a customer to `takeover` is refused. Returns it, if any. */
  refuseTransfer(externalUserid: string, takeoverUserid?: string): FakeTransfer | undefined {
    const t = [...this.transfers]
      .reverse()
      .find(
        (x) =>
          x.external_userid === externalUserid &&
          x.status === 2 &&
          (!takeoverUserid || x.takeover_userid === takeoverUserid),
      );
    if (t) t.status = 3;
    return t;
  }

  /** Completes waiting transfers older than 24 h (or all with `force`): the relation moves. */
  completeTransfers(force = false, filter: (t: FakeTransfer) => boolean = () => true): FakeTransfer[] {
    const now = this.now();
    const done: FakeTransfer[] = [];
    for (const t of this.transfers) {
      if (t.status !== 2 || !filter(t) || (!force && now - t.at < TRANSFER_COMPLETES_MS)) continue;
      t.status = 1;
      t.takeover_time = Math.floor(now / 1000);
      const old = this.follows.get(`${t.external_userid}|${t.handover_userid}`);
      this.removeFollow(t.external_userid, t.handover_userid);
      const c = this.contacts.get(t.external_userid);
      if (c) {
        const f = this.addFollow(c, t.takeover_userid, { state: old?.state });
        f.tag_ids = old?.tag_ids ?? [];
      }
      done.push(t);
    }
    return done;
  }

  // ---------- customer groups (controls) ----------

  private nextMemberVersion(): string {
    return randomBytes(16).toString('hex');
  }

  /** A new group owned by `owner` (the owner is its first member). */
  createGroup(owner: string, name: string): FakeGroup {
    const at = Math.floor(this.now() / 1000);
    const g: FakeGroup = {
      chat_id: `wrsbx${++this.idSeq}${rand(20)}`,
      name,
      owner,
      create_time: at,
      members: [{ userid: owner, type: 1, join_time: at, join_scene: 1 }],
      member_version: this.nextMemberVersion(),
    };
    this.groups.set(g.chat_id, g);
    return g;
  }

  private group(chatId: string): FakeGroup {
    const g = this.groups.get(chatId);
    if (!g || g.dismissed) throw new Error(`no sandbox group ${chatId}`);
    return g;
  }

  /**
   * Members join (what add_member reports). `scene` uses the groupchat/get codes (1 invited,
   * 2 invite link, 3 QR code). Returns the versions the callback carries.
   */
  joinGroup(
    chatId: string,
    ids: string[],
    scene = 3,
    opts: { type?: number; unionid?: (id: string) => string | undefined } = {},
  ): { lastMemVer: string; curMemVer: string; at: number } {
    const g = this.group(chatId);
    const at = Math.floor(this.now() / 1000);
    const lastMemVer = g.member_version;
    for (const id of ids) {
      if (g.members.some((m) => m.userid === id)) continue;
      const type = opts.type ?? (this.users.has(id) ? 1 : 2);
      const unionid = opts.unionid?.(id) ?? this.contacts.get(id)?.unionid;
      g.members.push({
        userid: id,
        type,
        join_time: at,
        join_scene: scene,
        ...(unionid ? { unionid } : {}),
        ...(scene === 1 ? { invitor: { userid: g.owner } } : {}),
      });
      this.groupJoins.push({ chat_id: chatId, at });
    }
    g.member_version = this.nextMemberVersion();
    return { lastMemVer, curMemVer: g.member_version, at };
  }

  /** Members leave (what del_member reports). */
  quitGroup(chatId: string, ids: string[]): { lastMemVer: string; curMemVer: string; at: number } {
    const g = this.group(chatId);
    const lastMemVer = g.member_version;
    g.members = g.members.filter((m) => !ids.includes(m.userid));
    g.member_version = this.nextMemberVersion();
    return { lastMemVer, curMemVer: g.member_version, at: Math.floor(this.now() / 1000) };
  }

  dismissGroup(chatId: string): void {
    this.group(chatId).dismissed = true;
  }

  resetLog(): void {
    this.calls.length = 0;
    this.counts.clear();
    this.secretCounts.clear();
  }

  // ---------- request handling ----------

  /** Handles one API request; the routes call this, tests may too. */
  handle(method: string, api: string, query: Record<string, string>, body: Record<string, unknown>): Answer {
    let secretKind: string | undefined;
    let answer: Answer;
    const fault = this.takeFault(api);
    if (fault) {
      answer =
        fault.errcode === 'http500'
          ? { status: 500, body: { errcode: -1, errmsg: 'internal error' } }
          : fault.errcode === 'timeout'
            ? {
                status: 504,
                body: { errcode: -1, errmsg: 'gateway timeout' },
                delayMs: fault.delayMs ?? TIMEOUT_FAULT_MS,
              }
            : { body: { errcode: fault.errcode, errmsg: fault.errmsg ?? ERRMSG[fault.errcode] ?? 'scripted fault' } };
      if (api === 'gettoken') secretKind = this.kindOfSecret(query.corpsecret);
    } else if (api === 'gettoken') {
      secretKind = this.kindOfSecret(query.corpsecret);
      answer = this.gettoken(query);
    } else {
      answer = this.authorized(api, query);
    }
    if (!answer.body.errcode && !answer.status && api !== 'gettoken' && !fault) {
      answer = this.dispatch(api, method, query, body);
    }
    if (api === 'get_jsapi_ticket' || api === 'ticket/get') secretKind = 'agent';
    this.record(method, api, query, body, answer, secretKind);
    return answer;
  }

  private takeFault(api: string): Fault | undefined {
    const list = this.faults.get(api);
    if (!list?.length) return undefined;
    const f = list[0];
    if (--f.times <= 0) list.shift();
    return { ...f };
  }

  private kindOfSecret(secret: string | undefined): string | undefined {
    if (secret === undefined) return undefined;
    if (secret === this.secrets.contact && secret !== this.secrets.agent) return 'contact';
    if (secret === this.secrets.agent) return 'agent';
    return 'wrong';
  }

  private err(errcode: number, errmsg?: string): Answer {
    return { body: { errcode, errmsg: errmsg ?? ERRMSG[errcode] ?? 'error' } };
  }

  private ok(extra: Record<string, unknown> = {}): Answer {
    return { body: { errcode: 0, errmsg: 'ok', ...extra } };
  }

  private gettoken(q: Record<string, string>): Answer {
    if (q.corpid !== this.corpId) return this.err(40013);
    const secret = q.corpsecret;
    if (!secret || (secret !== this.secrets.agent && secret !== this.secrets.contact)) return this.err(40001);
    const now = this.now();
    // While a token is valid WeCom hands out the same one with the remaining lifetime.
    for (const [token, t] of this.tokens) {
      if (t.secret === secret && !t.revoked && t.expiresAt > now) {
        return this.ok({ access_token: token, expires_in: Math.floor((t.expiresAt - now) / 1000) });
      }
    }
    const token = `sbxtok_${rand(48)}`;
    this.tokens.set(token, { secret, expiresAt: now + TOKEN_TTL_S * 1000, revoked: false });
    return this.ok({ access_token: token, expires_in: TOKEN_TTL_S });
  }

  private authorized(api: string, q: Record<string, string>): Answer {
    const token = q.access_token;
    if (!token) return this.err(41001);
    const t = this.tokens.get(token);
    if (!t || t.revoked) return this.err(40014);
    if (t.expiresAt <= this.now()) return this.err(42001);
    const needs: Kind = api.startsWith('externalcontact/') ? 'contact' : 'agent';
    if (t.secret !== this.secrets[needs]) return this.err(48002, `api forbidden: ${api} needs the ${needs} secret`);
    return this.ok();
  }

  private record(
    method: string,
    api: string,
    query: Record<string, string>,
    body: unknown,
    a: Answer,
    secret?: string,
  ) {
    this.counts.set(api, (this.counts.get(api) ?? 0) + 1);
    if (secret) this.secretCounts.set(`${api}|${secret}`, (this.secretCounts.get(`${api}|${secret}`) ?? 0) + 1);
    const { access_token: _t, corpsecret: _s, ...safeQuery } = query;
    let safeBody = body;
    if (body && typeof body === 'object' && 'welcome_code' in body) {
      safeBody = {
        ...(body as object),
        welcome_code: `${String((body as { welcome_code: unknown }).welcome_code).slice(0, 8)}…`,
      };
    }
    this.calls.push({
      seq: ++this.seq,
      at: this.now(),
      method,
      path: `/cgi-bin/${api}`,
      api,
      query: safeQuery,
      body: safeBody,
      errcode: Number(a.body.errcode ?? 0),
      errmsg: String(a.body.errmsg ?? ''),
      secret,
    });
    if (this.calls.length > this.keepCalls) this.calls.splice(0, this.calls.length - this.keepCalls);
  }

  private dispatch(api: string, method: string, q: Record<string, string>, b: Record<string, unknown>): Answer {
    const h = HANDLERS[api];
    if (!h) return { status: 404, body: { errcode: 404, errmsg: `unknown api ${api}` } };
    if (h.method !== method) return this.err(40058, `${api} expects ${h.method}`);
    return h.run(this, q, b);
  }

  // ---------- API implementations (called through HANDLERS) ----------

  getuserinfo(q: Record<string, string>): Answer {
    const c = this.oauthCodes.get(q.code ?? '');
    if (!c || c.used || c.expiresAt <= this.now()) return this.err(40029);
    c.used = true;
    return this.ok({ userid: c.userid, user_ticket: undefined });
  }

  userGet(q: Record<string, string>): Answer {
    const u = this.users.get(q.userid ?? '');
    if (!u) return this.err(60111);
    return this.ok({ ...u });
  }

  departmentList(q: Record<string, string>): Answer {
    const all = [...this.departments.values()].sort((a, b) => a.id - b.id);
    if (!q.id) return this.ok({ department: all });
    const root = Number(q.id);
    if (!this.departments.has(root)) return this.err(60123, 'invalid department id');
    const inTree = new Set([root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const d of all) {
        if (!inTree.has(d.id) && inTree.has(d.parentid)) {
          inTree.add(d.id);
          grew = true;
        }
      }
    }
    return this.ok({ department: all.filter((d) => inTree.has(d.id)) });
  }

  private tagsOf(f: FakeFollow) {
    const out: { group_name: string; tag_name: string; tag_id: string; type: number }[] = [];
    for (const id of f.tag_ids) {
      for (const g of this.tagGroups) {
        const t = g.tag.find((x) => x.id === id);
        if (t) out.push({ group_name: g.group_name, tag_name: t.name, tag_id: t.id, type: 1 });
      }
    }
    return out;
  }

  private followView(f: FakeFollow) {
    return {
      userid: f.userid,
      remark: f.remark,
      description: f.description,
      createtime: f.createtime,
      tags: this.tagsOf(f),
      remark_mobiles: f.remark_mobiles ?? [],
      add_way: f.add_way,
      oper_userid: f.userid,
      ...(f.state ? { state: f.state } : {}),
    };
  }

  contactGet(q: Record<string, string>): Answer {
    const c = this.contacts.get(q.external_userid ?? '');
    if (!c) return this.err(40096);
    return this.ok({
      external_contact: { ...c },
      follow_user: this.followsOf(c.external_userid).map((f) => this.followView(f)),
    });
  }

  batchGetByUser(b: Record<string, unknown>): Answer {
    const ids = b.userid_list;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100)
      return this.err(40058, 'userid_list must have 1..100 ids');
    for (const id of ids) if (!this.users.has(String(id))) return this.err(60111);
    const limit = Math.min(100, Math.max(1, Number(b.limit ?? 50) || 50));
    const start = b.cursor ? Number.parseInt(String(b.cursor), 10) || 0 : 0;
    const set = new Set(ids.map(String));
    const all = [...this.follows.values()].filter((f) => set.has(f.userid));
    const page = all.slice(start, start + limit);
    return this.ok({
      external_contact_list: page.map((f) => ({
        external_contact: { ...this.contacts.get(f.external_userid) },
        follow_info: {
          userid: f.userid,
          remark: f.remark,
          description: f.description,
          createtime: f.createtime,
          tag_id: [...f.tag_ids],
          add_way: f.add_way,
          ...(f.state ? { state: f.state } : {}),
        },
      })),
      next_cursor: start + limit < all.length ? String(start + limit) : '',
    });
  }

  followUserList(): Answer {
    return this.ok({ follow_user: [...this.users.values()].filter((u) => u.status === 1).map((u) => u.userid) });
  }

  corpTagList(b: Record<string, unknown>): Answer {
    const tagIds = Array.isArray(b.tag_id) ? b.tag_id.map(String) : [];
    const groupIds = Array.isArray(b.group_id) ? b.group_id.map(String) : [];
    let groups = this.tagGroups.map((g) => ({ ...g, tag: [...g.tag] }));
    if (groupIds.length) groups = groups.filter((g) => groupIds.includes(g.group_id));
    else if (tagIds.length)
      groups = groups
        .map((g) => ({ ...g, tag: g.tag.filter((t) => tagIds.includes(t.id)) }))
        .filter((g) => g.tag.length);
    return this.ok({ tag_group: groups });
  }

  addCorpTag(b: Record<string, unknown>): Answer {
    const tags = Array.isArray(b.tag) ? (b.tag as { name?: unknown; order?: unknown }[]) : [];
    if (!tags.length || tags.some((t) => typeof t.name !== 'string' || !t.name || t.name.length > 30)) {
      return this.err(40058, 'tag names must be 1..30 chars');
    }
    const now = Math.floor(this.now() / 1000);
    let g = b.group_id ? this.tagGroups.find((x) => x.group_id === b.group_id) : undefined;
    if (b.group_id && !g) return this.err(40068, 'invalid group_id');
    if (!g && typeof b.group_name === 'string') g = this.tagGroups.find((x) => x.group_name === b.group_name);
    if (!g) {
      if (typeof b.group_name !== 'string' || !b.group_name) return this.err(40058, 'group_id or group_name required');
      g = {
        group_id: `etsbxg${++this.idSeq}${rand(8)}`,
        group_name: b.group_name,
        create_time: now,
        order: Number(b.order ?? 0),
        tag: [],
      };
      this.tagGroups.push(g);
    }
    const group = g;
    if (tags.some((t) => group.tag.some((x) => x.name === t.name))) return this.err(40071);
    const added = tags.map((t) => ({
      id: `etsbx${++this.idSeq}${rand(10)}`,
      name: String(t.name),
      create_time: now,
      order: Number(t.order ?? 0),
    }));
    group.tag.push(...added);
    return this.ok({
      tag_group: {
        group_id: group.group_id,
        group_name: group.group_name,
        create_time: group.create_time,
        order: group.order,
        tag: added,
      },
    });
  }

  private relation(b: Record<string, unknown>): FakeFollow | Answer {
    const userid = String(b.userid ?? '');
    const ext = String(b.external_userid ?? '');
    if (!this.users.has(userid)) return this.err(60111);
    if (!this.contacts.has(ext)) return this.err(40096);
    const f = this.follows.get(`${ext}|${userid}`);
    return f ?? this.err(84061);
  }

  markTag(b: Record<string, unknown>): Answer {
    const f = this.relation(b);
    if ('body' in f) return f;
    const known = new Set(this.tagGroups.flatMap((g) => g.tag.map((t) => t.id)));
    const add = Array.isArray(b.add_tag) ? b.add_tag.map(String) : [];
    const remove = Array.isArray(b.remove_tag) ? b.remove_tag.map(String) : [];
    if (!add.length && !remove.length) return this.err(40058, 'add_tag or remove_tag required');
    if ([...add, ...remove].some((id) => !known.has(id))) return this.err(40068);
    f.tag_ids = [...new Set([...f.tag_ids.filter((id) => !remove.includes(id)), ...add])];
    return this.ok();
  }

  remark(b: Record<string, unknown>): Answer {
    const f = this.relation(b);
    if ('body' in f) return f;
    if (typeof b.remark === 'string') f.remark = b.remark;
    if (typeof b.description === 'string') f.description = b.description;
    return this.ok();
  }

  sendWelcome(b: Record<string, unknown>): Answer {
    const code = String(b.welcome_code ?? '');
    const w = this.welcomeCodes.get(code);
    if (!w) return this.err(41051);
    if (w.used || w.expiresAt <= this.now()) return this.err(41051);
    const text = b.text as { content?: unknown } | undefined;
    const attachments = Array.isArray(b.attachments) ? b.attachments : [];
    if (!text?.content && !attachments.length) return this.err(40058, 'text or attachments required');
    if (attachments.length > 9) return this.err(40058, 'at most 9 attachments');
    w.used = true;
    this.welcomes.push({
      at: this.now(),
      userid: w.userid,
      external_userid: w.external_userid,
      content: typeof text?.content === 'string' ? text.content : undefined,
      attachments: attachments.length,
    });
    return this.ok();
  }

  addContactWay(b: Record<string, unknown>): Answer {
    const type = Number(b.type);
    const scene = Number(b.scene);
    if (![1, 2].includes(type) || ![1, 2].includes(scene)) return this.err(40058, 'type and scene must be 1 or 2');
    const user = Array.isArray(b.user) ? b.user.map(String) : [];
    const party = Array.isArray(b.party) ? b.party.map(Number) : [];
    if (!user.length && !party.length) return this.err(40058, 'user or party required');
    if (type === 1 && user.length + party.length !== 1) return this.err(40058, 'type 1 takes exactly one user');
    if (user.some((u) => !this.users.has(u))) return this.err(60111);
    if (b.state !== undefined && (typeof b.state !== 'string' || b.state.length > 30))
      return this.err(40058, 'state must be at most 30 chars');
    if (b.remark !== undefined && String(b.remark).length > 30)
      return this.err(40058, 'remark must be at most 30 chars');
    const config_id = `sbxcw${++this.idSeq}${rand(20)}`;
    const qr_code = scene === 2 ? `${this.qrBase}/${config_id}.png` : undefined;
    this.contactWays.set(config_id, {
      config_id,
      type,
      scene,
      user,
      party,
      state: b.state as string | undefined,
      remark: b.remark as string | undefined,
      qr_code,
      deleted: false,
    });
    return this.ok({ config_id, ...(qr_code ? { qr_code } : {}) });
  }

  delContactWay(b: Record<string, unknown>): Answer {
    const w = this.contactWays.get(String(b.config_id ?? ''));
    if (!w || w.deleted) return this.err(41044, 'invalid config_id');
    w.deleted = true;
    return this.ok();
  }

  transfer(kind: 'onjob' | 'resigned', b: Record<string, unknown>): Answer {
    const handover = String(b.handover_userid ?? '');
    const takeover = String(b.takeover_userid ?? '');
    const ids = Array.isArray(b.external_userid) ? b.external_userid.map(String) : [];
    if (!ids.length || ids.length > 100) return this.err(40058, 'external_userid must have 1..100 ids');
    if (typeof b.transfer_success_msg === 'string' && b.transfer_success_msg.length > 200) {
      return this.err(40058, 'transfer_success_msg too long');
    }
    const from = this.users.get(handover);
    const to = this.users.get(takeover);
    if (!from || !to) return this.err(60111);
    if (kind === 'resigned' && from.status !== 5) return this.err(40097);
    if (kind === 'onjob' && from.status === 5)
      return this.err(40058, 'handover user has resigned: use resigned/transfer_customer');
    if (to.status !== 1) return this.err(40098, 'takeover user not active');
    const now = this.now();
    const customer = ids.map((ext) => {
      let errcode = 0;
      if (!this.follows.has(`${ext}|${handover}`)) errcode = 84061;
      else if (this.transfers.some((t) => t.external_userid === ext && t.status === 2)) errcode = 40129;
      else if (
        kind === 'onjob' &&
        this.transfers.filter(
          (t) => t.kind === 'onjob' && t.external_userid === ext && t.status !== 3 && now - t.at < TRANSFER_WINDOW_MS,
        ).length >= 2
      )
        errcode = 40128;
      if (errcode === 0) {
        this.transfers.push({
          kind,
          handover_userid: handover,
          takeover_userid: takeover,
          external_userid: ext,
          at: now,
          status: 2,
        });
      }
      return { external_userid: ext, errcode };
    });
    return this.ok({ customer });
  }

  transferResult(kind: 'onjob' | 'resigned', b: Record<string, unknown>): Answer {
    this.completeTransfers();
    const list = this.transfers.filter(
      (t) => t.kind === kind && t.handover_userid === b.handover_userid && t.takeover_userid === b.takeover_userid,
    );
    return this.ok({
      customer: list.map((t) => ({
        external_userid: t.external_userid,
        status: t.status,
        ...(t.takeover_time ? { takeover_time: t.takeover_time } : {}),
      })),
      next_cursor: '',
    });
  }

  messageSend(b: Record<string, unknown>): Answer {
    if (String(b.agentid ?? '') !== this.agentId) return this.err(40056);
    let content: unknown;
    let url: string | undefined;
    if (b.msgtype === 'text') {
      content = (b.text as { content?: unknown } | undefined)?.content;
      if (typeof content !== 'string' || !content) return this.err(40058, 'text.content required');
    } else if (b.msgtype === 'textcard') {
      const card = (b.textcard ?? {}) as { title?: unknown; description?: unknown; url?: unknown };
      // WeCom's limits: title ≤ 128 bytes, description ≤ 512 bytes, url ≤ 2048 bytes.
      if (typeof card.title !== 'string' || !card.title || Buffer.byteLength(card.title) > 128)
        return this.err(40058, 'textcard.title required (≤ 128 bytes)');
      if (typeof card.description !== 'string' || !card.description || Buffer.byteLength(card.description) > 512)
        return this.err(40058, 'textcard.description required (≤ 512 bytes)');
      if (typeof card.url !== 'string' || !/^https?:\/\//.test(card.url) || card.url.length > 2048)
        return this.err(40058, 'textcard.url must be an http(s) URL');
      content = `${card.title}\n${card.description}`;
      url = card.url;
    } else return this.err(40058, 'the sandbox supports msgtype text and textcard');
    const to = String(b.touser ?? '')
      .split('|')
      .filter(Boolean);
    if (!to.length) return this.err(40058, 'touser required');
    const valid = to.filter((u) => u === '@all' || this.users.get(u)?.status === 1);
    const invalid = to.filter((u) => !valid.includes(u));
    const msgid = `sbxmsg${++this.idSeq}${rand(12)}`;
    if (valid.length)
      this.messages.push({
        at: this.now(),
        touser: valid.join('|'),
        content: content as string,
        msgid,
        msgtype: b.msgtype as 'text' | 'textcard',
        url,
      });
    return this.ok({ invaliduser: invalid.join('|'), msgid });
  }

  groupchatList(b: Record<string, unknown>): Answer {
    const limit = Number(b.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return this.err(40058, 'limit must be 1..1000');
    const filter = (b.owner_filter as { userid_list?: unknown } | undefined)?.userid_list;
    const owners = Array.isArray(filter) ? filter.map(String) : null;
    if (owners && owners.length > 100) return this.err(40058, 'owner_filter.userid_list must have at most 100 ids');
    if (!owners && this.users.size > 1000) return this.err(81017, 'too many members: use owner_filter');
    const status = Number(b.status_filter ?? 0);
    const all = [...this.groups.values()]
      .filter((g) => !g.dismissed && (!owners || owners.includes(g.owner)))
      .map((g) => ({ chat_id: g.chat_id, status: this.users.get(g.owner)?.status === 5 ? 1 : 0 }))
      .filter((g) => status === 0 || g.status === status);
    const start = b.cursor ? Number.parseInt(String(b.cursor), 10) || 0 : 0;
    const page = all.slice(start, start + limit);
    return this.ok({ group_chat_list: page, next_cursor: start + limit < all.length ? String(start + limit) : '' });
  }

  groupchatGet(b: Record<string, unknown>): Answer {
    const g = this.groups.get(String(b.chat_id ?? ''));
    if (!g || g.dismissed) return this.err(40050);
    const withNames = Number(b.need_name ?? 0) === 1;
    return this.ok({
      group_chat: {
        chat_id: g.chat_id,
        name: g.name,
        owner: g.owner,
        create_time: g.create_time,
        notice: g.notice ?? '',
        member_list: g.members.map((m) => ({
          ...m,
          ...(withNames ? { name: this.users.get(m.userid)?.name ?? this.contacts.get(m.userid)?.name ?? '' } : {}),
        })),
        admin_list: [],
        member_version: g.member_version,
      },
    });
  }

  /**
   * Daily figures per day in [begin, end] for the owners' groups. Messages are not simulated:
   * member_has_msg is a stable pseudo-random share (30–70 %) of the members, per owner and day.
   */
  groupchatStatisticByDay(b: Record<string, unknown>): Answer {
    const begin = Number(b.day_begin_time);
    const end = b.day_end_time === undefined ? begin : Number(b.day_end_time);
    if (!Number.isFinite(begin) || begin <= 0 || end < begin) return this.err(40058, 'invalid day range');
    if (end - begin > 29 * 86400) return this.err(40058, 'the range spans at most 30 days');
    const today = Math.floor((this.now() / 1000 + 8 * 3600) / 86400) * 86400 - 8 * 3600;
    if (end >= today) return this.err(40058, 'days must lie before today');
    const filter = (b.owner_filter as { userid_list?: unknown } | undefined)?.userid_list;
    const owners = Array.isArray(filter) ? filter.map(String) : [];
    if (!owners.length || owners.length > 100) return this.err(40058, 'owner_filter.userid_list must have 1..100 ids');
    const groups = [...this.groups.values()].filter((g) => owners.includes(g.owner));
    const items = [];
    for (let day = begin; day <= end; day += 86400) {
      const dayEnd = day + 86400;
      const live = groups.filter((g) => g.create_time < dayEnd && !g.dismissed);
      const members = live.flatMap((g) => g.members.filter((m) => m.join_time < dayEnd));
      const ids = new Set(live.map((g) => g.chat_id));
      const newMembers = this.groupJoins.filter((j) => ids.has(j.chat_id) && j.at >= day && j.at < dayEnd).length;
      let h = day;
      for (const o of owners) for (const ch of o) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      const share = 0.3 + ((h % 1000) / 1000) * 0.4;
      items.push({
        stat_time: day,
        data: {
          new_chat_cnt: live.filter((g) => g.create_time >= day).length,
          chat_total: live.length,
          chat_has_msg: Math.round(live.length * share),
          new_member_cnt: newMembers,
          member_total: members.length,
          member_has_msg: Math.floor(members.length * share),
          msg_total: members.length * 3,
          migrate_trainee_chat_cnt: 0,
        },
      });
    }
    return this.ok({ items });
  }

  ticket(kind: 'jsapi' | 'agent_config'): Answer {
    const now = this.now();
    const cur = this.tickets.get(kind);
    if (cur && cur.expiresAt > now) {
      return this.ok({ ticket: cur.ticket, expires_in: Math.floor((cur.expiresAt - now) / 1000) });
    }
    const ticket = `sbxtkt_${kind}_${rand(40)}`;
    this.tickets.set(kind, { ticket, expiresAt: now + TOKEN_TTL_S * 1000 });
    return this.ok({ ticket, expires_in: TOKEN_TTL_S });
  }

  // ---------- serving ----------

  /** The `/cgi-bin/*` routes as a plugin: register it under a prefix (the app) or at the root (standalone). */
  routes(): FastifyPluginAsync {
    return async (app) => {
      // WeCom accepts JSON bodies whatever the Content-Type says.
      app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      app.route({
        method: ['GET', 'POST'],
        url: '/cgi-bin/*',
        // add_moment_task's sender list alone may hold 100,000 userids.
        bodyLimit: 8 * 1024 * 1024,
        handler: async (req, reply) => {
          const api = (req.params as { '*': string })['*'].replace(/\/+$/, '');
          const query = Object.fromEntries(
            Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
          );
          let body: Record<string, unknown> = {};
          if (typeof req.body === 'string' && req.body.trim()) {
            try {
              body = JSON.parse(req.body);
            } catch {
              return reply.send({ errcode: 47001, errmsg: 'data format error' });
            }
          } else if (req.body && typeof req.body === 'object') body = req.body as Record<string, unknown>;
          const a = this.handle(req.method, api, query, body);
          if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs).unref());
          return reply.code(a.status ?? 200).send(a.body);
        },
      });
    };
  }

  private server?: FastifyInstance;

  /** Standalone: its own Fastify instance listening on 127.0.0.1:`port` (0 = any). Returns the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const app = Fastify({ logger: false });
    await app.register(this.routes());
    await app.listen({ port, host });
    this.server = app;
    const addr = app.server.address();
    const p = typeof addr === 'object' && addr ? addr.port : port;
    return `http://${host}:${p}`;
  }

  /** A Fastify instance serving the routes without listening (unit tests use inject). */
  async instance(): Promise<FastifyInstance> {
    const app = Fastify({ logger: false });
    await app.register(this.routes());
    await app.ready();
    return app;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

interface Handler {
  method: 'GET' | 'POST';
  run(f: FakeWecom, q: Record<string, string>, b: Record<string, unknown>): Answer;
}

const HANDLERS: Record<string, Handler> = {
  'auth/getuserinfo': { method: 'GET', run: (f, q) => f.getuserinfo(q) },
  'user/get': { method: 'GET', run: (f, q) => f.userGet(q) },
  'department/list': { method: 'GET', run: (f, q) => f.departmentList(q) },
  'externalcontact/get': { method: 'GET', run: (f, q) => f.contactGet(q) },
  'externalcontact/batch/get_by_user': { method: 'POST', run: (f, _q, b) => f.batchGetByUser(b) },
  'externalcontact/get_follow_user_list': { method: 'GET', run: (f) => f.followUserList() },
  'externalcontact/get_corp_tag_list': { method: 'POST', run: (f, _q, b) => f.corpTagList(b) },
  'externalcontact/add_corp_tag': { method: 'POST', run: (f, _q, b) => f.addCorpTag(b) },
  'externalcontact/mark_tag': { method: 'POST', run: (f, _q, b) => f.markTag(b) },
  'externalcontact/remark': { method: 'POST', run: (f, _q, b) => f.remark(b) },
  'externalcontact/send_welcome_msg': { method: 'POST', run: (f, _q, b) => f.sendWelcome(b) },
  'externalcontact/add_contact_way': { method: 'POST', run: (f, _q, b) => f.addContactWay(b) },
  'externalcontact/del_contact_way': { method: 'POST', run: (f, _q, b) => f.delContactWay(b) },
  'externalcontact/transfer_customer': { method: 'POST', run: (f, _q, b) => f.transfer('onjob', b) },
  'externalcontact/transfer_result': { method: 'POST', run: (f, _q, b) => f.transferResult('onjob', b) },
  'externalcontact/resigned/transfer_customer': { method: 'POST', run: (f, _q, b) => f.transfer('resigned', b) },
  'externalcontact/resigned/transfer_result': { method: 'POST', run: (f, _q, b) => f.transferResult('resigned', b) },
  'externalcontact/groupchat/list': { method: 'POST', run: (f, _q, b) => f.groupchatList(b) },
  'externalcontact/groupchat/get': { method: 'POST', run: (f, _q, b) => f.groupchatGet(b) },
  'externalcontact/groupchat/statistic_group_by_day': {
    method: 'POST',
    run: (f, _q, b) => f.groupchatStatisticByDay(b),
  },
  'message/send': { method: 'POST', run: (f, _q, b) => f.messageSend(b) },
  'externalcontact/add_msg_template': { method: 'POST', run: (f, _q, b) => f.massSend.addMsgTemplate(b) },
  'externalcontact/get_groupmsg_task': { method: 'POST', run: (f, _q, b) => f.massSend.getTask(b) },
  'externalcontact/get_groupmsg_send_result': { method: 'POST', run: (f, _q, b) => f.massSend.sendResult(b) },
  'externalcontact/get_groupmsg_list_v2': { method: 'POST', run: (f, _q, b) => f.massSend.listTasks(b) },
  'externalcontact/remind_groupmsg_send': { method: 'POST', run: (f, _q, b) => f.massSend.remind(b) },
  'externalcontact/cancel_groupmsg_send': { method: 'POST', run: (f, _q, b) => f.massSend.cancel(b) },
  'externalcontact/add_moment_task': { method: 'POST', run: (f, _q, b) => f.massSend.addMomentTask(b) },
  'externalcontact/get_moment_task_result': { method: 'GET', run: (f, q) => f.massSend.momentResult(q) },
  'externalcontact/get_moment_task': { method: 'POST', run: (f, _q, b) => f.massSend.momentTask(b) },
  'externalcontact/get_moment_list': { method: 'POST', run: (f, _q, b) => f.massSend.listMoments(b) },
  'externalcontact/cancel_moment_task': { method: 'POST', run: (f, _q, b) => f.massSend.cancelMoment(b) },
  get_jsapi_ticket: { method: 'GET', run: (f) => f.ticket('jsapi') },
  'ticket/get': {
    method: 'GET',
    run: (f, q) =>
      q.type === 'agent_config' ? f.ticket('agent_config') : { body: { errcode: 40058, errmsg: 'invalid type' } },
  },
};

export const FAKE_APIS = Object.keys(HANDLERS);

/** A fake corp for `opts` (seeded if `opts.seed` is given). */
export function buildFakeWecom(opts: FakeWecomOptions): FakeWecom {
  return new FakeWecom(opts);
}
