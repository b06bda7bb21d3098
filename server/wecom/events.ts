import type { FastifyBaseLogger } from 'fastify';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Metrics } from '../metrics';

/**
 * A decrypted callback after XML parsing. Every value is a string (ids and CreateTime can exceed
 * 2^53); repeated children (e.g. <Item>) become arrays; nested elements become objects.
 */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

export interface WecomEvent {
  ToUserName: string;
  FromUserName: string;
  CreateTime: string;
  MsgType: string;
  Event?: string;
  ChangeType?: string;
  [field: string]: XmlValue | undefined;
}

export interface HandlerContext {
  db: DataSource;
  config: Config;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** The inbox row being processed. */
  inboxId: number;
  /** When the callback was acknowledged (ms): the welcome code expires 20 s after the event. */
  receivedAt: number;
  /** Services decorated on the app by feature plugins (wecom client, allocation …). */
  app: import('fastify').FastifyInstance;
}

export type EventHandler = (event: WecomEvent, ctx: HandlerContext) => Promise<void>;

/** Registry key: `event/<Event>/<ChangeType>`, `event/<Event>` or `msg/<MsgType>`. */
export function eventKeys(e: Pick<WecomEvent, 'MsgType' | 'Event' | 'ChangeType'>): string[] {
  if (e.MsgType === 'event') {
    const keys: string[] = [];
    if (e.Event && e.ChangeType) keys.push(`event/${e.Event}/${e.ChangeType}`);
    if (e.Event) keys.push(`event/${e.Event}`);
    return keys;
  }
  return [`msg/${e.MsgType}`];
}

/** One table maps event keys to handlers; the most specific key wins. Unknown events stay visible as `unhandled`. */
export class EventRegistry {
  private readonly handlers = new Map<string, EventHandler>();

  on(key: string, handler: EventHandler): this {
    if (this.handlers.has(key)) throw new Error(`handler already registered for ${key}`);
    this.handlers.set(key, handler);
    return this;
  }

  resolve(e: Pick<WecomEvent, 'MsgType' | 'Event' | 'ChangeType'>): { key: string; handler: EventHandler } | undefined {
    for (const key of eventKeys(e)) {
      const handler = this.handlers.get(key);
      if (handler) return { key, handler };
    }
    return undefined;
  }

  keys(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
