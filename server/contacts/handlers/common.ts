import type { FastifyInstance } from 'fastify';
import type { WecomApi } from '../../wecom/api-types';
import type { WecomEvent } from '../../wecom/events';

/** A top-level text field of the event, '' when absent or not text. */
export function field(event: WecomEvent, name: string): string {
  const v = event[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** The WeCom client decorated by the API-client plugin; read at call time so plugin order does not matter. */
export function wecomOf(app: FastifyInstance): WecomApi {
  const wecom = (app as FastifyInstance & { wecom?: WecomApi }).wecom;
  if (!wecom) throw new Error('app.wecom is not registered: the WeCom client plugin must be loaded');
  return wecom;
}
