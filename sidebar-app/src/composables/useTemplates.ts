import { computed, reactive } from 'vue';
import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Template, Touch, TouchChannel } from '../services/types';
import type { WecomAdapter } from '../wecom/adapter';
import { WecomError } from '../wecom/adapter';
import { copyTextOf, planAttachments } from './attachments';
import { messageFor } from './errors';
import type { Toaster } from './useToast';

export type TemplateTab = 'suggested' | 'mine';

export interface TemplatesState {
  tab: TemplateTab;
  q: string;
  /** Result of the last search; null = show the suggestions that came with the card. */
  results: Template[] | null;
  searching: boolean;
  searchError: string | null;
  /** Template id being sent or copied. */
  busyId: number | null;
  lastSentId: number | null;
}

export interface TemplatesDeps {
  api: SidebarApi;
  adapter: () => WecomAdapter | null;
  toast: Toaster;
  copyText(text: string): Promise<void>;
  /** Current customer: external_userid and stage. */
  context(): { externalUserId: string; stage: number } | null;
  suggestions(): Template[];
  onTouch(touch: Touch): void;
  debounceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The SDK's errMsg, or the message of whatever else failed (e.g. the sandbox answering 400). */
function reason(err: unknown): string {
  if (err instanceof WecomError) return err.errMsg;
  return err instanceof Error ? err.message : String(err);
}

export function useTemplates(deps: TemplatesDeps) {
  const state = reactive<TemplatesState>({
    tab: 'suggested',
    q: '',
    results: null,
    searching: false,
    searchError: null,
    busyId: null,
    lastSentId: null,
  });
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let timer: unknown = null;
  // Answers can arrive out of order; only the latest request may write the results.
  let seq = 0;

  const visible = computed<Template[]>(() => {
    const list = state.results ?? deps.suggestions();
    return state.tab === 'mine' ? list.filter((t) => t.owner === 'mine') : list;
  });

  async function search(): Promise<void> {
    const ctx = deps.context();
    const q = state.q.trim();
    // The suggestions from the card already are the empty-query answer for "suggested".
    if (!q && state.tab === 'suggested') {
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
      });
      if (mine === seq) state.results = res.templates;
    } catch (err) {
      if (mine === seq) state.searchError = err instanceof ApiError ? messageFor(err.code, '搜索失败') : '搜索失败';
    } finally {
      if (mine === seq) state.searching = false;
    }
  }

  function setQuery(q: string): void {
    state.q = q;
    if (timer !== null) clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      void search();
    }, deps.debounceMs ?? 250);
  }

  function setTab(tab: TemplateTab): void {
    if (state.tab === tab) return;
    state.tab = tab;
    void search();
  }

  async function record(template: Template, channel: TouchChannel): Promise<boolean> {
    const ctx = deps.context();
    if (!ctx) return false;
    try {
      const res = await deps.api.recordTouch(ctx.externalUserId, template.id, channel);
      deps.onTouch(res.touch);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * One click: the text, then each attachment (link card, image), one sendChatMessage each, then ONE
   * touch. The first failure stops the rest. Once the text is in the chat the customer has been
   * contacted, so the touch is recorded even if an attachment failed; the toast says what is missing.
   */
  async function send(template: Template): Promise<boolean> {
    const adapter = deps.adapter();
    if (!adapter || state.busyId !== null) return false;
    state.busyId = template.id;
    try {
      const plan = planAttachments(template.attachments);
      try {
        // The server's send text: variables filled and the risk disclaimer appended (issue 12).
        await adapter.sendChatMessage({ msgtype: 'text', text: { content: template.text } });
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
      const recorded = await record(template, 'send');
      if (failed) deps.toast.show('error', recorded ? failed : `${failed}；触达记录保存失败`);
      else if (!recorded) deps.toast.show('error', '消息已发送，但触达记录保存失败');
      else deps.toast.show('success', plan.manual ? '已发送，图片需手动发送' : '已发送');
      return failed === null;
    } finally {
      state.busyId = null;
    }
  }

  /** Fallback when sending is not possible: copy (text and link URLs), and record a "copy" touch. */
  async function copy(template: Template): Promise<boolean> {
    if (state.busyId !== null) return false;
    state.busyId = template.id;
    try {
      try {
        await deps.copyText(copyTextOf(template));
      } catch {
        deps.toast.show('error', '复制失败，请长按文字手动复制');
        return false;
      }
      if (await record(template, 'copy')) deps.toast.show('success', '已复制，请粘贴到会话中');
      else deps.toast.show('error', '已复制，但触达记录保存失败');
      return true;
    } finally {
      state.busyId = null;
    }
  }

  return { state, visible, search, setQuery, setTab, send, copy };
}

export type Templates = ReturnType<typeof useTemplates>;
