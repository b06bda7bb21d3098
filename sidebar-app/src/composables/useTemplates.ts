import { computed, reactive } from 'vue';
import { isStage } from '../../../server/playbook/stages';
import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Attachment, PrepareReply, Progress, Template, Touch, TouchChannel } from '../services/types';
import type { WecomAdapter } from '../wecom/adapter';
import { WecomError } from '../wecom/adapter';
import { copyTextOf, planAttachments } from './attachments';
import { messageFor } from './errors';
import type { Toaster } from './useToast';

export type TemplateTab = 'suggested' | 'mine';

/** What 发送 / 复制 need of a script: the server prepares the text itself. */
export interface TemplateRef {
  id: number;
  title: string;
}

export interface TemplatesState {
  tab: TemplateTab;
  q: string;
  /** Filters of the list: one category, one stage (and any-stage scripts); null = all. */
  category: string | null;
  onlyStage: number | null;
  /** Categories of the scripts this manager may use (the filter's options). */
  categories: string[];
  /**
   * Result of the last search/refresh; null = show the suggestions that came with the card (until a
   * send or a stage change makes them stale).
   */
  results: Template[] | null;
  searching: boolean;
  searchError: string | null;
  /** Template id being sent or copied. */
  busyId: number | null;
  lastSentId: number | null;
  /** A copied script waiting for the manager's 已发送 (a copy alone does not move the stage). */
  pendingConfirm: { touchId: number; templateId: number; title: string } | null;
  confirming: boolean;
  settingStage: boolean;
}

export interface TemplatesDeps {
  api: SidebarApi;
  adapter: () => WecomAdapter | null;
  toast: Toaster;
  copyText(text: string): Promise<void>;
  /** Current customer: external_userid and stage. */
  context(): { externalUserId: string; stage: number } | null;
  suggestions(): Template[];
  /** A send or copy was recorded; `progress` is the customer's stage after it (server truth). */
  onTouch(touch: Touch, progress?: Progress): void;
  /** The stage moved without a new touch row here (已发送, or set by hand). */
  onProgress?(progress: Progress): void;
  /** 已发送 was recorded for this copy touch: it now counts as sent. */
  onConfirmed?(touchId: number): void;
  debounceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Codes that mean "this script may not be sent any more": say so, then reload the list. */
const GONE = new Set(['template_expired', 'template_retired', 'template_not_found', 'template_invalid']);

/**
 * Why the chat did not take a message, in plain Chinese: managers never see the SDK's errMsg
 * (it names the API, e.g. "sendChatMessage:fail no permission").
 */
export function reason(err: unknown): string {
  const msg = err instanceof WecomError ? err.errMsg : err instanceof Error ? err.message : String(err);
  if (/cancel/i.test(msg)) return '已取消';
  if (/permission|not allow|forbid|denied/i.test(msg)) return '没有发送权限';
  if (/timeout|network/i.test(msg)) return '网络不稳定';
  return '企业微信未能发送';
}

/** The session expired on this call: the page signs in again (a kept write is completed then). */
const reauthPending = (err: unknown) => err instanceof ApiError && err.code === 'reauth_pending';

export function useTemplates(deps: TemplatesDeps) {
  const state = reactive<TemplatesState>({
    tab: 'suggested',
    q: '',
    category: null,
    onlyStage: null,
    categories: [],
    results: null,
    searching: false,
    searchError: null,
    busyId: null,
    lastSentId: null,
    pendingConfirm: null,
    confirming: false,
    settingStage: false,
  });
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let timer: unknown = null;
  // Answers can arrive out of order; only the latest request may write the results.
  let seq = 0;
  /** The card's suggestions were ranked for a stage that has moved since. */
  let stale = false;

  const visible = computed<Template[]>(() => state.results ?? deps.suggestions());

  /** Loads the list for the current query, filters and stage. */
  async function search(): Promise<void> {
    const ctx = deps.context();
    const q = state.q.trim();
    // The suggestions from the card already are the answer without query or filter.
    if (!q && state.category === null && state.onlyStage === null && !stale) {
      seq++;
      state.results = null;
      state.searching = false;
      state.searchError = null;
      return;
    }
    const mine = ++seq;
    state.searching = true;
    state.searchError = null;
    try {
      const res = await deps.api.templates({
        q: q || undefined,
        stage: ctx?.stage,
        externalUserId: ctx?.externalUserId,
        category: state.category ?? undefined,
        onlyStage: state.onlyStage ?? undefined,
      });
      if (mine === seq) state.results = res.templates;
    } catch (err) {
      if (mine === seq) state.searchError = err instanceof ApiError ? messageFor(err.code, '搜索失败') : '搜索失败';
    } finally {
      if (mine === seq) state.searching = false;
    }
  }

  /** After a send or a stage change: the list is ranked again for the customer's new stage. */
  function refresh(): Promise<void> {
    stale = true;
    return search();
  }

  function setQuery(q: string): void {
    state.q = q;
    if (timer !== null) clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      void search();
    }, deps.debounceMs ?? 250);
  }

  function setCategory(category: string | null): Promise<void> {
    state.category = category || null;
    return search();
  }

  function setOnlyStage(stage: number | null): Promise<void> {
    state.onlyStage = isStage(stage) ? stage : null;
    return search();
  }

  function setTab(tab: TemplateTab): void {
    state.tab = tab;
  }

  async function loadCategories(): Promise<void> {
    try {
      state.categories = (await deps.api.templateCategories()).categories;
    } catch {
      // The filter then offers 全部分类 only; the list itself still works.
      state.categories = [];
    }
  }

  /**
   * A refusal of a script that changed since the list loaded (expired, retired): say so in plain
   * Chinese and reload the list so it disappears. Returns false for any other error.
   */
  function refused(err: unknown): boolean {
    if (!(err instanceof ApiError) || !GONE.has(err.code)) return false;
    deps.toast.show('error', messageFor(err.code));
    void refresh();
    return true;
  }

  /** The exact text to send now; null (and a toast) when the server refuses. */
  async function prepare(template: TemplateRef, what: string): Promise<PrepareReply | null> {
    const ctx = deps.context();
    if (!ctx) return null;
    try {
      return await deps.api.prepare(template.id, ctx.externalUserId, template.title);
    } catch (err) {
      // Nothing went out; after signing in again the page says so (usePending, notice).
      if (reauthPending(err)) deps.toast.show('info', `登录已过期，正在重新登录，${what}未完成`);
      else if (!refused(err)) {
        deps.toast.show('error', `${what}失败：${err instanceof ApiError ? messageFor(err.code) : '请重试'}`);
      }
      return null;
    }
  }

  /** The touch; 'later' when it was kept to record after signing in again; null when not recorded. */
  async function record(template: TemplateRef, channel: TouchChannel): Promise<Touch | 'later' | null> {
    const ctx = deps.context();
    if (!ctx) return null;
    try {
      const res = await deps.api.recordTouch(ctx.externalUserId, template.id, channel, template.title);
      deps.onTouch(res.touch, res.progress);
      return res.touch;
    } catch (err) {
      return reauthPending(err) ? 'later' : null;
    }
  }

  /**
   * One click: the server prepares the text (variables filled, disclaimer appended; refused if the
   * script expired or was retired since the list loaded), then the text and each attachment (link
   * card, image) go out, one sendChatMessage each, then ONE touch. The first failure stops the rest.
   * Once the text is in the chat the customer has been contacted, so the touch is recorded even if
   * an attachment failed; the toast says what is missing. The list then reloads for the new stage.
   */
  async function send(template: TemplateRef): Promise<boolean> {
    const adapter = deps.adapter();
    if (!adapter || state.busyId !== null) return false;
    state.busyId = template.id;
    try {
      const prepared = await prepare(template, '发送');
      if (!prepared) return false;
      const plan = planAttachments(prepared.attachments as Attachment[]);
      try {
        await adapter.sendChatMessage({ msgtype: 'text', text: { content: prepared.text } });
      } catch (err) {
        deps.toast.show('error', `发送失败，可点击“复制”后手动粘贴（${reason(err)}）`);
        return false;
      }
      let failed: string | null = null;
      for (const { message, label } of plan.messages) {
        try {
          await adapter.sendChatMessage(message);
        } catch (err) {
          failed = `文字已发送，但${label}发送失败（${reason(err)}），请手动补发`;
          break;
        }
      }
      state.lastSentId = template.id;
      if (state.pendingConfirm?.templateId === template.id) state.pendingConfirm = null;
      const touch = await record(template, 'send');
      const recorded = touch !== null;
      if (touch === 'later') deps.toast.show('info', '消息已发送。登录已过期，正在重新登录，完成后自动补存触达记录');
      else if (failed) deps.toast.show('error', recorded ? failed : `${failed}；触达记录保存失败`);
      else if (!recorded) deps.toast.show('error', '消息已发送，但触达记录保存失败');
      else deps.toast.show('success', plan.manual ? '已发送，图片需手动发送' : '已发送');
      if (touch !== null && touch !== 'later') void refresh();
      return failed === null;
    } finally {
      state.busyId = null;
    }
  }

  /**
   * Fallback when sending is not possible: copy the prepared text (and link URLs) and record a
   * "copy" touch. A copy does not move the stage: the manager confirms 已发送 after pasting.
   */
  async function copy(template: TemplateRef): Promise<boolean> {
    if (state.busyId !== null) return false;
    state.busyId = template.id;
    try {
      const prepared = await prepare(template, '复制');
      if (!prepared) return false;
      try {
        await deps.copyText(copyTextOf({ text: prepared.text, attachments: prepared.attachments as Attachment[] }));
      } catch {
        deps.toast.show('error', '复制失败，请长按文字手动复制');
        return false;
      }
      const touch = await record(template, 'copy');
      if (touch === 'later') deps.toast.show('info', '已复制。登录已过期，正在重新登录，完成后自动补存记录');
      else if (touch) {
        state.pendingConfirm = { touchId: touch.id, templateId: template.id, title: template.title };
        deps.toast.show('success', '已复制，粘贴发送后请点“已发送”');
      } else deps.toast.show('error', '已复制，但触达记录保存失败');
      return true;
    } finally {
      state.busyId = null;
    }
  }

  /** 已发送: the copied script was pasted and sent; now it counts, and the list reloads. */
  async function confirmSent(): Promise<boolean> {
    const pending = state.pendingConfirm;
    if (!pending || state.confirming) return false;
    state.confirming = true;
    try {
      const res = await deps.api.confirmTouch(pending.touchId);
      deps.onProgress?.(res.progress);
      deps.onConfirmed?.(pending.touchId);
      state.pendingConfirm = null;
      state.lastSentId = pending.templateId;
      deps.toast.show('success', '已记录发送');
      void refresh();
      return true;
    } catch (err) {
      deps.toast.show('error', `记录失败：${err instanceof ApiError ? messageFor(err.code) : '请重试'}`);
      if (err instanceof ApiError && (err.code === 'touch_not_found' || err.code === 'touch_not_copy')) {
        state.pendingConfirm = null;
      }
      return false;
    } finally {
      state.confirming = false;
    }
  }

  function dismissConfirm(): void {
    state.pendingConfirm = null;
  }

  /** The manager sets the customer's stage by hand (第1–4次触达); the list reloads for it. */
  async function setStage(stage: number): Promise<boolean> {
    const ctx = deps.context();
    if (!ctx || state.settingStage || !isStage(stage)) return false;
    state.settingStage = true;
    try {
      const res = await deps.api.setStage(ctx.externalUserId, stage);
      deps.onProgress?.(res.progress);
      deps.toast.show('success', `已调整为第${res.progress.stage}次触达`);
      void refresh();
      return true;
    } catch (err) {
      deps.toast.show('error', `调整失败：${err instanceof ApiError ? messageFor(err.code) : '请重试'}`);
      return false;
    } finally {
      state.settingStage = false;
    }
  }

  return {
    state,
    visible,
    search,
    refresh,
    setQuery,
    setCategory,
    setOnlyStage,
    setTab,
    loadCategories,
    send,
    copy,
    confirmSent,
    dismissConfirm,
    setStage,
  };
}

export type Templates = ReturnType<typeof useTemplates>;
