import { reactive, shallowRef } from 'vue';
import { ApiError, type HttpClient } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Bootstrap, JssdkConfig, LinkBody, Me } from '../services/types';
import { JS_API_LIST, type WecomAdapter, WecomError } from '../wecom/adapter';
import { type BrowserEnv, stripHash } from './env';
import { classifyError, wecomReasonZh } from './errors';
import { useAuth } from './useAuth';
import { useCustomerCard } from './useCustomerCard';
import { useMyTemplates } from './useMyTemplates';
import { usePending } from './usePending';
import { useTemplates } from './useTemplates';
import { type Toaster, useToast } from './useToast';
import { useTodo } from './useTodo';

/** What the page shows. Everything but `card` is a full-page state. */
export type Phase =
  | 'loading'
  | 'redirecting'
  | 'not_in_chat'
  | 'group_chat'
  | 'not_found'
  | 'forbidden'
  | 'error'
  | 'todo'
  | 'card';

export interface SidebarState {
  phase: Phase;
  errorCode: string | null;
  /** Title of the error or forbidden screen (Chinese). */
  errorTitle: string | null;
  errorMessage: string | null;
  /** What a re-login could not save (Chinese lines), shown in a banner until dismissed. */
  unsaved: string[];
  /** The card was opened from 今日待办 (the sandbox shows a way back). */
  fromTodo: boolean;
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
    errorTitle: null,
    errorMessage: null,
    unsaved: [],
    fromTodo: false,
    bootstrap: null,
    me: null,
    entry: null,
    chatId: null,
  });
  const adapter = shallowRef<WecomAdapter | null>(null);
  const toast = deps.toast ?? useToast();
  const auth = useAuth(api, env);
  const card = useCustomerCard(api, toast, () => state.me?.name ?? '我');
  const todo = useTodo(api);
  const pending = usePending(env.storage, () => env.now());
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
    onConfirmed: (touchId) => card.confirmTouch(touchId),
  });
  const myTemplates = useMyTemplates({ api, toast, onChanged: () => void templates.refresh() });

  function fail(err: unknown): void {
    const f = classifyError(err);
    state.phase = f.phase;
    state.errorCode = f.code;
    state.errorTitle = f.title;
    state.errorMessage = f.message;
  }

  // Central 401 → re-auth: any call after boot that finds the session gone restarts OAuth. A write
  // is kept and completed after signing in (usePending); if sign-in cannot start, it is reported.
  api.http.onUnauthorized((_error, request) => {
    if (!state.bootstrap) return false;
    const kept = pending.keep(request);
    if (state.phase === 'redirecting') return kept;
    try {
      auth.redirectToOAuth(state.bootstrap);
      state.phase = 'redirecting';
      return kept;
    } catch (err) {
      const lost = pending.abandon();
      fail(err);
      if (lost.length) state.unsaved.push(...lost.map((w) => `${w}（未能重新登录）`));
      return false;
    }
  });

  /** After signing in: complete the writes an expired session interrupted, and say how it went. */
  async function resumePending(): Promise<void> {
    const { saved, lost } = await pending.resume(api.http);
    if (saved.length) toast.show('success', `重新登录后已保存：${saved.join('、')}`);
    if (lost.length) state.unsaved.push(...lost);
  }

  function dismissUnsaved(): void {
    state.unsaved.splice(0);
  }

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

  /** Outside a chat: 今日待办 instead of 不在会话中 (which stays for a role without a list). */
  async function showTodo(): Promise<void> {
    if (state.me?.role === 'operator') {
      state.phase = 'not_in_chat';
      return;
    }
    state.phase = 'todo';
    await todo.load();
  }

  /** The page was opened as 今日待办 (the morning reminder's link: ?view=todo). */
  function wantsTodo(): boolean {
    try {
      return new URL(env.href()).searchParams.get('view') === 'todo';
    } catch {
      return false;
    }
  }

  async function openChat(a: WecomAdapter): Promise<void> {
    let entry: string;
    try {
      entry = (await a.getContext()).entry;
    } catch (err) {
      // Outside WeCom or outside the chat toolbar the SDK refuses getContext.
      if (err instanceof WecomError) {
        await showTodo();
        return;
      }
      throw err;
    }
    state.entry = entry;
    if (wantsTodo() && !state.fromTodo) {
      await showTodo();
      return;
    }
    if (entry === 'single_chat_tools' || entry === 'contact_profile') {
      const { userId } = await a.getCurExternalContact();
      await card.load(userId);
      state.phase = 'card';
    } else if (entry === 'group_chat_tools') {
      state.chatId = (await a.getCurExternalChat()).chatId;
      state.phase = 'group_chat';
    } else {
      await showTodo();
    }
  }

  /**
   * A 今日待办 row: open the chat with that customer. In WeCom the chat window opens (its toolbar
   * shows the card); the sandbox makes it the current chat and this page shows the card.
   */
  async function openCustomerChat(externalUserId: string): Promise<void> {
    const a = adapter.value;
    if (!a) return;
    try {
      await a.openEnterpriseChat({ externalUserIds: [externalUserId] });
    } catch (err) {
      toast.show('error', `无法打开会话：${wecomReasonZh(err)}。可在企业微信中搜索该客户后打开聊天。`);
      return;
    }
    if (a.kind === 'sandbox') {
      state.fromTodo = true;
      state.phase = 'loading';
      try {
        await openChat(a);
      } catch (err) {
        fail(err);
      }
    }
  }

  /** Back from a card opened through 今日待办 (sandbox). */
  async function backToTodo(): Promise<void> {
    state.fromTodo = false;
    await showTodo();
  }

  async function start(): Promise<void> {
    state.phase = 'loading';
    state.errorCode = null;
    state.errorTitle = null;
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
      await resumePending();
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
      // Sign-in failed: the writes kept for after it will not be saved by this page; say which.
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        const lost = pending.abandon();
        if (lost.length) state.unsaved.push(...lost.map((w) => `${w}（未能重新登录）`));
      }
    }
  }

  /** 重试: run the flow again from the first step that has not succeeded. */
  function retry(): Promise<void> {
    return start();
  }

  async function link(proof: LinkBody): Promise<void> {
    if (await card.link(proof)) state.phase = 'card';
  }

  /** 重新登录 on a failed sign-in screen: a fresh OAuth round trip. */
  function relogin(): void {
    if (!state.bootstrap) {
      void start();
      return;
    }
    try {
      auth.redirectToOAuth(state.bootstrap);
      state.phase = 'redirecting';
    } catch (err) {
      fail(err);
    }
  }

  return {
    state,
    api,
    adapter,
    toast,
    card,
    templates,
    myTemplates,
    todo,
    start,
    retry,
    relogin,
    link,
    openCustomerChat,
    backToTodo,
    dismissUnsaved,
  };
}

export type Sidebar = ReturnType<typeof useSidebar>;
