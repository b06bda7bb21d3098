import type { FastifyInstance } from 'fastify';
import { verifyRewardSignature } from '../campaigns/signature';

/**
 * The sandbox's stand-in for the bank's reward system: POST /sandbox/rewards verifies the signature
 * over the raw body, accepts each idempotency key once (a repeat answers 200 `duplicate`), and can
 * be told to fail requests (`failNext`, or `failEvery` n-th) so retries are visible on the page.
 */

export interface ReceivedReward {
  at: number;
  key: string | null;
  status: number;
  outcome: 'accepted' | 'duplicate' | 'failed' | 'bad_signature';
  campaign: string | null;
  userid: string | null;
  amount: number | null;
}

export interface RewardReceiverState {
  received: ReceivedReward[];
  /** Keys accepted once (the bank's dedup). */
  accepted: Set<string>;
  /** Answer 503 to the next n requests. */
  failNext: number;
  /** Answer 503 to every n-th request (0 = never). */
  failEvery: number;
  count: number;
}

export const newRewardReceiver = (): RewardReceiverState => ({
  received: [],
  accepted: new Set(),
  failNext: 0,
  failEvery: 0,
  count: 0,
});

export async function rewardReceiverRoutes(app: FastifyInstance, state: RewardReceiverState): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/rewards', async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const h = (n: string) => (typeof req.headers[n] === 'string' ? (req.headers[n] as string) : undefined);
    const at = app.now();
    state.count++;
    let body: {
      idempotencyKey?: string;
      campaign?: { code?: string };
      manager?: { userid?: string };
      reward?: { amount?: number };
    } = {};
    try {
      body = JSON.parse(raw);
    } catch {
      // recorded below as a bad request
    }
    const rec = (status: number, outcome: ReceivedReward['outcome']) => {
      state.received.push({
        at,
        key: body.idempotencyKey ?? null,
        status,
        outcome,
        campaign: body.campaign?.code ?? null,
        userid: body.manager?.userid ?? null,
        amount: body.reward?.amount ?? null,
      });
      if (state.received.length > 500) state.received.splice(0, state.received.length - 500);
      return reply.code(status).send({ status: outcome });
    };
    if (verifyRewardSignature(app.config.rewards.secret, h('x-reward-timestamp'), h('x-reward-signature'), raw, at)) {
      return rec(401, 'bad_signature');
    }
    if (state.failNext > 0 || (state.failEvery > 0 && state.count % state.failEvery === 0)) {
      if (state.failNext > 0) state.failNext--;
      return rec(503, 'failed');
    }
    const key = body.idempotencyKey ?? '';
    if (state.accepted.has(key)) return rec(200, 'duplicate');
    state.accepted.add(key);
    return rec(200, 'accepted');
  });
}
