import type { FastifyBaseLogger } from 'fastify';
import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';
import { TodoReminder } from '../db/entities';
import { chinaDay } from '../lib/china-day';
import { escapeHtml } from '../lib/html';
import type { WecomApi } from '../wecom/api-types';
import { textcard } from '../wecom/app-message';
import { TODO_KIND_ZH, TODO_KINDS, type TodoList, TodoService } from './service';

export interface ReminderOptions {
  db: DataSource;
  wecom: WecomApi;
  agentId: string;
  publicBaseUrl: string;
  cadenceDays: number;
  now: () => number;
  log?: FastifyBaseLogger;
  signal?: AbortSignal;
}

export interface ReminderResult {
  day: string;
  candidates: number;
  sent: number;
  failed: number;
  /** Members already reminded today (by this or another process). */
  skipped: number;
}

/** The link of the reminder: the sidebar outside a chat shows 今日待办. */
export const todoUrl = (publicBaseUrl: string) => `${publicBaseUrl}/sidebar/?view=todo`;

function description(list: TodoList): string {
  const parts = TODO_KINDS.filter((k) => list.counts[k] > 0).map((k) => `${TODO_KIND_ZH[k]} ${list.counts[k]}`);
  // Counts only: customer names stay out of a push notification shown on a lock screen.
  return `<div class="gray">${escapeHtml(list.name)}，今天有 ${list.total} 项待办</div><div class="normal">${parts.join('，')}</div>`;
}

/**
 * The morning reminder: each active manager with items gets ONE textcard linking to the list.
 * "Once per member per day" holds across processes and retries: the todo_reminders row
 * (userid, day) is inserted BEFORE the message is sent, and only the process whose insert
 * succeeded sends. A crash between insert and send loses that day's reminder rather than
 * sending it twice (a reminder is cheap to miss, a duplicate annoys). One member per call keeps
 * each within WeCom's per-member app message limits; the client's rate limiter paces the calls.
 */
export async function sendTodoReminders(o: ReminderOptions): Promise<ReminderResult> {
  const day = chinaDay(o.now());
  const service = new TodoService(o.db, o.now, o.cadenceDays);
  const managers = await service.repo.activeServingManagers();
  const result: ReminderResult = { day, candidates: 0, sent: 0, failed: 0, skipped: 0 };
  const repo = o.db.getRepository(TodoReminder);
  for (let i = 0; i < managers.length; i += 50) {
    if (o.signal?.aborted) break;
    const lists = await service.lists(managers.slice(i, i + 50), day);
    for (const list of lists) {
      if (list.total === 0) continue;
      result.candidates++;
      try {
        await repo.insert({
          userid: list.userid,
          day,
          items: list.total,
          status: 'sending',
          error: null,
          createdAt: o.now(),
          sentAt: null,
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          result.skipped++;
          continue;
        }
        throw err;
      }
      try {
        await o.wecom.sendMessage(
          textcard({
            touser: list.userid,
            agentId: o.agentId,
            title: '今日待办',
            description: description(list),
            url: todoUrl(o.publicBaseUrl),
            btntxt: '查看',
          }),
        );
        await repo.update({ userid: list.userid, day }, { status: 'sent', sentAt: o.now() });
        result.sent++;
      } catch (err) {
        const e = err as { errcode?: number; kind?: string };
        const error = typeof e?.errcode === 'number' ? `errcode ${e.errcode}` : (e?.kind ?? 'send failed');
        await repo.update({ userid: list.userid, day }, { status: 'failed', error });
        o.log?.warn({ userid: list.userid, day, error }, 'todo reminder not sent');
        result.failed++;
      }
    }
  }
  return result;
}
