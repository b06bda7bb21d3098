import type { DataSource } from 'typeorm';
import { maskName } from '../imports/mask';
import { addDays, chinaDay, chinaDayStart, daysBetween } from '../lib/china-day';
import { type ManagerFact, type SopTaskFact, TodoRepo } from './repo';

/**
 * 今日待办: what a manager should do today, computed from the data (nothing is stored). Days are
 * China days. The rules, in list order:
 *  - followup_due: the newest 跟进记录 of the customer carries a next follow-up on or before today
 *    (writing a newer note replaces it, so a handled follow-up leaves the list);
 *  - maturing: a product the customer holds matures within 7 days (today included);
 *  - birthday: the customer's birthday (MM-DD) is today;
 *  - new_stage1: added two or more days ago and still at stage 1 (no script sent or copied yet),
 *    until the cadence takes over;
 *  - stale: the last touch or note (or, without any, the add) is older than the cadence
 *    (TODO_TOUCH_CADENCE_DAYS);
 *  - deleted: the customer deleted the manager yesterday (a branch lead may win them back).
 * A customer appears once per kind; one customer may appear under several kinds.
 * Beside the customer rows, `sop` (总行任务): head-office SOP tasks created in WeCom that the
 * manager has not sent or published yet, one per plan and channel.
 */

export type TodoKind = 'followup_due' | 'maturing' | 'birthday' | 'new_stage1' | 'stale' | 'deleted';
export const TODO_KINDS: readonly TodoKind[] = [
  'followup_due',
  'maturing',
  'birthday',
  'new_stage1',
  'stale',
  'deleted',
];
export const TODO_KIND_ZH: Record<TodoKind, string> = {
  followup_due: '待跟进',
  maturing: '产品到期',
  birthday: '今日生日',
  new_stage1: '新客未首触',
  stale: '久未联系',
  deleted: '昨日删除',
};
export const MATURING_WINDOW_DAYS = 7;
/** A list longer than this is cut (the counts stay complete). */
const MAX_ITEMS = 200;

export interface TodoItem {
  kind: TodoKind;
  kindZh: string;
  externalUserId: string;
  customerName: string;
  segment: string | null;
  /** One line in Chinese: what is due and why. */
  detail: string;
  /** Whether the chat can be opened (not for a customer who deleted the manager). */
  canChat: boolean;
}

/** A head-office SOP task waiting for the manager's confirmation in WeCom (not a customer row). */
export interface SopTodo {
  planId: string;
  planName: string;
  /** 客户群群发 / 群发助手 / 客户朋友圈 */
  channelZh: string;
  /** One line in Chinese: where to confirm it and for how many. */
  detail: string;
}

export interface TodoList {
  userid: string;
  name: string;
  total: number;
  counts: Record<TodoKind, number>;
  items: TodoItem[];
  truncated: boolean;
  /** 总行任务: SOP tasks created in WeCom that the manager has not sent or published yet. */
  sop: SopTodo[];
}

const SOP_CHANNEL_ZH = { group: '客户群群发', single: '群发助手', moment: '客户朋友圈' } as const;

function sopTodo(f: SopTaskFact): SopTodo {
  const n = Number(f.targets ?? 0);
  const detail =
    f.kind === 'moment'
      ? '请在企业微信「客户朋友圈」中确认发表'
      : f.kind === 'group'
        ? `请在企业微信「客户群群发」中确认发送到 ${n} 个客户群`
        : `请在企业微信「群发助手」中确认发送给 ${n} 位客户`;
  return { planId: f.plan_id, planName: f.plan_name, channelZh: SOP_CHANNEL_ZH[f.kind], detail };
}

export interface TodoReply extends TodoList {
  day: string;
  /** Branch leads: their branch's lists by manager (the lead's own list is the top level). */
  branch: { branchCode: string; managers: TodoList[] } | null;
}

const emptyCounts = (): Record<TodoKind, number> =>
  Object.fromEntries(TODO_KINDS.map((k) => [k, 0])) as Record<TodoKind, number>;

const nameOf = (masked: string | null, contact: string | null) => masked || maskName(contact ?? '') || '客户';

export class TodoService {
  readonly repo: TodoRepo;

  constructor(
    db: DataSource,
    private readonly now: () => number,
    private readonly cadenceDays: number,
  ) {
    this.repo = new TodoRepo(db);
  }

  /** The lists of several managers for one China day (default today). */
  async lists(managers: ManagerFact[], day = chinaDay(this.now())): Promise<TodoList[]> {
    const ids = managers.map((m) => m.userid);
    const yesterday = addDays(day, -1);
    const [follows, maturing, deleted, sop] = await Promise.all([
      this.repo.follows(ids),
      this.repo.maturing(ids, day, addDays(day, MATURING_WINDOW_DAYS)),
      this.repo.deletedBetween(ids, chinaDayStart(yesterday), chinaDayStart(day)),
      this.repo.openSopTasks(ids),
    ]);
    const items = new Map<string, TodoItem[]>(ids.map((id) => [id, []]));
    const push = (userid: string, item: Omit<TodoItem, 'kindZh'>) =>
      items.get(userid)?.push({ ...item, kindZh: TODO_KIND_ZH[item.kind] });
    const md = day.slice(5);

    for (const f of follows) {
      const base = {
        externalUserId: f.external_userid,
        customerName: nameOf(f.masked_name, f.contact_name),
        segment: f.segment,
        canChat: true,
      };
      if (f.next_follow_up && f.next_follow_up <= day) {
        const late = daysBetween(f.next_follow_up, day);
        push(f.userid, {
          ...base,
          kind: 'followup_due',
          detail: late > 0 ? `约定 ${f.next_follow_up} 跟进，已过 ${late} 天` : '约定今天跟进',
        });
      }
      if (f.birthday_md === md) push(f.userid, { ...base, kind: 'birthday', detail: '今天生日，送上祝福' });
      const lastContact = Math.max(Number(f.last_touch ?? 0), Number(f.last_note ?? 0));
      const addedDay = chinaDay(Number(f.added_at));
      const sinceAdd = daysBetween(addedDay, day);
      if (!f.last_touch && sinceAdd >= 2 && sinceAdd < this.cadenceDays) {
        push(f.userid, { ...base, kind: 'new_stage1', detail: `添加已 ${sinceAdd} 天，尚未发送首次问候` });
      }
      const lastDay = lastContact > 0 ? chinaDay(lastContact) : addedDay;
      const quiet = daysBetween(lastDay, day);
      if (quiet >= this.cadenceDays && (lastContact > 0 || sinceAdd >= this.cadenceDays)) {
        push(f.userid, {
          ...base,
          kind: 'stale',
          detail: lastContact > 0 ? `已 ${quiet} 天未联系` : `添加 ${quiet} 天，从未联系`,
        });
      }
    }
    for (const h of maturing) {
      const left = daysBetween(day, h.matures_on);
      push(h.userid, {
        externalUserId: h.external_userid,
        customerName: nameOf(h.masked_name, h.contact_name),
        segment: h.segment,
        canChat: true,
        kind: 'maturing',
        detail: `${h.product}（${h.amount_band}）${left === 0 ? '今天到期' : `${left} 天后到期（${h.matures_on}）`}`,
      });
    }
    for (const d of deleted) {
      push(d.userid, {
        externalUserId: d.external_userid,
        customerName: nameOf(d.masked_name, d.contact_name),
        segment: d.segment,
        canChat: false,
        kind: 'deleted',
        detail: '客户昨天删除了好友，可请组长跟进挽回',
      });
    }
    const order = new Map(TODO_KINDS.map((k, i) => [k, i]));
    return managers.map((m) => {
      const all = (items.get(m.userid) ?? []).sort((a, b) => order.get(a.kind)! - order.get(b.kind)!);
      const counts = emptyCounts();
      for (const i of all) counts[i.kind]++;
      return {
        userid: m.userid,
        name: m.name,
        total: all.length,
        counts,
        items: all.slice(0, MAX_ITEMS),
        truncated: all.length > MAX_ITEMS,
        sop: sop.filter((f) => f.userid === m.userid).map(sopTodo),
      };
    });
  }

  /** The signed-in manager's list; a branch lead also gets the branch's lists by manager. */
  async forViewer(viewer: {
    userid: string;
    name: string;
    role: string;
    branchCode: string | null;
  }): Promise<TodoReply> {
    const day = chinaDay(this.now());
    const me: ManagerFact = {
      userid: viewer.userid,
      name: viewer.name,
      role: viewer.role,
      branch_code: viewer.branchCode,
    };
    if (viewer.role === 'branch_lead' && viewer.branchCode) {
      const members = await this.repo.branchMembers(viewer.branchCode);
      const all = members.some((m) => m.userid === me.userid) ? members : [me, ...members];
      const lists = await this.lists(all, day);
      const own = lists.find((l) => l.userid === me.userid)!;
      return { day, ...own, branch: { branchCode: viewer.branchCode, managers: lists } };
    }
    const [own] = await this.lists([me], day);
    return { day, ...own, branch: null };
  }
}
