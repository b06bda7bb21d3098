import { reactive } from 'vue';
import { isStage } from '../../../server/playbook/stages';
import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Finding, LibraryTemplate, RiskClass, TemplateInput, TemplateSource } from '../services/types';
import { NEEDS_DISCLAIMER } from './compliance';
import { messageFor } from './errors';
import type { Toaster } from './useToast';

/** What the editor holds; empty strings are sent as null. */
export interface DraftForm {
  title: string;
  body: string;
  category: string;
  /** 0 = any stage. */
  stage: number;
  product: string;
  riskClass: RiskClass;
  disclaimer: string;
}

export interface EditorState {
  /** null = a new script. */
  id: number | null;
  form: DraftForm;
  /** Fields of a script saved from another one that the editor does not show (kept as they were). */
  carried: Pick<TemplateInput, 'segments' | 'attachments'>;
  /** Findings of the last check, and the text they were made for (marks only match that text). */
  findings: Finding[];
  checkedFor: { title: string; body: string; disclaimer: string } | null;
  checking: boolean;
  checkError: string | null;
  saving: boolean;
  saveError: string | null;
}

export interface MyTemplatesState {
  items: LibraryTemplate[];
  loaded: boolean;
  loading: boolean;
  error: string | null;
  editor: EditorState | null;
  /** The script whose 删除 asks for a second click. */
  confirmDeleteId: number | null;
  deletingId: number | null;
}

export interface MyTemplatesDeps {
  api: SidebarApi;
  toast: Toaster;
  /** A script was saved or deleted: the suggestion list may change. */
  onChanged?(): void;
  debounceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const emptyForm = (): DraftForm => ({
  title: '',
  body: '',
  category: '',
  stage: 0,
  product: '',
  riskClass: 'none',
  disclaimer: '',
});

export function toInput(form: DraftForm, carried: EditorState['carried'] = {}): TemplateInput {
  const opt = (s: string) => s.trim() || null;
  return {
    title: form.title,
    body: form.body,
    category: opt(form.category),
    stage: isStage(form.stage) ? form.stage : null,
    product: opt(form.product),
    riskClass: form.riskClass,
    // Only classes that carry one send it: a leftover text of another class is not checked.
    disclaimer: NEEDS_DISCLAIMER.includes(form.riskClass) ? opt(form.disclaimer) : null,
    ...(carried.segments?.length ? { segments: carried.segments } : {}),
    ...(carried.attachments?.length ? { attachments: carried.attachments } : {}),
  };
}

function formOf(t: Pick<LibraryTemplate, keyof TemplateSource>): DraftForm {
  return {
    title: t.title,
    body: t.body,
    category: t.category ?? '',
    stage: t.stage ?? 0,
    product: t.product ?? '',
    riskClass: t.riskClass,
    disclaimer: t.disclaimer ?? '',
  };
}

function findingsOf(err: unknown): Finding[] | null {
  if (!(err instanceof ApiError) || err.code !== 'template_noncompliant') return null;
  const f = (err.details as { findings?: unknown } | undefined)?.findings;
  return Array.isArray(f) ? (f as Finding[]) : null;
}

/**
 * 我的话术: the manager's own scripts (every status but deleted), the editor with the live
 * compliance check (debounced calls of the server's check, latest answer wins), save and delete.
 */
export function useMyTemplates(deps: MyTemplatesDeps) {
  const state = reactive<MyTemplatesState>({
    items: [],
    loaded: false,
    loading: false,
    error: null,
    editor: null,
    confirmDeleteId: null,
    deletingId: null,
  });
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let timer: unknown = null;
  let checkSeq = 0;

  async function load(): Promise<void> {
    state.loading = true;
    state.error = null;
    try {
      // Newest first: what was just written is on top.
      state.items = (await deps.api.myTemplates()).templates.slice().sort((a, b) => b.id - a.id);
      state.loaded = true;
    } catch (err) {
      state.error = err instanceof ApiError ? messageFor(err.code, '我的话术加载失败') : '我的话术加载失败';
    } finally {
      state.loading = false;
    }
  }

  function open(id: number | null, form: DraftForm, carried: EditorState['carried'] = {}): void {
    state.editor = {
      id,
      form,
      carried,
      findings: [],
      checkedFor: null,
      checking: false,
      checkError: null,
      saving: false,
      saveError: null,
    };
    if (form.title || form.body) void check();
  }

  function openNew(): void {
    open(null, emptyForm());
  }

  function openEdit(t: LibraryTemplate): void {
    open(t.id, formOf(t), { segments: t.segments, attachments: t.attachments });
  }

  /** 存为我的话术: a copy of a script the manager may use, in its own wording (variables unfilled). */
  async function saveAsMine(t: { id: number; title: string }): Promise<boolean> {
    try {
      const { source } = await deps.api.templateSource(t.id);
      open(
        null,
        { ...formOf(source), title: `${source.title}（我的）`.slice(0, 128) },
        {
          segments: source.segments,
          attachments: source.attachments,
        },
      );
      return true;
    } catch (err) {
      deps.toast.show('error', err instanceof ApiError ? messageFor(err.code, '无法读取该话术') : '无法读取该话术');
      return false;
    }
  }

  function close(): void {
    if (timer !== null) clearTimer(timer);
    timer = null;
    checkSeq++;
    state.editor = null;
  }

  /** The live check: the server's check of the whole draft. Only the latest answer is kept. */
  async function check(): Promise<void> {
    const ed = state.editor;
    if (!ed) return;
    const mine = ++checkSeq;
    const snapshot = { title: ed.form.title, body: ed.form.body, disclaimer: ed.form.disclaimer };
    ed.checking = true;
    try {
      const res = await deps.api.checkTemplate(toInput(ed.form, ed.carried));
      if (mine !== checkSeq || state.editor !== ed) return;
      ed.findings = res.findings;
      ed.checkedFor = snapshot;
      ed.checkError = null;
    } catch (err) {
      if (mine !== checkSeq || state.editor !== ed) return;
      ed.checkError = err instanceof ApiError ? messageFor(err.code, '合规检查暂不可用') : '合规检查暂不可用';
    } finally {
      if (mine === checkSeq && state.editor === ed) ed.checking = false;
    }
  }

  /** A field changed: check again once typing pauses. */
  function edit<K extends keyof DraftForm>(field: K, value: DraftForm[K]): void {
    const ed = state.editor;
    if (!ed) return;
    ed.form[field] = value;
    ed.saveError = null;
    if (timer !== null) clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      void check();
    }, deps.debounceMs ?? 400);
  }

  /** Saves (new or edit). Personal scripts go to review unless the bank does not review them. */
  async function save(): Promise<boolean> {
    const ed = state.editor;
    if (!ed || ed.saving) return false;
    ed.saving = true;
    ed.saveError = null;
    try {
      const input = toInput(ed.form, ed.carried);
      const res =
        ed.id === null ? await deps.api.createMyTemplate(input) : await deps.api.updateMyTemplate(ed.id, input);
      const t = res.template;
      state.items = [t, ...state.items.filter((x) => x.id !== t.id)].sort((a, b) => b.id - a.id);
      close();
      deps.toast.show('success', t.status === 'approved' ? '已保存，可直接使用' : '已提交审核，审核通过后即可使用');
      deps.onChanged?.();
      // An edit of an approved script is a new version: reload to show both.
      if (ed.id !== null && t.id !== ed.id) void load();
      return true;
    } catch (err) {
      const findings = findingsOf(err);
      if (findings) {
        ed.findings = findings;
        ed.checkedFor = { title: ed.form.title, body: ed.form.body, disclaimer: ed.form.disclaimer };
        ed.saveError = '未通过合规检查，请按提示修改后再保存';
      } else {
        ed.saveError = err instanceof ApiError ? messageFor(err.code, '保存失败，请重试') : '保存失败，请重试';
      }
      return false;
    } finally {
      ed.saving = false;
    }
  }

  /** 删除 asks once more; the second click deletes (the script is retired and kept for audit). */
  async function remove(t: LibraryTemplate): Promise<boolean> {
    if (state.confirmDeleteId !== t.id) {
      state.confirmDeleteId = t.id;
      return false;
    }
    state.confirmDeleteId = null;
    state.deletingId = t.id;
    try {
      await deps.api.deleteMyTemplate(t.id);
      state.items = state.items.filter((x) => x.id !== t.id);
      deps.toast.show('success', '已删除');
      deps.onChanged?.();
      return true;
    } catch (err) {
      deps.toast.show('error', `删除失败：${err instanceof ApiError ? messageFor(err.code) : '请重试'}`);
      return false;
    } finally {
      state.deletingId = null;
    }
  }

  function cancelDelete(): void {
    state.confirmDeleteId = null;
  }

  return { state, load, openNew, openEdit, saveAsMine, close, check, edit, save, remove, cancelDelete };
}

export type MyTemplates = ReturnType<typeof useMyTemplates>;
