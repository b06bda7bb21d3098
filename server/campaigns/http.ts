import axios from 'axios';
import type { FastifyInstance } from 'fastify';
import { injectAdapter } from '../wecom/inject-adapter';
import type { RewardPost } from './delivery';

/**
 * The POST the delivery job uses. In sandbox mode a URL on this server's own /sandbox/ goes
 * through app.inject (no socket: tests and the demo work without listening); any other URL is HTTP.
 */
export function rewardPoster(app: FastifyInstance, timeoutMs = 10_000): RewardPost {
  const base = () => app.config.publicBaseUrl;
  const http = axios.create({
    timeout: timeoutMs,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: (d) => d,
    adapter: app.config.wecom.sandbox ? injectAdapter(app, () => `${base()}/sandbox/`, base) : undefined,
  });
  return async (url, body, headers) => {
    const res = await http.post(url, body, { headers });
    return { status: res.status };
  };
}
