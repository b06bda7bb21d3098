import rateLimit from '@fastify/rate-limit';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isPlausiblePhone } from '../customers/phone';
import { AppError, badRequest, unauthorized } from '../errors';
import { wecomOf } from '../wecom/plugin';
import { type EntryRequest, entryAllocate } from './service';
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

const Body = Type.Object(
  {
    customerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    phone: Type.Optional(Type.String({ minLength: 5, maxLength: 32 })),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    regionCode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    campaign: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
  },
  { additionalProperties: false },
);

const Answer = Type.Object({
  allocationId: Type.String(),
  userid: Type.String(),
  managerName: Type.String(),
  branchCode: Type.Union([Type.String(), Type.Null()]),
  branchName: Type.Union([Type.String(), Type.Null()]),
  distanceMeters: Type.Union([Type.Number(), Type.Null()]),
  reason: Type.String(),
  qrCode: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  expiresAt: Type.Union([Type.Number(), Type.Null()]),
});

const CLIENT_HEADER = 'x-entry-client';

/** The calling system: its declared name when well-formed, else its address. */
function clientOf(req: FastifyRequest): string {
  const given = req.headers[CLIENT_HEADER];
  return typeof given === 'string' && /^[\w.-]{1,48}$/.test(given) ? `client:${given}` : `ip:${req.ip}`;
}

export async function entryRoutes(app: FastifyInstance, opts: EntryRouteOptions): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Keyed after the signature check (preHandler): only authenticated callers choose their key.
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
      preValidation: async (req) => {
        const raw = typeof req.body === 'string' ? req.body : '';
        const ts = req.headers['x-entry-timestamp'];
        const sig = req.headers['x-entry-signature'];
        const failure = checkEntrySignature(
          app.config.entrySecret,
          typeof ts === 'string' ? ts : undefined,
          typeof sig === 'string' ? sig : undefined,
          raw,
          app.now(),
        );
        if (failure === 'stale_entry_timestamp') throw unauthorized(failure, 'x-entry-timestamp is outside ±300 s');
        if (failure) throw unauthorized(failure, 'x-entry-signature does not match the request');
        try {
          req.body = JSON.parse(raw);
        } catch {
          throw badRequest('body must be JSON');
        }
      },
    },
    async (req) => {
      const body = req.body as EntryRequest;
      if ((body.lat === undefined) !== (body.lng === undefined)) throw badRequest('lat and lng go together');
      if (body.phone !== undefined && !isPlausiblePhone(body.phone)) throw badRequest('phone is not a phone number');
      return entryAllocate(
        {
          db: app.db,
          wecom: wecomOf(app),
          salt: app.config.phoneHashSalt,
          now: app.now,
          ttlMs: opts.allocationTtlMs ?? app.config.entry.allocationTtlHours * 3_600_000,
          client: clientOf(req),
        },
        body,
      );
    },
  );
}
