import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { sidebarPlugin } from '../../../server/sidebar';
import { testConfig } from '../../helpers/db';

// The static part of the plugin needs no database: a bare Fastify with the decorators it reads.
async function appServing(root: string | null): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.decorate('config', testConfig('sqlite::memory:'));
  app.decorate('db', null as never);
  app.decorate('now', () => Date.now());
  await app.register(sidebarPlugin, { staticRoot: root });
  await app.ready();
  return app;
}

describe('the built sidebar app at /sidebar/', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    // The build directory is <tmp>/dist; a file next to it must never be reachable.
    dir = mkdtempSync(join(tmpdir(), 'sidebar-dist-'));
    writeFileSync(join(dir, 'secret.txt'), 'TOP-SECRET');
    dir = join(dir, 'dist');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await appServing(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('answers /favicon.ico with an icon (no 404 in the console on a cold open)', async () => {
    const res = await app.inject({ url: '/favicon.ico' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/x-icon');
    const body = res.rawPayload;
    expect([...body.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // ICO header
    expect(body.subarray(22, 26).toString('latin1')).toBe('\x89PNG');
    const unbuilt = await appServing(null);
    expect((await unbuilt.inject({ url: '/favicon.ico' })).statusCode).toBe(200);
    await unbuilt.close();
  });

  it('serves index.html at /sidebar/ and /sidebar, never cached', async () => {
    for (const url of ['/sidebar/', '/sidebar', '/sidebar/?code=abc&state=s']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="app">');
    }
  });

  it('serves hashed assets with a long cache lifetime', async () => {
    const res = await app.inject({ url: '/sidebar/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log(1)');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('falls back to index.html for client routes but 404s a missing asset', async () => {
    const route = await app.inject({ url: '/sidebar/customer/wmA' });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('<div id="app">');
    const asset = await app.inject({ url: '/sidebar/assets/nope.js' });
    expect(asset.statusCode).toBe(404);
    expect(asset.json().error.code).toBe('not_found');
  });

  it('does not serve files outside the build directory, however the path is encoded', async () => {
    // inject() would normalise a literal `/sidebar/../x`, so only encoded forms reach the plugin.
    for (const url of [
      '/sidebar/..%2fsecret.txt',
      '/sidebar/%2e%2e%2fsecret.txt',
      '/sidebar/assets/..%2f..%2fsecret.txt',
      '/sidebar/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/sidebar/..%5csecret.txt',
      '/sidebar/assets/..%5c..%5csecret.txt',
    ]) {
      const res = await app.inject({ url });
      expect({ url, status: res.statusCode, code: res.json().error.code }).toEqual({
        url,
        status: 404,
        code: 'not_found',
      });
      expect(res.body).not.toContain('TOP-SECRET');
    }
  });
});

describe('without a build', () => {
  it('answers 503 sidebar_not_built instead of failing to start', async () => {
    const app = await appServing(null);
    try {
      const res = await app.inject({ url: '/sidebar/' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('sidebar_not_built');
    } finally {
      await app.close();
    }
  });
});
