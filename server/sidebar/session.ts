import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ManagerRole } from '../db/entities';

/**
 * The sidebar session: `base64url(JSON payload) "." base64url(HMAC-SHA256(SESSION_SECRET, payload part))`
 * in an HttpOnly cookie. Stateless, so any process behind the load balancer can verify it.
 */
export const SESSION_COOKIE = 'sb_session';
export const SESSION_TTL_MS = 30 * 60 * 1000;
/** Re-issue the cookie (sliding expiry) once it is this old, not on every request. */
export const SESSION_REFRESH_AFTER_MS = 60 * 1000;

export interface SessionPayload {
  userid: string;
  role: ManagerRole;
  branchCode: string;
  /** Expiry, epoch ms. */
  exp: number;
}

export type SessionCheck =
  | { ok: true; session: SessionPayload }
  | { ok: false; code: 'unauthenticated' | 'session_expired' | 'session_invalid' };

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

export function signSession(payload: SessionPayload, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

export function verifySession(token: string | undefined, secret: string, now: number): SessionCheck {
  if (!token) return { ok: false, code: 'unauthenticated' };
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 1024) return { ok: false, code: 'session_invalid' };
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, code: 'session_invalid' };
  let payload: SessionPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionPayload;
  } catch {
    return { ok: false, code: 'session_invalid' };
  }
  if (typeof payload?.userid !== 'string' || typeof payload.exp !== 'number')
    return { ok: false, code: 'session_invalid' };
  if (payload.exp <= now) return { ok: false, code: 'session_expired' };
  return { ok: true, session: payload };
}

/** SameSite=None needs Secure, which needs https; plain-http demos fall back to Lax. */
export function cookieOptions(publicBaseUrl: string) {
  const https = publicBaseUrl.startsWith('https:');
  return {
    httpOnly: true,
    secure: https,
    sameSite: https ? ('none' as const) : ('lax' as const),
    path: '/api/sidebar',
    maxAge: SESSION_TTL_MS / 1000,
  };
}
