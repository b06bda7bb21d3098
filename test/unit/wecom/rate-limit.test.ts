import { RateLimitExceeded, RateLimiter, TokenBucket } from '../../../server/wecom/rate-limit';

function limiter(opts: ConstructorParameters<typeof RateLimiter>[0] = {}) {
  const clock = { now: 0 };
  const sleeps: number[] = [];
  const l = new RateLimiter({
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    ...opts,
  });
  return { l, clock, sleeps };
}

describe('client-side rate limiter', () => {
  it('a token bucket allows a burst of max, then refills continuously', () => {
    const b = new TokenBucket(3, 3000, 0);
    for (let i = 0; i < 3; i++) {
      expect(b.waitMs(0)).toBe(0);
      b.take(0);
    }
    expect(b.waitMs(0)).toBe(1000);
    expect(b.waitMs(999)).toBe(1);
    expect(b.waitMs(1000)).toBe(0);
  });

  it('keeps an API under its per-minute limit by waiting, not failing', async () => {
    const { l, clock, sleeps } = limiter({ limits: { '*': [{ max: 10, perMs: 60_000 }] } });
    for (let i = 0; i < 10; i++) await l.acquire('user/get');
    expect(sleeps).toEqual([]);
    await l.acquire('user/get');
    expect(sleeps).toEqual([6000]);
    expect(clock.now).toBe(6000);
    // Over a simulated hour, never more than the window allows.
    const starts: number[] = [];
    for (let i = 0; i < 50; i++) {
      await l.acquire('user/get');
      starts.push(clock.now);
    }
    for (let i = 10; i < starts.length; i++) expect(starts[i] - starts[i - 10]).toBeGreaterThanOrEqual(54_000);
  });

  it('limits each API separately and applies the ticket limits', async () => {
    const { l } = limiter({ maxWaitMs: 0 });
    for (let i = 0; i < 100; i++) await l.acquire('ticket/get');
    await expect(l.acquire('ticket/get')).rejects.toBeInstanceOf(RateLimitExceeded);
    await expect(l.acquire('get_jsapi_ticket')).resolves.toBeUndefined();
    await expect(l.acquire('user/get')).resolves.toBeUndefined();
  });

  it('divides the corp quota between processes', async () => {
    const { l } = limiter({ limits: { '*': [{ max: 9, perMs: 60_000 }] }, processes: 3, maxWaitMs: 0 });
    for (let i = 0; i < 3; i++) await l.acquire('x');
    await expect(l.acquire('x')).rejects.toBeInstanceOf(RateLimitExceeded);
  });

  it('fails instead of waiting longer than maxWaitMs', async () => {
    const { l, sleeps } = limiter({ limits: { '*': [{ max: 1, perMs: 3_600_000 }] }, maxWaitMs: 10_000 });
    await l.acquire('a');
    await expect(l.acquire('a')).rejects.toThrow(/client-side rate limit for a/);
    expect(sleeps).toEqual([]);
  });
});
