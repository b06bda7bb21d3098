import fp from 'fastify-plugin';

export const callbackPlugin = fp(async () => {}, { name: 'callback' });
