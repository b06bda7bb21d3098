import { computed, reactive } from 'vue';
import { touchLabel } from '../../../server/sidebar/touch-label';
import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type {
  CorpTagGroup,
  Customer,
  LinkBody,
  NoteKind,
  Progress,
  Template,
  TimelineItem,
  Touch,
} from '../services/types';
import { messageFor } from './errors';
import type { Toaster } from './useToast';

export interface CardState {
  externalUserId: string | null;
  customer: Customer | null;
  /** Server-ranked suggestions that came with the card. */
  templates: Template[];
  loading: boolean;
  /** Tag ids with a mark_tag call in flight (chips show as busy). */
  pendingTags: string[];
  linking: boolean;
  /** Why the last link attempt was refused (Chinese), shown in the link form. */
  linkError: string | null;
  /** A 跟进记录 being saved; its error (Chinese) stays in the form. */
  savingNote: boolean;
  noteError: string | null;
}

function cloneGroups(groups: CorpTagGroup[]): CorpTagGroup[] {
  return groups.map((g) => ({ ...g, tags: g.tags.map((t) => ({ ...t })) }));
}

function findTag(groups: CorpTagGroup[], tagId: string) {
  for (const g of groups) {
    const tag = g.tags.find((t) => t.id === tagId);
    if (tag) return tag;
  }
  return null;
}

/**
 * Chinese text for a refused link. An unknown customer number and a wrong phone number get the same
 * answer from the server, so they get one text here too.
 */
export function linkFailureMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return '关联失败，请重试';
  if (err.code === 'customer_not_found') return '未找到匹配的客户，请向客户核实客户号和手机号后重试';
  if (err.code === 'link_rate_limited') {
    const seconds = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof seconds === 'number' && seconds > 0) return `核验失败次数过多，请 ${Math.ceil(seconds / 60)} 分钟后再试`;
  }
  return messageFor(err.code, '关联失败，请重试');
}

export function useCustomerCard(api: SidebarApi, toast: Toaster, meName: () => string = () => '我') {
  const state = reactive<CardState>({
    externalUserId: null,
    customer: null,
    templates: [],
    loading: false,
    pendingTags: [],
    linking: false,
    linkError: null,
    savingNote: false,
    noteError: null,
  });

  const lastTouches = computed<Touch[]>(() => (state.customer ? state.customer.touches.slice(0, 5) : []));

  /** Loads card + suggestions; throws ApiError so the page can pick a state (404, 403, error). */
  async function load(externalUserId: string): Promise<void> {
    if (state.externalUserId !== externalUserId) state.linkError = null;
    state.externalUserId = externalUserId;
    state.loading = true;
    try {
      const res = await api.card(externalUserId);
      state.customer = res.customer;
      state.templates = res.templates;
    } finally {
      state.loading = false;
    }
  }

  /**
   * Flip one corp tag. The chip changes at once; on failure it flips back and a toast says why.
   * The server answers the full corpTags, which replaces ours (another device may have edited too).
   */
  async function toggleTag(tagId: string): Promise<boolean> {
    const customer = state.customer;
    if (!customer || state.pendingTags.includes(tagId)) return false;
    const tag = findTag(customer.corpTags, tagId);
    if (!tag) return false;
    const before = cloneGroups(customer.corpTags);
    const add = tag.selected ? [] : [tagId];
    const remove = tag.selected ? [tagId] : [];
    tag.selected = !tag.selected;
    state.pendingTags.push(tagId);
    try {
      const what = `标签「${tag.name}」的${add.length ? '添加' : '移除'}`;
      const res = await api.updateTags(customer.externalUserId, add, remove, what);
      customer.corpTags = res.corpTags;
      if (res.segmentBadge !== undefined) customer.segmentBadge = res.segmentBadge;
      return true;
    } catch (err) {
      // Kept by the 401 handler and saved after signing in again: the chip stays as clicked.
      if (err instanceof ApiError && err.code === 'reauth_pending') return false;
      customer.corpTags = before;
      const detail = err instanceof ApiError ? messageFor(err.code, '标签保存失败') : '标签保存失败';
      toast.show('error', `标签未保存：${detail}`);
      return false;
    } finally {
      state.pendingTags.splice(state.pendingTags.indexOf(tagId), 1);
    }
  }

  /**
   * Link this WeCom contact to a bank customer, proven by the phone number the customer gives
   * (with the customer number, or alone), then show the card. A refusal stays in the form
   * (state.linkError) so the manager can correct what they typed.
   */
  async function link(proof: LinkBody): Promise<boolean> {
    const phone = proof.phone.trim();
    const bankCustomerId = proof.bankCustomerId?.trim() ?? '';
    if (!state.externalUserId || !phone || state.linking) return false;
    state.linking = true;
    state.linkError = null;
    try {
      await api.link(state.externalUserId, bankCustomerId ? { bankCustomerId, phone } : { phone });
      await load(state.externalUserId);
      toast.show('success', '已关联客户');
      return true;
    } catch (err) {
      state.linkError = linkFailureMessage(err);
      return false;
    } finally {
      state.linking = false;
    }
  }

  /**
   * After a touch was recorded: newest first. The stage is the server's (distinct days with a real
   * send; a copy alone does not move it), from `progress` when the answer carries it.
   */
  function addTouch(touch: Touch, progress?: Progress): void {
    const customer = state.customer;
    if (!customer) return;
    customer.touches.unshift(touch);
    if (progress) setProgress(progress);
    customer.timeline = [
      {
        kind: 'touch',
        id: touch.id,
        templateId: touch.templateId,
        userid: touch.userid,
        managerName: meName(),
        at: touch.sentAt,
        label: touchLabel(touch.channel, touch.confirmed),
        text: touch.title ?? '',
        nextFollowUp: null,
      },
      ...(customer.timeline ?? []),
    ];
    customer.lastContactAt = touch.sentAt;
  }

  /**
   * 跟进记录: saves a note; the timeline shows it first and its date becomes the next follow-up
   * (a newer note replaces the older date, as on the server). Refusals stay in the form.
   */
  async function addNote(kind: NoteKind, text: string, nextFollowUp: string | null): Promise<boolean> {
    const customer = state.customer;
    if (!customer || state.savingNote) return false;
    if (!text.trim()) {
      state.noteError = '请填写跟进内容';
      return false;
    }
    state.savingNote = true;
    state.noteError = null;
    try {
      const { note } = await api.addNote(customer.externalUserId, { kind, text: text.trim(), nextFollowUp });
      customer.timeline = [note, ...(customer.timeline ?? []).filter((i) => !(i.kind === 'note' && i.id === note.id))];
      customer.nextFollowUp = note.nextFollowUp;
      customer.lastContactAt = note.at;
      toast.show('success', '跟进记录已保存');
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reauth_pending') return false;
      state.noteError = `未保存：${err instanceof ApiError ? messageFor(err.code, '保存失败，请重试') : '保存失败，请重试'}`;
      return false;
    } finally {
      state.savingNote = false;
    }
  }

  /**
   * 已发送 confirmed a copied script: the touch and its timeline entry now read as sent, as the
   * server's timeline shows them after a reload.
   */
  function confirmTouch(touchId: number): void {
    const customer = state.customer;
    if (!customer) return;
    for (const t of customer.touches) if (t.id === touchId) t.confirmed = true;
    for (const i of customer.timeline ?? []) {
      if (i.kind === 'touch' && i.id === touchId) i.label = touchLabel('copy', true);
    }
  }

  const timeline = computed<TimelineItem[]>(() => state.customer?.timeline ?? []);

  /** The customer's touch count and stage as the server counts them now. */
  function setProgress(progress: Progress): void {
    const customer = state.customer;
    if (!customer) return;
    customer.touchCount = progress.touchCount;
    customer.stage = progress.stage;
  }

  return { state, lastTouches, timeline, load, toggleTag, link, addTouch, confirmTouch, addNote, setProgress };
}

export type CustomerCard = ReturnType<typeof useCustomerCard>;
