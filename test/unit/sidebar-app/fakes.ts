// Test doubles for the sidebar-app unit tests: a scripted fetch, an in-memory browser env,
// and a recording WeCom adapter. Only I/O is faked; the code under test is the real one.
import type { BrowserEnv } from '../../../sidebar-app/src/composables/env';
import type { FetchLike, FetchResponseLike } from '../../../sidebar-app/src/services/http';
import type { CardResponse, Customer, Template } from '../../../sidebar-app/src/services/types';
import type { ChatMessage, RegisterOptions, WecomAdapter } from '../../../sidebar-app/src/wecom/adapter';

export interface Call {
  method: string;
  url: string;
  body: unknown;
  credentials: string;
  headers: Record<string, string>;
}

type Handler = (call: Call) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;

/** fetch stub answering by "METHOD /path" (query ignored for matching); records every call. */
export function scriptedFetch(routes: Record<string, Handler | { status: number; body?: unknown }>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call: Call = {
      method: init.method,
      url,
      body: init.body ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
      headers: init.headers,
    };
    calls.push(call);
    const path = url.split('?')[0];
    const route = routes[`${init.method} ${path}`];
    if (!route) throw new TypeError(`Failed to fetch ${init.method} ${path}`);
    const res = typeof route === 'function' ? await route(call) : route;
    const text = res.body === undefined ? '' : typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    const response: FetchResponseLike = {
      status: res.status,
      ok: res.status >= 200 && res.status < 300,
      text: async () => text,
    };
    return response;
  };
  return { fetch, calls };
}

export function memoryEnv(href: string) {
  const store = new Map<string, string>();
  const redirects: string[] = [];
  const replaced: string[] = [];
  const copied: string[] = [];
  let current = href;
  let clock = 1_700_000_000_000;
  let stateSeq = 0;
  const env: BrowserEnv = {
    href: () => current,
    replaceUrl: (url) => {
      replaced.push(url);
      current = url;
    },
    redirect: (url) => void redirects.push(url),
    storage: {
      getItem: (k) => (store.has(k) ? (store.get(k) as string) : null),
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    },
    randomState: () => `state${++stateSeq}`,
    now: () => clock,
    copyText: async (text) => void copied.push(text),
  };
  return {
    env,
    store,
    redirects,
    replaced,
    copied,
    setHref: (h: string) => (current = h),
    advance: (ms: number) => (clock += ms),
  };
}

export function fakeAdapter(
  opts: {
    entry?: string;
    userId?: string;
    chatId?: string;
    sendError?: unknown;
    /** Fails only the messages of this msgtype. */
    failMsgtype?: ChatMessage['msgtype'];
  } = {},
) {
  const sent: ChatMessage[] = [];
  const registered: RegisterOptions[] = [];
  const adapter: WecomAdapter = {
    kind: 'sandbox',
    async register(o) {
      registered.push(o);
      await o.getConfigSignature('https://sb.example/sidebar/');
      await o.getAgentConfigSignature('https://sb.example/sidebar/');
    },
    getContext: async () => ({ entry: opts.entry ?? 'single_chat_tools' }),
    getCurExternalContact: async () => ({ userId: opts.userId ?? 'wmCUST1' }),
    getCurExternalChat: async () => ({ chatId: opts.chatId ?? 'wrCHAT1' }),
    openEnterpriseChat: async () => {},
    async sendChatMessage(m) {
      if (opts.sendError && (!opts.failMsgtype || opts.failMsgtype === m.msgtype)) throw opts.sendError;
      sent.push(m);
    },
  };
  return { adapter, sent, registered };
}

export function template(over: Partial<Template> = {}): Template {
  return {
    id: 1,
    title: '首次问候',
    content: '王先生您好，我是客户经理李雷',
    disclaimer: null,
    text: '王先生您好，我是客户经理李雷',
    category: null,
    version: 1,
    stage: 1,
    segments: ['代发'],
    product: null,
    owner: 'corp',
    score: 10,
    reasons: [],
    attachments: [],
    ...over,
    ...(over.text === undefined && (over.content !== undefined || over.disclaimer !== undefined)
      ? { text: [over.content ?? '王先生您好，我是客户经理李雷', over.disclaimer].filter(Boolean).join('\n\n') }
      : {}),
  };
}

export function customer(over: Partial<Customer> = {}): Customer {
  return {
    externalUserId: 'wmCUST1',
    name: '王*明',
    segment: '代发',
    bankCustomerId: 'C0001',
    owner: { userid: 'lilei', name: '李雷', branchCode: 'B001', branchName: '朝阳支行' },
    branchName: '朝阳支行',
    corpTags: [
      {
        groupId: 'g1',
        groupName: '客户意向',
        tags: [
          { id: 't1', name: '高意向', selected: true },
          { id: 't2', name: '待跟进', selected: false },
        ],
      },
    ],
    bankTags: ['代发工资'],
    stage: 1,
    touchCount: 0,
    touches: [],
    allocation: { reason: 'owner', summaryZh: '管户经理', ruleVersion: 'v1' },
    followedSince: '2026-11-01T02:00:00.000Z',
    ...over,
  };
}

export function cardResponse(over: Partial<Customer> = {}, templates: Template[] = [template()]): CardResponse {
  return { customer: customer(over), templates };
}

/** Let queued promise callbacks run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
