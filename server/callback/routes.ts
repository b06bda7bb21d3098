import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody } from '../errors';
import { CallbackRejection, sha256Hex, WecomCrypto } from '../wecom/crypto';
import { readEncrypt } from '../wecom/envelope';
import { InboxWriter } from './inbox-writer';

declare module 'fastify' {
  interface FastifyInstance {
    callbackCrypto: WecomCrypto;
    inboxWriter: InboxWriter;
  }
}

interface SignedQuery {
  msgSignature: string;
  timestamp: string;
  nonce: string;
  echostr?: string;
}

/**
 * Percent-decoding only: `+` stays `+`. WeCom percent-encodes base64 in echostr, and a form
 * decoder (which maps + to space) would corrupt any literal plus sign.
 */
export function parseQuery(rawUrl: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = rawUrl.indexOf('?');
  if (q === -1) return out;
  for (const part of rawUrl.slice(q + 1).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    const v = eq === -1 ? '' : part.slice(eq + 1);
    try {
      if (!out.has(k)) out.set(decodeURIComponent(k), decodeURIComponent(v));
    } catch {
      throw new CallbackRejection('bad_request', 'malformed percent-encoding in the query string');
    }
  }
  return out;
}

function signedQuery(req: FastifyRequest, withEcho: boolean): SignedQuery {
  const q = parseQuery(req.raw.url ?? '');
  const msgSignature = q.get('msg_signature');
  const timestamp = q.get('timestamp');
  const nonce = q.get('nonce');
  const echostr = q.get('echostr');
  const missing = [
    !msgSignature && 'msg_signature',
    !timestamp && 'timestamp',
    !nonce && 'nonce',
    withEcho && !echostr && 'echostr',
  ].filter(Boolean);
  if (missing.length) throw new CallbackRejection('bad_request', `missing query parameter(s): ${missing.join(', ')}`);
  if (!/^\d{1,12}$/.test(timestamp!)) throw new CallbackRejection('bad_request', 'timestamp must be unix seconds');
  return { msgSignature: msgSignature!, timestamp: timestamp!, nonce: nonce!, echostr };
}

/**
 * Replay window: the timestamp is signed, so only verbatim replays are possible; inside the
 * retention window the dedup key catches them, outside it we refuse.
 */
function checkFreshness(app: FastifyInstance, timestamp: string) {
  const nowS = Math.floor(app.now() / 1000);
  const ts = Number(timestamp);
  if (nowS - ts > app.config.callback.retentionHours * 3600) {
    throw new CallbackRejection('stale_timestamp', 'timestamp is older than the dedup retention window');
  }
  if (ts - nowS > app.config.callback.futureSkewSeconds) {
    throw new CallbackRejection('stale_timestamp', 'timestamp is too far in the future');
  }
}

function reject(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, err: unknown) {
  if (err instanceof CallbackRejection) {
    app.metrics.callbacksRejected.inc({ reason: err.code });
    req.log.warn({ reason: err.code, detail: err.message }, 'callback rejected');
    return reply.code(err.statusCode).type('application/json').send(errorBody(err.code, err.message));
  }
  // Storage failed: 503 makes WeCom redeliver. Never 200 for an event that is not stored.
  app.metrics.callbacksRejected.inc({ reason: 'unavailable' });
  req.log.error({ err: { message: (err as Error)?.message } }, 'callback could not be stored');
  return reply.code(503).type('application/json').send(errorBody('unavailable', 'event could not be stored; retry'));
}

/** GET verifies the URL; POST verifies, decrypts, stores in the inbox and only then answers `success`. */
async function callbackRoutes(app: FastifyInstance) {
  const { bodyLimitBytes } = app.config.callback;
  // This scope accepts XML as a string and nothing else (JSON and forms → 415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['text/xml', 'application/xml', 'text/plain'],
    { parseAs: 'string', bodyLimit: bodyLimitBytes },
    (_req, body, done) => done(null, body),
  );

  // Framework-level refusals (size, media type) count and log like the route's own.
  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, req, reply) => {
    const mapped =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? { status: 413, code: 'body_too_large', message: `body exceeds ${bodyLimitBytes} bytes` }
        : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? {
              status: 415,
              code: 'unsupported_media_type',
              message: 'callbacks must be text/xml, application/xml or text/plain',
            }
          : {
              status: err.statusCode && err.statusCode < 500 ? err.statusCode : 400,
              code: 'bad_request',
              message: err.message,
            };
    app.metrics.callbacksRejected.inc({ reason: mapped.code });
    req.log.warn({ reason: mapped.code }, 'callback rejected');
    return reply.code(mapped.status).type('application/json').send(errorBody(mapped.code, mapped.message));
  });

  app.get('/wecom/callback', async (req, reply) => {
    try {
      const q = signedQuery(req, true);
      checkFreshness(app, q.timestamp);
      const opened = app.callbackCrypto.verifyAndOpen(q, q.echostr!);
      app.metrics.callbacksReceived.inc({ kind: 'verify' });
      return reply.code(200).type('text/plain; charset=utf-8').send(opened.message);
    } catch (err) {
      return reject(app, req, reply, err);
    }
  });

  app.post('/wecom/callback', { bodyLimit: bodyLimitBytes }, async (req, reply) => {
    const start = performance.now();
    let dedupKey: string;
    let message: string;
    try {
      const q = signedQuery(req, false);
      if (typeof req.body !== 'string' || req.body.length === 0) {
        throw new CallbackRejection('bad_request', 'empty body');
      }
      const encrypt = readEncrypt(req.body);
      if (!app.callbackCrypto.verify(q.timestamp, q.nonce, encrypt, q.msgSignature)) {
        throw new CallbackRejection('bad_signature', 'msg_signature does not match');
      }
      checkFreshness(app, q.timestamp);
      const opened = app.callbackCrypto.open(encrypt);
      message = opened.message;
      dedupKey = sha256Hex(opened.messageBytes);
      const now = app.now();
      const { inserted } = await app.inboxWriter.insert({
        dedupKey,
        payload: message,
        sentAt: Number(q.timestamp) * 1000,
        receivedAt: now,
      });
      if (inserted) app.metrics.callbacksReceived.inc({ kind: 'event' });
      else app.metrics.callbacksDuplicate.inc();
      app.metrics.ackLatency.observe((performance.now() - start) / 1000);
      // After the answer: welcome codes expire 20 s after the event, so those skip the queue.
      // Other rows wake the worker once per committed batch (see onBatch below).
      if (inserted && message.includes('<WelcomeCode>')) {
        setImmediate(() => {
          app.worker.expedite(dedupKey).catch((err) => {
            req.log.warn({ err: { message: (err as Error).message } }, 'expedite failed; worker will pick it up');
            app.worker.notify();
          });
        });
      }
      return reply.code(200).type('text/plain; charset=utf-8').send('success');
    } catch (err) {
      return reject(app, req, reply, err);
    }
  });
}

export const callbackPlugin = fp(
  async (app) => {
    const { token, aesKey, corpId } = app.config.wecom;
    app.decorate('callbackCrypto', new WecomCrypto(token, aesKey, corpId));
    const writer = new InboxWriter(app.db, {
      maxRows: app.config.callback.batchMaxRows,
      onBatch: (rows) => {
        app.metrics.inboxBatchRows.observe(rows);
        setImmediate(() => app.worker.notify());
      },
    });
    app.decorate('inboxWriter', writer);
    app.addHook('preClose', async () => writer.close());
    // Encapsulated: the XML-only content-type parsers must not leak to the JSON APIs.
    await app.register(callbackRoutes);
  },
  { name: 'callback', dependencies: ['worker'] },
);
