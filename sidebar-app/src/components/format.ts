// Display helpers shared by components (pure, no Vue).

const STAGE_LABELS = ['', '第1次触达', '第2次触达', '第3次触达', '第4次触达'];

export function stageLabel(stage: number): string {
  return STAGE_LABELS[Math.min(4, Math.max(1, Math.round(stage)))] ?? '';
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
