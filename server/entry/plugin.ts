import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type EntryRouteOptions, entryRoutes } from './routes';

/**
 * The entry API (POST /api/entry/allocate): the bank's H5 pages, app and outbound-call system start
 * a relationship here (allocation + contact-way QR code). Its routes live in their own encapsulated
 * scope (a raw-body JSON parser for the HMAC must not leak to other routes).
 */
export const entryPlugin = fp(
  async (app: FastifyInstance, opts: EntryRouteOptions) => {
    await app.register(async (scope) => entryRoutes(scope, opts));
  },
  { name: 'entry', dependencies: ['wecom'] },
);
