import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { groupChanged } from './events';

/** Customer groups: the change_external_chat handler in the event registry (jobs live in server/jobs). */
export const groupsPlugin = fp(
  async (app: FastifyInstance) => {
    app.events.on('event/change_external_chat', groupChanged);
  },
  { name: 'groups' },
);
