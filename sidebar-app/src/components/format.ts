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
