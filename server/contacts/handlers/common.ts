import type { WecomEvent } from '../../wecom/events';

/** A top-level text field of the event, '' when absent or not text. */
export function field(event: WecomEvent, name: string): string {
  const v = event[name];
  return typeof v === 'string' ? v.trim() : '';
}
