/**
 * A touch as the 跟进记录 timeline names it, in Chinese. A copy the manager confirmed as sent
 * (已发送) reads as sent, since it counts as one; a stage set by hand is not a script at all.
 * Shared by the server's timeline and the sidebar's own update after a touch (no imports here).
 */
export function touchLabel(channel: string, confirmed: boolean): string {
  if (channel === 'manual') return '调整触达阶段';
  return channel === 'copy' && !confirmed ? '复制话术' : '发送话术';
}
