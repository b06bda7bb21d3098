// Display helpers shared by components (pure, no Vue).
import { clampStage } from '../../../server/playbook/stages';

export function stageLabel(stage: number): string {
  const s = clampStage(stage);
  return Number.isNaN(s) ? '' : `第${s}次触达`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "11-23 10:05" this year, "2025-11-23" otherwise. */
export function shortTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (d.getFullYear() !== now.getFullYear()) return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function channelLabel(channel: string): string {
  return channel === 'copy' ? '复制' : '发送';
}

/** The host a link card shows (bank.example), or '' for something that is not a URL. */
export function linkDomain(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** A YYYY-MM-DD day as 今天 / 明天 / 12-05 (this year) / 2027-01-05. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const diff = Math.round((d.getTime() - today.getTime()) / 86_400_000);
  if (diff === 0) return '今天';
  if (diff === 1) return '明天';
  if (diff === -1) return '昨天';
  return Number(m[1]) === now.getFullYear() ? `${m[2]}-${m[3]}` : day;
}
