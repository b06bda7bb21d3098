// Starts the whole server the way main.ts does (sandbox mode, demo data, a temp SQLite file) on a
// free local port, and Debian's Chromium through playwright-core. Never downloads a browser.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { build } from '../../server/app';
import { sandboxPlugin } from '../../server/sandbox/plugin';
import { sidebarPlugin } from '../../server/sidebar';
import { wecomPlugin } from '../../server/wecom/plugin';
import { testConfig } from '../helpers/db';

export const ARTIFACTS = resolve(__dirname, '../../test-artifacts/e2e');
const CHROMIUM = '/usr/bin/chromium';

/** A port that was free a moment ago: PUBLIC_BASE_URL must name it before the app is built. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface E2EServer {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

/** `env` adds to the test configuration (e.g. WORKER_ENABLED for flows that need the callback worker). */
export async function startServer(env: Record<string, string> = {}): Promise<E2EServer> {
  const dist = resolve(__dirname, '../../dist/sidebar/index.html');
  if (!existsSync(dist))
    throw new Error('dist/sidebar is missing: run `npm run build:sidebar` (npm run test:e2e does)');
  const dir = mkdtempSync(join(tmpdir(), 'wecom-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = testConfig(`sqlite:${join(dir, 'db.sqlite')}`, {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: base,
    DEMO_DATA: 'true',
    ...env,
  });
  const app = await build(config);
  // build() registers the feature plugins once they are wired into app.ts; until then add them here.
  if (!app.hasPlugin('wecom')) await app.register(wecomPlugin);
  if (!app.hasPlugin('sandbox')) await app.register(sandboxPlugin);
  if (!app.hasPlugin('sidebar')) await app.register(sidebarPlugin);
  await app.listen({ port, host: '127.0.0.1' });
  return {
    app,
    base,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A phone-sized WeCom webview (360 px) unless told otherwise; `extra` e.g. sets a `timezoneId`. */
export async function newContext(
  browser: Browser,
  width = 360,
  height = 780,
  extra: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return browser.newContext({
    ...extra,
    viewport: { width, height },
    deviceScaleFactor: 2,
    locale: 'zh-CN',
    userAgent:
      'Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile Safari/537.36 wxwork/4.1.22 MicroMessenger/7.0.1',
  });
}

export interface BrowserSuiteOptions {
  /** Added to the server's test configuration (e.g. WORKER_ENABLED). */
  env?: Record<string, string>;
  /** 'each' (the default): a fresh context and page for every test; 'all': one for the whole suite. */
  context?: 'each' | 'all';
  /** The viewport, a 360 px phone unless told otherwise. */
  width?: number;
  height?: number;
  /** Lets the pages use the clipboard (the sidebar's 复制 reads it back). */
  clipboard?: boolean;
}

/** What a suite's tests use; each getter throws outside a test or hook (before the suite started). */
export interface BrowserSuite {
  readonly server: E2EServer;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Closes the current context and opens another (another viewport, a time zone); the suite closes it. */
  reopen(width?: number, height?: number, extra?: BrowserContextOptions): Promise<Page>;
}

/**
 * One server and one Chromium for a describe block, closed after it, with contexts per test or per
 * suite: registers the beforeAll/afterAll (and beforeEach/afterEach) hooks itself. Call it first in
 * the describe so the suite's own hooks run after these and can use `server` and `page`.
 */
export function useBrowserSuite(o: BrowserSuiteOptions = {}): BrowserSuite {
  let server: E2EServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`e2e ${what} is not ready: use it inside a test or a hook`);
    return v;
  };
  const open = async (width = o.width, height = o.height, extra: BrowserContextOptions = {}): Promise<Page> => {
    const s = ready(server, 'server');
    context = await newContext(ready(browser, 'browser'), width, height, extra);
    if (o.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.base });
    page = await context.newPage();
    return page;
  };
  const close = async () => {
    await context?.close();
    context = undefined;
    page = undefined;
  };

  beforeAll(async () => {
    server = await startServer(o.env);
    browser = await launchChromium();
    if (o.context === 'all') await open();
  });
  afterAll(async () => {
    await close();
    await browser?.close();
    await server?.close();
  });
  if (o.context !== 'all') {
    beforeEach(() => open());
    afterEach(close);
  }

  return {
    get server() {
      return ready(server, 'server');
    },
    get browser() {
      return ready(browser, 'browser');
    },
    get context() {
      return ready(context, 'context');
    },
    get page() {
      return ready(page, 'page');
    },
    async reopen(width, height, extra) {
      await close();
      return open(width, height, extra);
    },
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The sandbox's JSON routes under /sandbox/ (the JS-SDK mock's chat context and sent messages, …). */
export async function sandboxJson<T>(
  server: E2EServer,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${server.base}/sandbox/${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** The manager the sandbox is signed in as. */
export const currentManager = (server: E2EServer): string =>
  (server.app as unknown as { sandbox: { state: { currentManager: string } } }).sandbox.state.currentManager;

/** The first contact (by external id) that `manager` follows and that is linked to a bank customer. */
export async function followedLinkedCustomer(server: E2EServer, manager: string): Promise<string> {
  const [row] = await server.app.db.query(
    `SELECT f.external_userid AS ext FROM follows f JOIN external_contacts ec ON ec.external_userid = f.external_userid
      WHERE f.userid = ? AND f.deleted_at IS NULL AND ec.customer_id IS NOT NULL ORDER BY f.external_userid LIMIT 1`,
    [manager],
  );
  if (!row) throw new Error('the demo data has no followed customer for the current manager');
  return row.ext;
}
