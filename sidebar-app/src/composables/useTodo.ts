import { reactive } from 'vue';
import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Template, TodoItem, TodoKind, TodoReply } from '../services/types';
import { messageFor } from './errors';

/** The list order of the kinds (same as the server's TODO_KINDS) with their Chinese names. */
export const TODO_KINDS: { kind: TodoKind; label: string }[] = [
  { kind: 'followup_due', label: '待跟进' },
  { kind: 'maturing', label: '产品到期' },
  { kind: 'birthday', label: '今日生日' },
  { kind: 'new_stage1', label: '新客未首触' },
  { kind: 'stale', label: '久未联系' },
  { kind: 'deleted', label: '昨日删除' },
];

/**
 * The script category that fits a kind of to-do best (the library's categories); without a match
 * the row falls back to the customer's overall top suggestion.
 */
const KIND_CATEGORY: Partial<Record<TodoKind, string>> = {
  followup_due: '回访',
  maturing: '产品推荐',
  birthday: '关怀',
  new_stage1: '问候',
  stale: '关怀',
};

export interface TodoGroup {
  kind: TodoKind;
  label: string;
  count: number;
  items: TodoItem[];
}

export interface TodoState {
  loading: boolean;
  error: string | null;
  reply: TodoReply | null;
  /** Row (kind + customer) whose suggested script is shown. */
  openKey: string | null;
  suggestion: { key: string; template: Template | null; loading: boolean; error: string | null } | null;
}

export const rowKey = (i: TodoItem) => `${i.kind}:${i.externalUserId}`;

/** Groups a list by kind, in list order, with the server's counts (complete even when cut). */
export function groupTodo(list: Pick<TodoReply, 'counts' | 'items'>): TodoGroup[] {
  return TODO_KINDS.map(({ kind, label }) => ({
    kind,
    label,
    count: list.counts[kind] ?? 0,
    items: list.items.filter((i) => i.kind === kind),
  })).filter((g) => g.count > 0);
}

/** 今日待办: the signed-in manager's list (a branch lead also gets the branch by manager). */
export function useTodo(api: SidebarApi) {
  const state = reactive<TodoState>({ loading: false, error: null, reply: null, openKey: null, suggestion: null });

  async function load(): Promise<void> {
    state.loading = true;
    state.error = null;
    try {
      state.reply = await api.todo();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reauth_pending') return;
      state.error = err instanceof ApiError ? messageFor(err.code, '待办加载失败，请重试') : '待办加载失败，请重试';
    } finally {
      state.loading = false;
    }
  }

  /**
   * Shows the row's suggested script: the top of the server's ranking for that customer (approved
   * library scripts only, variables filled), so what the manager sends is what compliance allowed.
   */
  async function suggest(item: TodoItem): Promise<void> {
    const key = rowKey(item);
    if (state.openKey === key) {
      state.openKey = null;
      return;
    }
    state.openKey = key;
    if (!item.canChat) return;
    state.suggestion = { key, template: null, loading: true, error: null };
    try {
      const category = KIND_CATEGORY[item.kind];
      let top = category
        ? (await api.templates({ externalUserId: item.externalUserId, category })).templates[0]
        : undefined;
      top ??= (await api.templates({ externalUserId: item.externalUserId })).templates[0];
      if (state.suggestion?.key === key) state.suggestion.template = top ?? null;
    } catch (err) {
      if (state.suggestion?.key === key) {
        state.suggestion.error = err instanceof ApiError ? messageFor(err.code, '话术加载失败') : '话术加载失败';
      }
    } finally {
      if (state.suggestion?.key === key) state.suggestion.loading = false;
    }
  }

  return { state, load, suggest };
}

export type Todo = ReturnType<typeof useTodo>;
