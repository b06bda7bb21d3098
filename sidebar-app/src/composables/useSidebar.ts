import { reactive, shallowRef } from 'vue';
import { ApiError, type HttpClient } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Bootstrap, JssdkConfig, LinkBody, Me } from '../services/types';
import { JS_API_LIST, type WecomAdapter, WecomError } from '../wecom/adapter';
import { type BrowserEnv, stripHash } from './env';
import { classifyError } from './errors';
import { useAuth } from './useAuth';
import { useCustomerCard } from './useCustomerCard';
import { useMyTemplates } from './useMyTemplates';
import { useTemplates } from './useTemplates';
import { type Toaster, useToast } from './useToast';

/** What the page shows. Everything but `card` is a full-page state. */
export type Phase =
  | 'loading'
  | 'redirecting'
  | 'not_in_chat'
  | 'group_chat'
  | 'not_found'
  | 'forbidden'
  | 'error'
  | 'card';

export interface SidebarState {
  phase: Phase;
  errorCode: string | null;
  errorMessage: string | null;
  bootstrap: Bootstrap | null;
  me: Me | null;
  entry: string | null;
  chatId: string | null;
}

export interface SidebarDeps {
  api: SidebarApi;
  env: BrowserEnv;
  createAdapter(
    sandbox: boolean,
    http: HttpClient,
    opts: { pageUrl: () => string; userid: () => string | undefined },
  ): Promise<WecomAdapter>;
  toast?: Toaster;
}

/** Boot flow and page state: bootstrap → session (OAuth) → JS-SDK → chat context → card. */
export function useSidebar(deps: SidebarDeps) {
  const { api, env } = deps;
  const state = reactive<SidebarState>({
    phase: 'loading',
    errorCode: null,
    errorMessage: null,
    bootstrap: null,
    me: null,
    entry: null,
    chatId: null,
  });
  const adapter = shallowRef<WecomAdapter | null>(null);
  const toast = deps.toast ?? useToast();
  const auth = useAuth(api, env);
  const card = useCustomerCard(api, toast);
  const templates = useTemplates({
    api,
    toast,
    adapter: () => adapter.value,
    copyText: (text) => env.copyText(text),
    context: () =>
      card.state.customer
        ? { externalUserId: card.state.customer.externalUserId, stage: card.state.customer.stage }
        : null,
    suggestions: () => card.state.templates,
    onTouch: (touch, progress) => card.addTouch(touch, progress),
    onProgress: (progress) => card.setProgress(progress),
  });
  const myTemplates = useMyTemplates({ api, toast, onChanged: () => void templates.refresh() });

  function fail(err: unknown): void {
    const f = classifyError(err);
    state.phase = f.phase;
    state.errorCode = f.code;
    state.errorMessage = f.message;
  }

  // Central 401 → re-auth: any call after boot that finds the session gone restarts OAuth.
  api.http.onUnauthorized(() => {
    if (!state.bootstrap || state.phase === 'redirecting') return;
    try {
      auth.redirectToOAuth(state.bootstrap);
      state.phase = 'redirecting';
    } catch (err) {
      fail(err);
    }
  });

  /** One /jssdk-config answer carries both signatures; the SDK asks for them separately. */
  function signer() {
    const cache = new Map<string, Promise<JssdkConfig>>();
    const get = (url: string) => {
      const key = stripHash(url);
      let p = cache.get(key);
      if (!p) {
        p = api.jssdkConfig(key);
        p.catch(() => cache.delete(key));
        cache.set(key, p);
      }
      return p;
    };
    return {
      corp: (url: string) => get(url).then((c) => c.corp),
      agent: (url: string) => get(url).then((c) => c.agent),
    };
  }

  async function openChat(a: WecomAdapter): Promise<void> {
    let entry: string;
    try {
      entry = (await a.getContext()).entry;
    } catch (err) {
      // Outside WeCom or outside the chat toolbar the SDK refuses getContext.
      if (err instanceof WecomError) {
        state.phase = 'not_in_chat';
        return;
      }
      throw err;
    }
    state.entry = entry;
    if (entry === 'single_chat_tools' || entry === 'contact_profile') {
      const { userId } = await a.getCurExternalContact();
      await card.load(userId);
      state.phase = 'card';
    } else if (entry === 'group_chat_tools') {
      state.chatId = (await a.getCurExternalChat()).chatId;
      state.phase = 'group_chat';
    } else {
      state.phase = 'not_in_chat';
    }
  }

  async function start(): Promise<void> {
    state.phase = 'loading';
    state.errorCode = null;
    state.errorMessage = null;
    try {
      if (!state.bootstrap) state.bootstrap = await api.bootstrap();
      const boot = state.bootstrap;
      if (!state.me) {
        const me = await auth.ensureSession(boot);
        if (!me) {
          state.phase = 'redirecting';
          return;
        }
        state.me = me;
      }
      if (!adapter.value) {
        const a = await deps.createAdapter(boot.sandbox, api.http, {
          pageUrl: () => env.href(),
          userid: () => state.me?.userid,
        });
        const sign = signer();
        await a.register({
          corpId: boot.corpId,
          agentId: boot.agentId,
          jsApiList: JS_API_LIST,
          getConfigSignature: sign.corp,
          getAgentConfigSignature: sign.agent,
        });
        adapter.value = a;
      }
      await openChat(adapter.value);
    } catch (err) {
      if (state.phase === 'redirecting') return;
      if (err instanceof ApiError && err.status === 401 && err.code !== 'session_not_kept') {
        // Session exchange failed (code reused/expired, state mismatch): a retry starts a fresh OAuth.
        state.me = null;
      }
      fail(err);
    }
  }

  /** 重试: run the flow again from the first step that has not succeeded. */
  function retry(): Promise<void> {
    return start();
  }

  async function link(proof: LinkBody): Promise<void> {
    if (await card.link(proof)) state.phase = 'card';
  }

  return { state, api, adapter, toast, card, templates, myTemplates, start, retry, link };
}

export type Sidebar = ReturnType<typeof useSidebar>;
