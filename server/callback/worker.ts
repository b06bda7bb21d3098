import fp from 'fastify-plugin';

export const workerPlugin = fp<{ enabled: boolean }>(async () => {}, { name: 'worker' });
