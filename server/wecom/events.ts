import type { FastifyBaseLogger } from 'fastify';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { WecomApi } from './api-types';

/**
 * A decrypted callback after XML parsing. Every value is a string (ids and CreateTime can exceed
 * 2^53); repeated children (e.g. <Item>) become arrays; nested elements become objects.
 */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

/** The envelope fields every decrypted callback has. */
export interface BaseEvent {
  ToUserName: string;
  FromUserName: string;
  CreateTime: string;
  MsgType: string;
  Event?: string;
  ChangeType?: string;
}

/** A parsed callback as the worker reads it: the base fields plus whatever else the XML carried. */
export interface WecomEvent extends BaseEvent {
  [field: string]: XmlValue | undefined;
}

/** Fields of one customer-contact change (change_external_contact). */
interface ContactChange {
  UserID: string;
  ExternalUserID: string;
}
/** Address-book member change (change_contact … _user); update events carry only what changed. */
interface MemberChange {
  UserID: string;
  NewUserID?: string;
  Name?: string;
  Status?: string;
}

/**
 * The callbacks the service handles, by registry key, with the fields their handlers read
 * (PROTOCOL.md). A handler is registered for a key of this map and receives that event's type, so
 * a misspelt key or field is a compile error. Values stay XmlValue: `field()` reads them as text.
 */
export interface EventMap {
  'event/change_external_contact/add_external_contact': ContactChange & { State?: string; WelcomeCode?: string };
  'event/change_external_contact/add_half_external_contact': ContactChange & { State?: string; WelcomeCode?: string };
  'event/change_external_contact/del_external_contact': ContactChange & { Source?: string };
  'event/change_external_contact/del_follow_user': ContactChange;
  'event/change_external_contact/transfer_fail': ContactChange & { FailReason?: string };
  'event/change_external_contact/edit_external_contact': ContactChange;
  'event/change_external_tag': { Id?: string; TagType?: string; StrategyId?: string };
  'event/change_contact/create_user': MemberChange;
  'event/change_contact/update_user': MemberChange;
  'event/change_contact/delete_user': MemberChange;
  /** Customer groups (PROTOCOL-SOP.md §2): create | update | dismiss; member changes carry versions. */
  'event/change_external_chat': {
    ChatId: string;
    UpdateDetail?: string;
    JoinScene?: string;
    QuitScene?: string;
    MemChangeCnt?: string;
    /** `<MemChangeList><Item>id</Item>…</MemChangeList>`: an object with an Item list. */
    MemChangeList?: XmlValue;
    LastMemVer?: string;
    CurMemVer?: string;
  };
}
export type EventKey = keyof EventMap;

/** The event a handler for key K receives: the base fields plus K's declared fields. */
export type EventOf<K extends EventKey> = BaseEvent & { readonly [F in keyof EventMap[K]]?: XmlValue };

/** A top-level text field of the event, '' when absent or not text (a repeated or nested element). */
export function field<E extends BaseEvent>(event: E, name: Extract<keyof E, string>): string {
  const v = event[name] as unknown;
  return typeof v === 'string' ? v.trim() : '';
}

export interface HandlerContext {
  db: DataSource;
  config: Config;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** The WeCom API client (read when first used: a handler that makes no call needs none). */
  readonly wecom: WecomApi;
  /** The app clock (ms); tests pin it. */
  now: () => number;
  /** The inbox row being processed. */
  inboxId: number;
  /** When the callback was acknowledged (ms): the welcome code expires 20 s after the event. */
  receivedAt: number;
  /**
   * Aborted when this process lost the event's lease (another process took it over): a long
   * handler should stop at its next safe point; whatever it returns is not recorded.
   */
  signal?: AbortSignal;
}

export type EventHandler<K extends EventKey = EventKey> = (event: EventOf<K>, ctx: HandlerContext) => Promise<void>;

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
type AnyHandler = (event: WecomEvent, ctx: HandlerContext) => Promise<void>;

export class EventRegistry {
  private readonly handlers = new Map<string, AnyHandler>();

  on<K extends EventKey>(key: K, handler: EventHandler<K>): this {
    if (this.handlers.has(key)) throw new Error(`handler already registered for ${key}`);
    // A stored handler is only ever called with an event whose key resolved to K.
    this.handlers.set(key, handler as unknown as AnyHandler);
    return this;
  }

  resolve(e: Pick<WecomEvent, 'MsgType' | 'Event' | 'ChangeType'>): { key: string; handler: AnyHandler } | undefined {
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
