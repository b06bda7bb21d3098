import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Security headers on every route (@fastify/helmet), in three flavours chosen by path:
 *
 * - API and everything else: a CSP that allows nothing (`default-src 'none'`, `frame-ancestors
 *   'none'`): JSON answers never need to load or be framed.
 * - `/sidebar/`: the Vue app. Own scripts only; the WeCom JS-SDK (@wecom/jssdk, bundled as a lazy
 *   chunk, never a remote script) opens iframes to login.work.weixin.qq.com and
 *   open.work.weixin.qq.com; `connect-src 'self'` (API and, in sandbox mode, /sandbox/api are same
 *   origin); `frame-ancestors` allows the WeCom web client (work.weixin.qq.com and its
 *   subdomains) plus SIDEBAR_FRAME_ANCESTORS. The desktop and mobile clients show the sidebar in
 *   their own webview (top level), which frame-ancestors does not restrict. No X-Frame-Options
 *   there: it cannot express an allow list and would block the web client. Referrer-Policy
 *   `strict-origin-when-cross-origin`: WeCom's frames see our origin (trusted-domain check), never
 *   a path.
 * - `/sandbox/`: the demo page is one HTML file with inline script and style: its own looser CSP
 *   (sandbox mode only; the routes do not exist in production).
 *
 * Everywhere: `X-Content-Type-Options: nosniff`, `Referrer-Policy` (`no-referrer` outside the
 * sidebar), HSTS only when PUBLIC_BASE_URL is https (HSTS on http would be ignored at best).
 *
 * The callback route skips helmet: its ack is the hot path and WeCom's servers are no browser.
 * It gets the two headers that matter for a plain-text answer, set directly (see CALLBACK_HEADERS).
 */

export const WECOM_FRAME_ANCESTORS = ['https://work.weixin.qq.com', 'https://*.work.weixin.qq.com'];
export const WECOM_JSSDK_FRAMES = ['https://login.work.weixin.qq.com', 'https://open.work.weixin.qq.com'];

export interface SecurityHeadersOptions {
  /** PUBLIC_BASE_URL: HSTS and upgrade-insecure-requests only when it is https. */
  publicBaseUrl: string;
  /** Extra origins allowed to frame the sidebar (SIDEBAR_FRAME_ANCESTORS). */
  extraFrameAncestors?: string[];
}

type Directives = Record<string, string[]>;

export function sidebarCspDirectives(opts: SecurityHeadersOptions): Directives {
  const https = opts.publicBaseUrl.startsWith('https:');
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    // Vue's scoped styles are files, but transitions and the toast set inline styles.
    'style-src': ["'self'", "'unsafe-inline'"],
    // Template attachments and contact avatars are WeCom/CDN https images.
    'img-src': ["'self'", 'data:', 'blob:', 'https:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'frame-src': WECOM_JSSDK_FRAMES,
    'frame-ancestors': ["'self'", ...WECOM_FRAME_ANCESTORS, ...(opts.extraFrameAncestors ?? [])],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

const SANDBOX_DIRECTIVES: Directives = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'unsafe-inline'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'connect-src': ["'self'"],
  'frame-ancestors': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
};

const API_DIRECTIVES: Directives = {
  'default-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/** Headers of the callback answer (helmet skipped there, see the module comment). */
export const CALLBACK_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const CALLBACK_PATH = '/wecom/callback';

function helmetOptions(opts: SecurityHeadersOptions, directives: Directives): FastifyHelmetOptions {
  const https = opts.publicBaseUrl.startsWith('https:');
  return {
    contentSecurityPolicy: { useDefaults: false, directives },
    // 180 days; no includeSubDomains/preload: the bank's other hosts are not ours to pin.
    strictTransportSecurity: https ? { maxAge: 15_552_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'no-referrer' },
    xContentTypeOptions: true,
  };
}

const under = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`);

export const securityHeadersPlugin = fp(
  async (app: FastifyInstance, opts: SecurityHeadersOptions) => {
    const sidebar = {
      ...helmetOptions(opts, sidebarCspDirectives(opts)),
      xFrameOptions: false,
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    } as const;
    const sandbox = helmetOptions(opts, SANDBOX_DIRECTIVES);

    // Routes pick their flavour by path: one place, and feature plugins stay unaware of it. This
    // hook is added before any route is registered, so it sees every route of every child scope.
    app.addHook('onRoute', (route: RouteOptions) => {
      const url = route.url;
      if (url === CALLBACK_PATH) {
        route.config = { ...(route.config as object), helmet: { skipRoute: true } } as never;
        const own = route.onRequest ? [route.onRequest].flat() : [];
        route.onRequest = [
          (_req, reply, done) => {
            reply.headers(CALLBACK_HEADERS);
            done();
          },
          ...own,
        ];
      } else if (under(url, '/sidebar')) {
        route.config = { ...(route.config as object), helmet: sidebar } as never;
      } else if (under(url, '/sandbox')) {
        route.config = { ...(route.config as object), helmet: sandbox } as never;
      }
    });
    await app.register(helmet, helmetOptions(opts, API_DIRECTIVES));
  },
  { name: 'security-headers' },
);
