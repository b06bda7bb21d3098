/**
 * Which send gets the credit for a bank outcome (开户, 绑卡, 签约手机银行, 购买理财, 资产提升 …).
 *
 * Rules (issue 12):
 * - Only a real send counts: a touch with channel `send`, or a `copy` the manager confirmed as sent
 *   (已发送, `confirmed_at` set). Plain copies, manual stage changes and template-less touches don't.
 * - The send is at or before the outcome and at most `windowMs` before it (default 14 days,
 *   ATTRIBUTION_WINDOW_DAYS in the configuration).
 * - When the outcome names a product, only sends of a script for that product are candidates.
 * - Among the candidates the last send wins (latest sent_at, then highest id).
 */

export const DAY_MS = 86_400_000;
export const DEFAULT_ATTRIBUTION_DAYS = 14;
/** A customer deleting the manager within this long after a send counts against that script. */
export const CHURN_AFTER_TOUCH_MS = 7 * DAY_MS;

export interface AttributableTouch {
  id: number;
  templateId: number | null;
  /** The product of the script that went out (script_templates.product), or null. */
  product: string | null;
  channel: string;
  sentAt: number;
  confirmedAt: number | null;
}

export interface OutcomeEvent {
  occurredAt: number;
  /** The product named by the event, or null / '' when it names none. */
  product: string | null;
}

export function isRealSend(t: Pick<AttributableTouch, 'channel' | 'confirmedAt'>): boolean {
  return t.channel === 'send' || (t.channel === 'copy' && t.confirmedAt !== null && t.confirmedAt !== undefined);
}

const sameProduct = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** The touch credited with the outcome, or null. `touches` are this customer's, in any order. */
export function attribute(
  outcome: OutcomeEvent,
  touches: readonly AttributableTouch[],
  windowMs: number = DEFAULT_ATTRIBUTION_DAYS * DAY_MS,
): AttributableTouch | null {
  let best: AttributableTouch | null = null;
  const product = outcome.product?.trim() || null;
  for (const t of touches) {
    if (t.templateId === null || !isRealSend(t)) continue;
    if (t.sentAt > outcome.occurredAt || outcome.occurredAt - t.sentAt > windowMs) continue;
    if (product !== null && (t.product === null || !sameProduct(t.product, product))) continue;
    if (!best || t.sentAt > best.sentAt || (t.sentAt === best.sentAt && t.id > best.id)) best = t;
  }
  return best;
}

/** Did the customer delete the manager within 7 days after this send? (follows.deleted_by = customer) */
export function churnedAfter(sentAt: number, deletedAt: number | null, deletedBy: string | null): boolean {
  return (
    deletedBy === 'customer' && deletedAt !== null && deletedAt >= sentAt && deletedAt - sentAt <= CHURN_AFTER_TOUCH_MS
  );
}
