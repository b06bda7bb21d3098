import { randomBytes } from 'node:crypto';

/**
 * The fake corp's mass-send (企业群发) and moment (客户朋友圈) tasks, PROTOCOL-SOP.md §3–4:
 * add_msg_template creates a task that nothing delivers until the "manager" confirms it on the
 * sandbox page (confirm()); then every recipient gets a status: 1 sent, 2 not a friend, 3 over the
 * frequency cap (one corp mass message per customer or group per China day, as WeCom's current
 * rule says). remind (≤ 3 per 24 h, 41094), cancel (41093 twice) and moments behave as documented.
 */

export interface FakeMassTask {
  msgid: string;
  chatType: 'single' | 'group';
  sender: string;
  /** Recipients: external_userids (single) or chat_ids (group). */
  targets: string[];
  text: string;
  attachments: number;
  createdAt: number;
  /** 0 not sent, 2 sent (get_groupmsg_task). */
  senderStatus: 0 | 2;
  sendTime?: number;
  /** Per recipient after the confirm: 1 sent, 2 not a friend, 3 over the cap. */
  results: Map<string, number>;
  cancelled: boolean;
  reminders: number[];
}

export interface FakeMoment {
  jobid: string;
  momentId: string;
  senders: string[];
  /** Listed senders the corp does not know (get_moment_task_result's invalid_sender_list). */
  invalid: string[];
  /** external_contact_list.tag_list: only customers with one of these tags see it ([] = every customer). */
  tags: string[];
  text: string;
  createdAt: number;
  published: Map<string, number>;
  cancelled: boolean;
}

type Answer = { status?: number; body: Record<string, unknown> };
const ok = (extra: Record<string, unknown> = {}): Answer => ({ body: { errcode: 0, errmsg: 'ok', ...extra } });
const err = (errcode: number, errmsg: string): Answer => ({ body: { errcode, errmsg } });
const rand = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const DAY_MS = 86_400_000;
const chinaDay = (ms: number) => Math.floor((ms + 8 * 3_600_000) / DAY_MS);

/** start_time / end_time (Unix seconds, both required, span ≤ `maxSpanMs`) as ms bounds. */
function window(b: Record<string, unknown>, maxSpanMs: number): { from: number; to: number } | Answer {
  const from = Number(b.start_time) * 1000;
  const to = Number(b.end_time) * 1000;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !b.start_time || !b.end_time)
    return err(40058, 'start_time and end_time are required');
  if (to < from || to - from > maxSpanMs) return err(40058, 'invalid time range');
  return { from, to };
}

/** A cursor page of `rows` under `key` (the cursor is the next offset, as an opaque string). */
function page(rows: unknown[], b: Record<string, unknown>, max: number, key: string): Answer {
  const limit = Math.min(max, Math.max(1, Number(b.limit ?? max) || max));
  const start = b.cursor ? Number.parseInt(String(b.cursor), 10) || 0 : 0;
  return ok({
    [key]: rows.slice(start, start + limit),
    next_cursor: start + limit < rows.length ? String(start + limit) : '',
  });
}

/** What the fake needs to know about its corp. */
export interface MassSendCorp {
  now: () => number;
  isUser(userid: string): boolean;
  /** The follow exists and the customer has not deleted the manager. */
  isFriend(externalUserid: string, userid: string): boolean;
  groupOwner(chatId: string): string | undefined;
}

export class FakeMassSend {
  readonly tasks = new Map<string, FakeMassTask>();
  readonly moments = new Map<string, FakeMoment>();
  /** Recipient → China days on which it received a corp mass message. */
  private readonly received = new Map<string, number[]>();
  private seq = 0;

  constructor(private readonly corp: MassSendCorp) {}

  addMsgTemplate(b: Record<string, unknown>): Answer {
    const chatType =
      b.chat_type === 'group' ? 'group' : b.chat_type === undefined || b.chat_type === 'single' ? 'single' : null;
    if (!chatType) return err(40058, 'chat_type must be single or group');
    const sender = typeof b.sender === 'string' ? b.sender : '';
    if (chatType === 'group' && !sender) return err(40058, 'sender is required for group sends');
    if (sender && !this.corp.isUser(sender)) return err(60111, 'userid not found');
    const text = (b.text as { content?: unknown } | undefined)?.content;
    const attachments = Array.isArray(b.attachments) ? b.attachments : [];
    if (attachments.length > 9) return err(41064, 'too many attachments');
    if ((typeof text !== 'string' || !text) && !attachments.length)
      return err(40058, 'text and attachments are both empty');
    if (typeof text === 'string' && Buffer.byteLength(text) > 4000) return err(40058, 'text.content over 4000 bytes');
    const list = (chatType === 'group' ? b.chat_id_list : b.external_userid) as unknown;
    const ids = Array.isArray(list) ? list.map(String) : [];
    if (ids.length > (chatType === 'group' ? 2000 : 10_000))
      return err(40058, chatType === 'group' ? 'chat_id_list over 2000' : 'external_userid over 10000');
    if (!ids.length) return err(40058, 'the sandbox needs explicit recipients');
    const fail: string[] = [];
    const targets: string[] = [];
    for (const id of ids) {
      const good = chatType === 'group' ? this.corp.groupOwner(id) === sender : this.corp.isFriend(id, sender);
      (good ? targets : fail).push(id);
    }
    if (!targets.length) return err(41048, 'no sendable customer');
    const msgid = `msgsbx${++this.seq}${rand(12)}`;
    this.tasks.set(msgid, {
      msgid,
      chatType,
      sender,
      targets,
      text: typeof text === 'string' ? text : '',
      attachments: attachments.length,
      createdAt: this.corp.now(),
      senderStatus: 0,
      results: new Map(),
      cancelled: false,
      reminders: [],
    });
    return ok({ fail_list: chatType === 'single' ? fail : [], msgid });
  }

  /** The sender taps 发送 in the client (the sandbox page's 确认发送). */
  confirm(msgid: string): FakeMassTask {
    const t = this.tasks.get(msgid);
    if (!t) throw new Error('no such mass-send task');
    if (t.cancelled) throw new Error('this task was cancelled');
    if (t.senderStatus === 2) return t;
    const now = this.corp.now();
    const day = chinaDay(now);
    t.senderStatus = 2;
    t.sendTime = Math.floor(now / 1000);
    for (const id of t.targets) {
      const friend = t.chatType === 'group' ? this.corp.groupOwner(id) === t.sender : this.corp.isFriend(id, t.sender);
      const days = this.received.get(id) ?? [];
      const status = !friend ? 2 : days.includes(day) ? 3 : 1;
      if (status === 1) this.received.set(id, [...days, day]);
      t.results.set(id, status);
    }
    return t;
  }

  private task(b: Record<string, unknown>): FakeMassTask | Answer {
    const msgid = typeof b.msgid === 'string' ? b.msgid : '';
    if (!msgid) return err(41046, 'msgid missing');
    return this.tasks.get(msgid) ?? err(41047, 'invalid msgid');
  }

  getTask(b: Record<string, unknown>): Answer {
    const t = this.task(b);
    if ('body' in t) return t;
    return ok({
      task_list: [{ userid: t.sender, status: t.senderStatus, ...(t.sendTime ? { send_time: t.sendTime } : {}) }],
      next_cursor: '',
    });
  }

  sendResult(b: Record<string, unknown>): Answer {
    const t = this.task(b);
    if ('body' in t) return t;
    if (b.userid !== t.sender) return err(40003, 'invalid userid');
    const limit = Math.min(1000, Math.max(1, Number(b.limit ?? 500) || 500));
    const start = b.cursor ? Number.parseInt(String(b.cursor), 10) || 0 : 0;
    const key = t.chatType === 'group' ? 'chat_id' : 'external_userid';
    // Group sends list only the groups that were sent to; customer sends list everyone.
    const rows = t.targets
      .map((id) => ({ id, status: t.results.get(id) ?? 0 }))
      .filter((r) => t.chatType === 'single' || r.status !== 0)
      .map((r) => ({
        [key]: r.id,
        userid: t.sender,
        status: r.status,
        ...(r.status === 1 && t.sendTime ? { send_time: t.sendTime } : {}),
      }));
    return ok({
      send_list: rows.slice(start, start + limit),
      next_cursor: start + limit < rows.length ? String(start + limit) : '',
    });
  }

  /**
   * get_groupmsg_list_v2: tasks created in [start_time, end_time] (Unix seconds), newest first. The
   * fake only holds API-created tasks: create_type 0, and no `creator` (as WeCom answers for them).
   */
  listTasks(b: Record<string, unknown>): Answer {
    const chatType = b.chat_type === 'group' ? 'group' : b.chat_type === 'single' ? 'single' : null;
    if (!chatType) return err(40058, 'chat_type must be single or group');
    const w = window(b, 31 * DAY_MS);
    if ('body' in w) return w;
    if (b.filter_type === 1) return ok({ group_msg_list: [], next_cursor: '' });
    const rows = [...this.tasks.values()]
      .filter((t) => t.chatType === chatType && t.createdAt >= w.from && t.createdAt <= w.to)
      .sort((x, y) => y.createdAt - x.createdAt)
      .map((t) => ({
        msgid: t.msgid,
        create_time: Math.floor(t.createdAt / 1000),
        create_type: 0,
        text: { content: t.text },
      }));
    return page(rows, b, 100, 'group_msg_list');
  }

  remind(b: Record<string, unknown>): Answer {
    const t = this.task(b);
    if ('body' in t) return t;
    if (t.cancelled) return err(41093, 'the task was cancelled');
    const now = this.corp.now();
    t.reminders = t.reminders.filter((r) => r > now - DAY_MS);
    if (t.reminders.length >= 3) return err(41094, 'remind frequency exceeded');
    t.reminders.push(now);
    return ok();
  }

  cancel(b: Record<string, unknown>): Answer {
    const t = this.task(b);
    if ('body' in t) return t;
    if (t.cancelled) return err(41093, 'the task was cancelled');
    t.cancelled = true;
    return ok();
  }

  addMomentTask(b: Record<string, unknown>): Answer {
    const text = (b.text as { content?: unknown } | undefined)?.content;
    const attachments = Array.isArray(b.attachments) ? b.attachments : [];
    if ((typeof text !== 'string' || !text) && !attachments.length)
      return err(41089, 'text and attachments are both empty');
    const range = (b.visible_range ?? {}) as {
      sender_list?: { user_list?: unknown };
      external_contact_list?: { tag_list?: unknown };
    };
    const tagList = range.external_contact_list?.tag_list;
    const users = Array.isArray(range.sender_list?.user_list)
      ? (range.sender_list.user_list as unknown[]).map(String)
      : [];
    const senders = [...new Set(users)].filter((u) => this.corp.isUser(u));
    const valid = new Set(senders);
    const jobid = `jobsbx${++this.seq}${rand(12)}`;
    const m: FakeMoment = {
      jobid,
      momentId: `momsbx${this.seq}${rand(12)}`,
      senders,
      invalid: users.filter((u) => !valid.has(u)),
      tags: Array.isArray(tagList) ? tagList.map(String) : [],
      text: typeof text === 'string' ? text : '',
      createdAt: this.corp.now(),
      published: new Map(),
      cancelled: false,
    };
    this.moments.set(jobid, m);
    return ok({ jobid });
  }

  momentResult(q: Record<string, string>): Answer {
    const m = this.moments.get(q.jobid ?? '');
    if (!m) return err(40058, 'invalid jobid');
    const invalid = m.invalid;
    return ok({
      status: 3,
      type: 'add_moment_task',
      result: { errcode: 0, errmsg: 'ok', moment_id: m.momentId, invalid_sender_list: { user_list: invalid } },
    });
  }

  private moment(id: unknown): FakeMoment | undefined {
    return [...this.moments.values()].find((m) => m.momentId === id);
  }

  momentTask(b: Record<string, unknown>): Answer {
    const m = this.moment(b.moment_id);
    if (!m) return err(41060, 'invalid moment_id');
    const rows = m.senders.map((u) => ({ userid: u, publish_status: m.published.has(u) ? 1 : 0 }));
    return page(rows, b, 1000, 'task_list');
  }

  /** get_moment_list: corp moments created in the window (≤ 30 days), newest first, ≤ 20 a page. */
  listMoments(b: Record<string, unknown>): Answer {
    const w = window(b, 30 * DAY_MS);
    if ('body' in w) return w;
    if (b.filter_type === 1) return ok({ moment_list: [], next_cursor: '' });
    const rows = [...this.moments.values()]
      .filter((m) => m.createdAt >= w.from && m.createdAt <= w.to)
      .sort((x, y) => y.createdAt - x.createdAt)
      .map((m) => ({
        moment_id: m.momentId,
        create_time: Math.floor(m.createdAt / 1000),
        create_type: 0,
        visible_type: 1,
        text: { content: m.text },
      }));
    return page(rows, b, 20, 'moment_list');
  }

  cancelMoment(b: Record<string, unknown>): Answer {
    const m = this.moment(b.moment_id);
    if (!m) return err(41060, 'invalid moment_id');
    m.cancelled = true;
    return ok();
  }

  /** The sender publishes the corp moment (the sandbox page's 确认发表). */
  publish(jobid: string, userid: string): FakeMoment {
    const m = this.moments.get(jobid);
    if (!m) throw new Error('no such moment task');
    if (m.cancelled) throw new Error('this moment task was cancelled');
    if (!m.senders.includes(userid)) throw new Error('not a sender of this moment');
    m.published.set(userid, this.corp.now());
    return m;
  }
}
