import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { CachedSecret } from '../db/entities';
import type { SecretBox } from '../lib/secret-box';
import { sha256Hex } from './crypto';

/**
 * Access tokens and JS-SDK tickets, shared by every process through the `secrets_cache` table.
 *
 * - In-process single flight: one promise per key, so 100 concurrent callers cause one lookup.
 * - Across processes: whoever flips the row's lease (a conditional UPDATE checked by affected rows)
 *   fetches; the others poll the row with a short bounded backoff until the value appears. A crashed
 *   winner's lease simply expires.
 * - Refreshed `refreshAheadMs` before expiry; while a refresh is running elsewhere, a still-valid
 *   old value is used instead of waiting.
 * - `invalidate(key, badValue)` only drops the value if it is still the bad one, so N processes that
 *   all saw 40014 for the same token cause one refresh, not N.
 * Values never reach a log: callers log the key's kind only.
 *
 * At rest the values are AES-256-GCM ciphertext (DbSecretStore with a SecretBox keyed by
 * SECRETS_KEY), so a database dump hands out no live token. A value that does not open — written in
 * clear by an older version, or sealed under a previous SECRETS_KEY — is wiped and read as a miss:
 * the next caller refetches it (WeCom answers gettoken with the same token while it is valid), and no
 * clear token stays in the table after the first read.
 */

export interface SecretRow {
  value: string | null;
  expiresAt: number | null;
  leaseHolder: string | null;
  leaseUntil: number | null;
  updatedAt: number;
}

/** Storage of the cache rows: the DB in production, memory in unit tests. */
export interface SecretStore {
  read(name: string): Promise<SecretRow | null>;
  /** Takes the lease if it is free or expired and the value is not fresh until `freshUntil`. True when taken. */
  tryLease(name: string, holder: string, now: number, leaseUntil: number, freshUntil: number): Promise<boolean>;
  /** Writes the value and releases the lease (only if `holder` still holds it; otherwise still writes). */
  write(name: string, holder: string, value: string, expiresAt: number, now: number): Promise<void>;
  release(name: string, holder: string, now: number): Promise<void>;
  /** Clears the value only if it still equals `badValue`. */
  invalidate(name: string, badValue: string, now: number): Promise<void>;
}

export class DbSecretStore implements SecretStore {
  constructor(
    private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  private get repo() {
    return this.db.getRepository(CachedSecret);
  }

  async read(name: string): Promise<SecretRow | null> {
    const row = await this.repo.findOne({ where: { name } });
    if (!row || row.value === null) return row;
    const value = this.box.open(row.value, name);
    if (value !== null) return { ...row, value };
    // Clear (older version) or another key: wipe exactly that value, answer a miss.
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ value: null, expiresAt: null })
      .where('name = :name AND value = :stored', { name, stored: row.value })
      .execute();
    return { ...row, value: null, expiresAt: null };
  }

  async tryLease(name: string, holder: string, now: number, leaseUntil: number, freshUntil: number): Promise<boolean> {
    // The row must exist for the conditional UPDATE to have something to flip.
    await this.repo
      .createQueryBuilder()
      .insert()
      .values({ name, value: null, expiresAt: null, leaseHolder: null, leaseUntil: null, updatedAt: now })
      .orIgnore()
      .updateEntity(false)
      .execute();
    const res = await this.repo
      .createQueryBuilder()
      .update()
      .set({ leaseHolder: holder, leaseUntil, updatedAt: now })
      .where('name = :name', { name })
      .andWhere('(lease_until IS NULL OR lease_until < :now)', { now })
      .andWhere('(value IS NULL OR expires_at IS NULL OR expires_at < :freshUntil)', { freshUntil })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async write(name: string, holder: string, value: string, expiresAt: number, now: number): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ value: this.box.seal(value, name), expiresAt, leaseHolder: null, leaseUntil: null, updatedAt: now })
      .where('name = :name', { name })
      .andWhere('(lease_holder = :holder OR lease_holder IS NULL OR lease_until < :now)', { holder, now })
      .execute();
  }

  async release(name: string, holder: string, now: number): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ leaseHolder: null, leaseUntil: null, updatedAt: now })
      .where('name = :name AND lease_holder = :holder', { name, holder })
      .execute();
  }

  async invalidate(name: string, badValue: string, now: number): Promise<void> {
    // Ciphertexts differ for equal values (random IV): compare in clear, then clear exactly the
    // stored ciphertext we compared, so a value refreshed meanwhile by another process survives.
    const row = await this.repo.findOne({ where: { name } });
    if (!row?.value || this.box.open(row.value, name) !== badValue) return;
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ value: null, expiresAt: null, updatedAt: now })
      .where('name = :name AND value = :stored', { name, stored: row.value })
      .execute();
  }
}

/** Same semantics in memory (unit tests; one "process" per instance unless shared). */
export class MemorySecretStore implements SecretStore {
  readonly rows = new Map<string, SecretRow>();

  async read(name: string) {
    const r = this.rows.get(name);
    return r ? { ...r } : null;
  }

  async tryLease(name: string, holder: string, now: number, leaseUntil: number, freshUntil: number) {
    const r = this.rows.get(name) ?? {
      value: null,
      expiresAt: null,
      leaseHolder: null,
      leaseUntil: null,
      updatedAt: now,
    };
    const leaseFree = r.leaseUntil === null || r.leaseUntil < now;
    const stale = r.value === null || r.expiresAt === null || r.expiresAt < freshUntil;
    if (!leaseFree || !stale) return false;
    this.rows.set(name, { ...r, leaseHolder: holder, leaseUntil, updatedAt: now });
    return true;
  }

  async write(name: string, _holder: string, value: string, expiresAt: number, now: number) {
    this.rows.set(name, { value, expiresAt, leaseHolder: null, leaseUntil: null, updatedAt: now });
  }

  async release(name: string, holder: string, now: number) {
    const r = this.rows.get(name);
    if (r && r.leaseHolder === holder)
      this.rows.set(name, { ...r, leaseHolder: null, leaseUntil: null, updatedAt: now });
  }

  async invalidate(name: string, badValue: string, now: number) {
    const r = this.rows.get(name);
    if (r && r.value === badValue) this.rows.set(name, { ...r, value: null, expiresAt: null, updatedAt: now });
  }
}

export interface Fetched {
  value: string;
  /** Seconds, as WeCom's expires_in. */
  expiresIn: number;
}

export interface TokenCacheOptions {
  store: SecretStore;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Refresh this long before expiry (default 5 min). */
  refreshAheadMs?: number;
  /**
   * How long a fetcher may hold the lease before others take over (default 30 s: a gettoken with the
   * client's timeouts and retries normally ends well within it; a crashed holder costs waiters this long).
   */
  leaseMs?: number;
  /** Upper bound on waiting for another process's refresh (default 35 s). */
  maxWaitMs?: number;
  /** Identity of this process in lease rows. */
  holder?: string;
}

/** Key of a cached secret: `<kind>:<first 16 hex of sha256(corpId + secret)>`; never the secret itself. */
export function cacheKey(kind: 'token' | 'jsapi_ticket' | 'agent_ticket', corpId: string, secret: string): string {
  return `${kind}:${sha256Hex(corpId + secret).slice(0, 16)}`;
}

/** A still-usable value keeps at least this much life when a refresh elsewhere is in progress. */
const MIN_USABLE_MS = 30_000;

export class TokenCache {
  private readonly store: SecretStore;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly refreshAheadMs: number;
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  readonly holder: string;
  private readonly memory = new Map<string, { value: string; refreshAt: number }>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(opts: TokenCacheOptions) {
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.refreshAheadMs = opts.refreshAheadMs ?? 5 * 60_000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxWaitMs = opts.maxWaitMs ?? 35_000;
    this.holder = opts.holder ?? `p${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /**
   * When to refresh a value. WeCom answers gettoken with the *same* token and a shorter expires_in
   * while the old one is valid, so a value fetched inside its own refresh window is kept until just
   * before expiry instead of being refetched on every call.
   */
  private refreshAt(expiresAt: number, writtenAt: number): number {
    const ahead = expiresAt - this.refreshAheadMs;
    return writtenAt >= ahead ? expiresAt - MIN_USABLE_MS : ahead;
  }

  /** The cached value for `key`, fetching it with `fetch` (exactly once across processes) when needed. */
  get(key: string, fetch: () => Promise<Fetched>): Promise<string> {
    const m = this.memory.get(key);
    if (m && m.refreshAt > this.now()) return Promise.resolve(m.value);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.load(key, fetch).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Drops `badValue` (if it is still the cached one) after WeCom rejected it. */
  async invalidate(key: string, badValue: string): Promise<void> {
    const m = this.memory.get(key);
    if (m && m.value === badValue) this.memory.delete(key);
    await this.store.invalidate(key, badValue, this.now());
  }

  private remember(key: string, value: string, refreshAt: number): string {
    this.memory.set(key, { value, refreshAt });
    return value;
  }

  private async load(key: string, fetch: () => Promise<Fetched>): Promise<string> {
    const started = this.now();
    let delay = 10;
    for (;;) {
      const row = await this.store.read(key);
      const now = this.now();
      const refreshAt = row?.value && row.expiresAt !== null ? this.refreshAt(row.expiresAt, row.updatedAt) : 0;
      if (row?.value && refreshAt > now) return this.remember(key, row.value, refreshAt);
      // Stale for us means stale in the lease condition too (same margin as refreshAt).
      const margin = row?.value && row.expiresAt !== null ? row.expiresAt - refreshAt : this.refreshAheadMs;
      if (await this.store.tryLease(key, this.holder, now, now + this.leaseMs, now + margin)) {
        return this.fetchAndWrite(key, fetch);
      }
      // Someone else is refreshing: an old value that still works is good enough meanwhile.
      if (row?.value && row.expiresAt !== null && row.expiresAt - MIN_USABLE_MS > now) {
        return row.value; // not remembered: the next call looks for the refreshed one
      }
      if (this.now() - started > this.maxWaitMs) {
        throw new Error(`timed out waiting for another process to refresh ${key.split(':')[0]}`);
      }
      await this.sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 250);
    }
  }

  private async fetchAndWrite(key: string, fetch: () => Promise<Fetched>): Promise<string> {
    let got: Fetched;
    try {
      got = await fetch();
    } catch (err) {
      await this.store.release(key, this.holder, this.now()).catch(() => undefined);
      throw err;
    }
    const now = this.now();
    const expiresAt = now + got.expiresIn * 1000;
    await this.store.write(key, this.holder, got.value, expiresAt, now);
    return this.remember(key, got.value, this.refreshAt(expiresAt, now));
  }
}
