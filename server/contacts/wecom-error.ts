import type { WecomErrorKind } from '../wecom/api-types';

/**
 * Reads the classification the WeCom client puts on its errors (server/wecom/errors.ts). Duck-typed
 * so this module depends on the interface file only, like the rest of the feature code.
 */
export function wecomErrorInfo(err: unknown): { kind: WecomErrorKind; errcode: number | null } {
  const e = err as { kind?: WecomErrorKind; errcode?: number } | null;
  return { kind: e?.kind ?? 'unknown', errcode: typeof e?.errcode === 'number' ? e.errcode : null };
}

export const ERR_WELCOME_ALREADY_SENT = 41051;
export const ERR_TRANSFER_LIMIT = 40128;
export const ERR_ALREADY_IN_TRANSFER = [40129, 40100];
