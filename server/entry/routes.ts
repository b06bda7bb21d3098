import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_ENTRY_CLIENT } from '../config';
import { parseCustomerId } from '../customers/ids';
import { isPlausiblePhone } from '../customers/phone';
import { AppError, badRequest, unauthorized } from '../errors';
import { wecomOf } from '../wecom/plugin';
import { claimRequest, finishRequest, releaseRequest } from './replay';
import { EntryAnswerSchema as Answer, EntryBody as Body, type EntryAnswer } from './schemas';
import { entryAllocate } from './service';
import { checkEntrySignature } from './signature';

/**
 * POST /api/entry/allocate for the bank's H5 pages, app and outbound-call system. Registered in
 * its own encapsulated context: the JSON parser here keeps the raw body for the HMAC and must not
 * leak to other routes.
 */

export interface EntryRouteOptions {
  /** Allocations stay open (same answer to repeated calls) this long; default ENTRY_ALLOCATION_TTL_HOURS. */
  allocationTtlMs?: number;
  /** Requests per client per window; default ENTRY_RATE_LIMIT_PER_MINUTE per minute. */
  rateLimitMax?: number;
  rateLimitWindowMs?: number;
}

const CLIENT_HEADER = 'x-entry-client';

/** Authenticated caller of each request, set by the signature check. */
const callers = new WeakMap<FastifyRequest, { client: string; signature: string; timestamp: number }>();

/** The authenticated calling system (the limiter and audit key); only set after the signature check. */
function clientOf(req: FastifyRequest): string {
  const caller = callers.get(req);
  // Unreachable for the limiter (preHandler runs after the check), kept total for safety.
  return caller ? `client:${caller.client}` : `unauthenticated:${req.ip}`;
}

const Validator = TypeCompiler.Compile(Body);

/**
 * The body as sent, without the type coercion Fastify's shared validator applies to other routes
 * ("30.2", [30.3], true and null are not coordinates). The answer names the field.
 */
function validateBody(data: unknown): { value: unknown } | { error: Error } {
  if (Validator.Check(data)) return { value: data };
  const first = Validator.Errors(data).First();
  const field = first?.path.replace(/^\//, '').split('/')[0] || 'body';
  if (field === 'lat' || field === 'lng') {
    const range = field === 'lat' ? '-90..90' : '-180..180';
    return { error: badRequest(`${field} must be a finite JSON number in ${range}`, { field }) };
  }
  if (field === 'body') return { error: badRequest('body must be a JSON object', { field }) };
  if (first?.type === ValueErrorType.ObjectAdditionalProperties) {
    return { error: badRequest(`${field} is not a field of this request`, { field }) };
  }
  return { error: badRequest(`${field}: ${first?.message ?? 'invalid'}`, { field }) };
}

export async function entryRoutes(app: FastifyInstance, opts: EntryRouteOptions): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Keyed after the signature check (preHandler) on the authenticated client: headers an attacker
  // can rotate (an unverified client name, X-Forwarded-For) never choose the bucket.
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: opts.rateLimitMax ?? app.config.entry.rateLimitPerMinute,
    timeWindow: opts.rateLimitWindowMs ?? 60_000,
    keyGenerator: clientOf,
    errorResponseBuilder: (_req, ctx) => new AppError('rate_limited', 429, `too many requests; retry in ${ctx.after}`),
  });

  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/entry/allocate',
    {
      schema: { body: Body, response: { 200: Answer } },
      validatorCompiler: () => validateBody,
      preValidation: async (req) => {
        const raw = typeof req.body === 'string' ? req.body : '';
        const ts = req.headers['x-entry-timestamp'];
        const sig = req.headers['x-entry-signature'];
        const named = req.headers[CLIENT_HEADER];
        // x-entry-client names the key to verify with; without it, ENTRY_SECRET's client.
        const client = named === undefined ? DEFAULT_ENTRY_CLIENT : typeof named === 'string' ? named : '';
        const secret = Object.hasOwn(app.config.entry.clients, client) ? app.config.entry.clients[client] : null;
        if (secret === null) throw unauthorized('bad_entry_signature', 'x-entry-signature does not match the request');
        const failure = checkEntrySignature(
          secret,
          typeof ts === 'string' ? ts : undefined,
          typeof sig === 'string' ? sig : undefined,
          raw,
          app.now(),
        );
        if (failure === 'stale_entry_timestamp') throw unauthorized(failure, 'x-entry-timestamp is outside ±300 s');
        if (failure) throw unauthorized(failure, 'x-entry-signature does not match the request');
        callers.set(req, { client, signature: sig as string, timestamp: Number(ts) });
        try {
          req.body = JSON.parse(raw);
        } catch {
          throw badRequest('body must be JSON');
        }
      },
    },
    async (req, reply) => {
      const body = req.body;
      if ((body.lat === undefined) !== (body.lng === undefined)) {
        throw badRequest('lat and lng go together', { field: body.lat === undefined ? 'lat' : 'lng' });
      }
      if (body.phone !== undefined && !isPlausiblePhone(body.phone)) {
        throw badRequest('phone is not a phone number', { field: 'phone' });
      }
      let customerId: string | undefined;
      if (body.customerId !== undefined) {
        const id = parseCustomerId(body.customerId);
        if (id === null) throw badRequest('customerId is not a customer id', { field: 'customerId' });
        customerId = id;
      }
      const caller = callers.get(req) as { client: string; signature: string; timestamp: number };

      // Each signature is accepted once, on every instance: a replay gets the first answer.
      const claim = await claimRequest(app.db, caller.client, caller.signature, caller.timestamp, app.now());
      if (claim.kind === 'done') {
        reply.header('x-entry-replay', 'true');
        return claim.answer as EntryAnswer;
      }
      if (claim.kind === 'pending') {
        throw new AppError('replayed', 409, 'this signed request was already received and is being processed');
      }
      let answer: EntryAnswer;
      try {
        answer = await entryAllocate(
          {
            db: app.db,
            wecom: wecomOf(app),
            salt: app.config.phoneHashSalt,
            now: app.now,
            ttlMs: opts.allocationTtlMs ?? app.config.entry.allocationTtlHours * 3_600_000,
            client: clientOf(req),
            log: req.log,
          },
          { ...body, customerId },
        );
      } catch (err) {
        await releaseRequest(app.db, caller.client, caller.signature).catch(() => undefined);
        throw err;
      }
      await finishRequest(app.db, caller.client, caller.signature, answer);
      return answer;
    },
  );
}
