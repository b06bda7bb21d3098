import { cacheKey, Fetched, MemorySecretStore, TokenCache } from '../../../server/wecom/token-cache';

/** Three "processes" (caches) over one store, a settable clock, and a fetcher WeCom-like in answering. */
function setup(refreshAheadMs = 5 * 60_000) {
  const clock = { now: 1_000_000 };
  const store = new MemorySecretStore();
  const fetches: string[] = [];
  let n = 0;
  let gate: (() => void) | undefined;
  const fetch = (who: string) => async (): Promise<Fetched> => {
    fetches.push(who);
    // Hold the fetch open until released so concurrent callers really overlap.
    await new Promise<void>((r) => {
      gate = r;
      setImmediate(r);
    });
    return { value: `tok${++n}`, expiresIn: 7200 };
  };
  const make = (name: string) =>
    new TokenCache({
      store,
      now: () => clock.now,
      // Losers poll: yield to the event loop instead of sleeping.
      sleep: () => new Promise((r) => setImmediate(r)),
      refreshAheadMs,
      holder: name,
    });
  return { clock, store, fetches, fetch, caches: [make('p1'), make('p2'), make('p3')], release: () => gate?.() };
}

describe('token cache (single flight in-process and across processes)', () => {
  const key = cacheKey('token', 'wwcorp', 'secret');

  it('keys by kind and a hash of corp + secret, never the secret itself', () => {
    expect(key).toMatch(/^token:[0-9a-f]{16}$/);
    expect(key).not.toContain('secret');
    expect(cacheKey('jsapi_ticket', 'wwcorp', 'secret')).toMatch(/^jsapi_ticket:/);
    expect(cacheKey('token', 'wwcorp', 'other')).not.toBe(key);
  });

  it('100 concurrent calls on each of 3 processes cause one fetch', async () => {
    const s = setup();
    const all = await Promise.all(
      s.caches.flatMap((c, i) => Array.from({ length: 100 }, () => c.get(key, s.fetch(`p${i + 1}`)))),
    );
    expect(s.fetches).toHaveLength(1);
    expect(new Set(all)).toEqual(new Set(['tok1']));
  });

  it('invalidation of the same bad value by every process causes one refresh', async () => {
    const s = setup();
    await Promise.all(s.caches.map((c, i) => c.get(key, s.fetch(`p${i + 1}`))));
    await Promise.all(s.caches.map((c) => c.invalidate(key, 'tok1')));
    const again = await Promise.all(
      s.caches.flatMap((c, i) => Array.from({ length: 50 }, () => c.get(key, s.fetch(`p${i + 1}`)))),
    );
    expect(s.fetches).toHaveLength(2);
    expect(new Set(again)).toEqual(new Set(['tok2']));
    // A late 40014 for the old token does not throw away the new one.
    await s.caches[2].invalidate(key, 'tok1');
    expect(await s.caches[2].get(key, s.fetch('p3'))).toBe('tok2');
    expect(s.fetches).toHaveLength(2);
  });

  it('refreshes ahead of expiry, once', async () => {
    const s = setup();
    await s.caches[0].get(key, s.fetch('p1'));
    s.clock.now += 7200_000 - 4 * 60_000; // inside the 5-minute window
    const got = await Promise.all(s.caches.map((c, i) => c.get(key, s.fetch(`p${i + 1}`))));
    expect(s.fetches).toHaveLength(2);
    // While one process refreshes, the others keep using the still-valid old token instead of waiting.
    expect(got[0]).toBe('tok2');
    expect(['tok1', 'tok2']).toEqual(expect.arrayContaining(got));
    const after = await Promise.all(s.caches.map((c, i) => c.get(key, s.fetch(`p${i + 1}`))));
    expect(new Set(after)).toEqual(new Set(['tok2']));
    expect(s.fetches).toHaveLength(2);
  });

  it('a value fetched inside its own refresh window is kept until just before expiry', async () => {
    const s = setup();
    const cache = s.caches[0];
    // WeCom hands out the same token with the remaining lifetime while it is valid.
    const sameToken = async (): Promise<Fetched> => {
      s.fetches.push('same');
      return { value: 'old', expiresIn: 200 };
    };
    await cache.get(key, sameToken);
    for (let i = 0; i < 10; i++) {
      s.clock.now += 10_000;
      expect(await cache.get(key, sameToken)).toBe('old');
    }
    expect(s.fetches).toEqual(['same']);
  });

  it('a failed fetch releases the lease so the next caller can try', async () => {
    const s = setup();
    await expect(
      s.caches[0].get(key, async () => {
        throw new Error('gettoken failed');
      }),
    ).rejects.toThrow('gettoken failed');
    expect((await s.store.read(key))?.leaseHolder).toBeNull();
    expect(await s.caches[1].get(key, s.fetch('p2'))).toBe('tok1');
  });

  it('a crashed winner is taken over when its lease expires', async () => {
    const s = setup();
    // p1 took the lease and died before writing.
    expect(await s.store.tryLease(key, 'p1', s.clock.now, s.clock.now + 15_000, s.clock.now)).toBe(true);
    let polls = 0;
    const waiter = new TokenCache({
      store: s.store,
      now: () => s.clock.now,
      sleep: async () => {
        polls++;
        s.clock.now += 1000;
      },
      holder: 'p2',
    });
    expect(await waiter.get(key, s.fetch('p2'))).toBe('tok1');
    expect(polls).toBeGreaterThanOrEqual(15);
    expect(polls).toBeLessThan(18);
  });
});
