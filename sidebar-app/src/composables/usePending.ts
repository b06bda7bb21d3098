import { ApiError, type HttpClient, type UnauthorizedRequest } from '../services/http';
import type { KeyValueStorage } from './env';
import { messageFor } from './errors';

/**
 * Writes that met an expired session (issue 13, no lost work). The 401 handler keeps the request
 * here (sessionStorage survives the OAuth round trip of this tab), the page signs in again, and
 * `resume` sends each kept write once. Touches and notes carry a request id, so even a resend after
 * a lost answer records once on the server; tag changes are set operations at WeCom.
 */
export const PENDING_KEY = 'sb_pending_writes';
/** Older than this, a kept write is not sent any more (the manager has moved on): it is reported. */
export const PENDING_MAX_AGE_MS = 10 * 60_000;
const MAX_KEPT = 20;

export interface PendingWrite {
  path: string;
  method: string;
  body: unknown;
  /** What it saves, in Chinese (标签「高潜客户」, 跟进记录 …). */
  what: string;
  at: number;
  /** Not replayed: after sign-in `what` is shown as not done (a send the manager must repeat). */
  noticeOnly?: boolean;
}

export interface ResumeResult {
  saved: string[];
  /** Chinese lines: what was not saved and why. */
  lost: string[];
}

export function usePending(storage: KeyValueStorage, now: () => number) {
  function read(): PendingWrite[] {
    try {
      const list = JSON.parse(storage.getItem(PENDING_KEY) ?? '[]') as unknown;
      return Array.isArray(list) ? (list as PendingWrite[]).filter((p) => p && typeof p.path === 'string') : [];
    } catch {
      return [];
    }
  }
  function write(list: PendingWrite[]): void {
    if (list.length) storage.setItem(PENDING_KEY, JSON.stringify(list));
    else storage.removeItem(PENDING_KEY);
  }

  /** Keeps a write to complete after sign-in; false when it is not a resumable write. */
  function keep(req: UnauthorizedRequest): boolean {
    if (req.method === 'GET') return false;
    const list = read();
    if (req.resumable) {
      list.push({ path: req.path, method: req.method, body: req.body, what: req.resumable, at: now() });
    } else if (req.notice) {
      list.push({ path: req.path, method: req.method, body: null, what: req.notice, at: now(), noticeOnly: true });
    } else return false;
    write(list.slice(-MAX_KEPT));
    return true;
  }

  /** Drops what was kept (sign-in cannot complete): returns what will not be saved. */
  function abandon(): string[] {
    const list = read();
    write([]);
    return list.map((p) => p.what);
  }

  /**
   * Sends the kept writes, oldest first, each once: it leaves the list before it is sent, and only
   * a network failure puts it back (the request id makes that resend safe).
   */
  async function resume(http: HttpClient): Promise<ResumeResult> {
    const result: ResumeResult = { saved: [], lost: [] };
    const list = read();
    if (!list.length) return result;
    write([]);
    const retry: PendingWrite[] = [];
    for (const p of list) {
      if (p.noticeOnly) {
        result.lost.push(p.what);
        continue;
      }
      if (now() - p.at > PENDING_MAX_AGE_MS) {
        result.lost.push(`${p.what}（超过 10 分钟未能保存）`);
        continue;
      }
      try {
        await http.request(p.path, {
          method: p.method as 'POST' | 'PUT' | 'DELETE',
          body: p.body,
          allowUnauthorized: true,
        });
        result.saved.push(p.what);
      } catch (err) {
        if (err instanceof ApiError && (err.isNetwork || err.status === 401)) {
          retry.push(p);
          result.lost.push(`${p.what}（${err.isNetwork ? '网络连接失败' : '登录未完成'}，稍后重新打开侧边栏会再试）`);
        } else {
          const why = err instanceof ApiError ? messageFor(err.code, '服务暂时不可用') : '页面出错了';
          result.lost.push(`${p.what}（${why}）`);
        }
      }
    }
    if (retry.length) write([...retry, ...read()]);
    return result;
  }

  return { keep, abandon, resume, read };
}

export type Pending = ReturnType<typeof usePending>;
