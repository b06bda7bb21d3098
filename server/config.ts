import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import cron from 'node-cron';
import { z } from 'zod';
import { decodeSecretsKey, sandboxSecretsKey } from './lib/secret-box';

/**
 * One schema for every environment variable. Defaults give the embedded demo (SQLite + WeCom
 * sandbox); production sets DATABASE_URL=mysql://… and the real WeCom settings. A missing or
 * malformed value fails the start with the variable's name.
 */

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PUBLIC_WECOM_API = 'https://qyapi.weixin.qq.com';
const PUBLIC_WECOM_OAUTH = 'https://open.weixin.qq.com';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), 'must be true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

const url = z
  .string()
  .trim()
  .refine(isHttpUrl, 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

const secret = z.string().min(16, 'must be at least 16 characters');

/** EncodingAESKey: 43 base64 chars, decoded leniently (WeCom's keys carry non-zero discarded bits). */
export function decodeAesKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) throw new Error('must be 43 base64 characters');
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new Error('must decode to 32 bytes');
  return key;
}

const aesKey = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    try {
      decodeAesKey(v);
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
    }
  });

/** Name of the client that signs with ENTRY_SECRET (and of requests without x-entry-client). */
export const DEFAULT_ENTRY_CLIENT = 'default';
const CLIENT_NAME = /^[A-Za-z0-9_.-]{1,48}$/;

/** `name:secret,name:secret`: one HMAC key per calling system; names are what x-entry-client sends. */
const entryClients = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const item of v.split(',').map((s) => s.trim())) {
      if (!item) continue;
      const colon = item.indexOf(':');
      const name = colon > 0 ? item.slice(0, colon).trim() : '';
      const key = colon > 0 ? item.slice(colon + 1).trim() : '';
      if (!CLIENT_NAME.test(name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'each entry must be name:secret, name of letters, digits, _ . -',
        });
        return z.NEVER;
      }
      if (key.length < 16) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `the secret of client "${name}" must be at least 16 characters`,
        });
        return z.NEVER;
      }
      if (Object.hasOwn(out, name)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `client "${name}" is listed twice` });
        return z.NEVER;
      }
      out[name] = key;
    }
    return out;
  });

/** A proxy address or CIDR block (IPv4 or IPv6). */
function isAddressOrCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  if (extra !== undefined) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Fastify's trustProxy: false (default), true (any), a hop count, or the proxies' addresses / CIDRs. */
export type TrustProxy = boolean | number | string[];

/** The value Fastify takes: a hop count becomes "trust the n nearest hops" (its typings lack numbers). */
export function fastifyTrustProxy(t: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof t === 'number' ? (_address, hop) => hop < t : t;
}

const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): TrustProxy => {
    const lower = v.toLowerCase();
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    if (['true', 'yes', 'on'].includes(lower)) return true;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const list = v.split(',').map((s) => s.trim());
    const bad = list.filter((s) => !isAddressOrCidr(s));
    if (bad.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be false, true, a hop count, or proxy addresses / CIDRs separated by commas${bad.length ? ` (not an address: "${bad[0]}")` : ''}`,
      });
      return z.NEVER;
    }
    return list;
  });

const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^(sqlite:|mysql:\/\/|mariadb:\/\/)/.test(v), 'must start with sqlite:, mysql:// or mariadb://');

const envSchema = z.object({
  PORT: int(0, 65535).default('3000'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl.default('sqlite:./data/wecom.sqlite'),
  WECOM_CORP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{6,64}$/, 'must look like a corp id (ww…)')
    .optional(),
  WECOM_CALLBACK_TOKEN: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{1,64}$/, 'must be letters and digits')
    .optional(),
  WECOM_CALLBACK_AES_KEY: aesKey.optional(),
  WECOM_AGENT_ID: z
    .string()
    .trim()
    .regex(/^\d{1,12}$/, 'must be a numeric agent id')
    .optional(),
  WECOM_AGENT_SECRET: z.string().trim().min(8, 'looks too short for an app secret').optional(),
  WECOM_CONTACT_SECRET: z.string().trim().min(8, 'looks too short for a secret').optional(),
  WECOM_API_BASE: url.default(PUBLIC_WECOM_API),
  WECOM_OAUTH_BASE: url.optional(),
  WECOM_SANDBOX: bool.optional(),
  SESSION_SECRET: secret.optional(),
  ENTRY_SECRET: secret.optional(),
  ENTRY_CLIENTS: entryClients.optional(),
  TRUST_PROXY: trustProxy.default('false'),
  PHONE_HASH_SALT: secret.optional(),
  SECRETS_KEY: z
    .string()
    .trim()
    .superRefine((v, ctx) => {
      try {
        decodeSecretsKey(v);
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
      }
    })
    .optional(),
  PUBLIC_BASE_URL: url.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CALLBACK_RETENTION_HOURS: int(1, 24 * 30).default('24'),
  WORKER_ENABLED: bool.default('true'),
  WORKER_CONCURRENCY: int(1, 64).default('4'),
  WORKER_MAX_ATTEMPTS: int(1, 100).default('8'),
  WORKER_LEASE_MS: int(1000, 3_600_000).default('10000'),
  INBOX_RETENTION_DAYS: int(1, 3650).default('30'),
  JOBS_ENABLED: bool.default('true'),
  ENTRY_ALLOCATION_TTL_HOURS: int(1, 24 * 90).default('168'),
  ENTRY_RATE_LIMIT_PER_MINUTE: int(1, 100_000).default('120'),
  REWARD_WEBHOOK_URL: url.optional(),
  REWARD_WEBHOOK_SECRET: secret.optional(),
  REWARD_MAX_ATTEMPTS: int(1, 100).default('10'),
  CAMPAIGN_STAFF_CORPS: z.string().trim().max(2000).default(''),
  REFERRAL_STAY_DAYS: int(1, 365).default('30'),
  REFERRAL_REWARD_KIND: z
    .string()
    .trim()
    .regex(/^[a-z_]{1,32}$/, 'must be 1–32 lowercase letters or "_"')
    .default('voucher'),
  REFERRAL_REWARD_AMOUNT: int(1, 100_000).default('20'),
  ATTRIBUTION_WINDOW_DAYS: int(1, 365).default('14'),
  CAMPAIGN_PRODUCTS: z.string().trim().max(2000).default(''),
  SIDEBAR_LINK_MAX_FAILURES: int(1, 1000).default('5'),
  SIDEBAR_LINK_WINDOW_MINUTES: int(1, 24 * 60).default('15'),
  PERSONAL_TEMPLATES_REVIEW: bool.default('true'),
  WECOM_SANDBOX_CORP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{6,64}$/, 'must look like a corp id')
    .optional(),
  SANDBOX_SERVER_URL: z
    .string()
    .trim()
    .refine(
      (v) => v.toLowerCase() === 'off' || isHttpUrl(v),
      'must be the http(s) URL of the running sandbox server (e.g. http://127.0.0.1:3000), or off',
    )
    .transform((v) => (v.toLowerCase() === 'off' ? null : v.replace(/\/+$/, '')))
    .optional(),
  DEMO_DATA: bool.optional(),
  TODO_REMINDER_CRON: z
    .string()
    .trim()
    .refine((v) => cron.validate(v), 'must be a cron expression (minute hour day month weekday), in Asia/Shanghai')
    .default('30 8 * * *'),
  TODO_TOUCH_CADENCE_DAYS: int(1, 365).default('30'),
  SEGMENT_TAG_GROUP: z.string().trim().min(1).max(30).default('客户分层'),
  SEGMENT_TAG_NAMES: z
    .string()
    .trim()
    .refine(
      (v) => v.split(',').every((p) => /^[^=,]{1,16}=[^=,]{1,30}$/.test(p.trim())),
      'must be segment=tag pairs separated by commas, e.g. 代发=代发客户,高潜=高潜客户',
    )
    .default('代发=代发客户,高潜=高潜客户,流降=流失预警'),
  SOP_CAP_PER_DAY: int(1, 100).default('1'),
  SOP_CAP_PER_MONTH: int(1, 1000).default('4'),
  SOP_QUIET_HOURS: z
    .string()
    .trim()
    .toLowerCase()
    .refine(
      (v) => v === 'off' || /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(v),
      'must be HH:MM-HH:MM (China time, may wrap midnight, e.g. 21:00-08:00) or off',
    )
    .default('21:00-08:00'),
  SOP_DISPATCH_PER_MINUTE: int(1, 100_000).default('600'),
  SOP_MOMENT_SENDERS_PER_TASK: int(1, 100_000).default('10000'),
  SOP_REMIND_AFTER_HOURS: int(1, 72).default('4'),
  SOP_POLL_MINUTES: int(1, 1440).default('10'),
  SOP_CATCHUP_HOURS: int(0, 168).default('12'),
  METRICS_PORT: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'off' || (/^\d+$/.test(v) && Number(v) <= 65535), 'must be a port (0 = any free port) or off')
    .default('9464'),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SIDEBAR_FRAME_ANCESTORS: z
    .string()
    .trim()
    .refine(
      (v) => v.split(/[\s,]+/).every((o) => /^https:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(o)),
      'must be https origins separated by spaces or commas (https://host or https://*.host)',
    )
    .optional(),
});

export type DbKind = 'sqlite' | 'mysql' | 'mariadb';

export interface Config {
  port: number;
  host: string;
  /** Whose X-Forwarded-For to believe (Fastify trustProxy); false unless TRUST_PROXY says so. */
  trustProxy: TrustProxy;
  publicBaseUrl: string;
  logLevel: string;
  database: { url: string; kind: DbKind; sqlitePath?: string };
  wecom: {
    sandbox: boolean;
    corpId: string;
    token: string;
    aesKey: string;
    agentId: string;
    agentSecret: string;
    contactSecret: string;
    apiBase: string;
    oauthBase: string;
  };
  sessionSecret: string;
  entrySecret: string;
  phoneHashSalt: string;
  /** AES-256-GCM key for secrets_cache (access tokens, JS-SDK tickets) at rest. */
  secretsKey: Buffer;
  callback: {
    bodyLimitBytes: number;
    retentionHours: number;
    futureSkewSeconds: number;
    batchMaxRows: number;
  };
  worker: {
    enabled: boolean;
    concurrency: number;
    maxAttempts: number;
    pollMs: number;
    leaseMs: number;
    /** Lease renewal interval while a handler runs: a third of the lease. */
    heartbeatMs: number;
  };
  inbox: {
    /** Payloads of dead, malformed and unhandled events are cleared after this many days. */
    retentionDays: number;
  };
  jobs: { enabled: boolean };
  /** 今日待办: the morning reminder's schedule (Asia/Shanghai) and the touch cadence (days). */
  todo: { reminderCron: string; cadenceDays: number };
  /** The one corp tag group of customer segments, and the tag each bank segment maps to. */
  segmentTags: { group: string; names: Record<string, string> };
  entry: {
    allocationTtlHours: number;
    rateLimitPerMinute: number;
    /** HMAC key per calling system (ENTRY_CLIENTS), plus ENTRY_SECRET as DEFAULT_ENTRY_CLIENT. */
    clients: Record<string, string>;
  };
  /** The bank's reward system (campaign vouchers, referral rewards); url null = not configured. */
  rewards: { url: string | null; secret: string; maxAttempts: number };
  /**
   * WeCom corps whose users are the bank's own staff (corp_name or corp_full_name as externalcontact/get
   * reports them): their adds never earn a campaign reward. Optional: absent = none.
   */
  campaigns?: { staffCorps: string[] };
  /**
   * Referrals (MGM): the referrer is rewarded once the referred customer has stayed `stayDays` with
   * the manager. Optional so hand-built configs in tests keep compiling; absent = 30 days, voucher 20.
   */
  referrals?: { stayDays: number; rewardKind: string; rewardAmount: number };
  /**
   * Suggestions that learn (issue 12): a bank outcome is credited to the last send within
   * `attributionWindowDays`; scripts for `campaignProducts` (active campaigns) rank higher (活动中).
   * Optional so hand-built configs in tests keep compiling; absent = 14 days, no campaigns.
   */
  learning?: { attributionWindowDays: number; campaignProducts: string[] };
  /**
   * Failed customer-link attempts allowed per manager per window (sidebar). Optional so hand-built
   * configs in tests keep compiling; absent = 5 per 15 minutes (server/sidebar/link-limits.ts).
   */
  sidebarLink?: { maxFailures: number; windowMs: number };
  demoData: boolean;
  /**
   * Sandbox only: the running demo server whose fake WeCom the operator CLI calls (SANDBOX_SERVER_URL).
   * Absent: http://127.0.0.1:$PORT if a sandbox answers there, else a throwaway in-process fake;
   * null (`off`): always the throwaway fake. Optional so hand-built configs in tests keep compiling.
   */
  sandboxServerUrl?: string | null;
  /** Prometheus listener; port null = off (METRICS_PORT=off), 0 = any free port. */
  metrics: { port: number | null; host: string };
  /** Extra origins allowed to frame /sidebar/ (besides the WeCom web client). */
  sidebarFrameAncestors: string[];
  /** Personal scripts (我的话术) wait for a reviewer before use (PERSONAL_TEMPLATES_REVIEW). */
  playbook?: { personalReview: boolean };
  /** SOP plans (server/sop); optional so hand-built configs keep compiling (absent = the defaults). */
  sop?: SopConfig;
}

/** SOP delivery limits (SOP_* variables). */
export interface SopConfig {
  /** Corp mass messages a customer or group may get per China day / calendar month (PROTOCOL-SOP.md §3.4). */
  capPerDay: number;
  capPerMonth: number;
  /** No WeCom task or app reminder is created inside these China-time minutes [from, to); null = off. */
  quietHours: { from: number; to: number } | null;
  /** WeCom tasks created per job run (the job runs every minute). */
  dispatchPerMinute: number;
  /** Senders carried by one add_moment_task (visible_range.sender_list.user_list, ≤ 100,000). */
  momentSendersPerTask: number;
  /** A sender who has not sent after this long is reminded (remind_groupmsg_send, ≤ 3 per 24 h). */
  remindAfterMs: number;
  pollMs: number;
  /** A tick missed by up to this long (server down) is still run. */
  catchupMs: number;
}

export const DEFAULT_SOP_CONFIG: SopConfig = {
  capPerDay: 1,
  capPerMonth: 4,
  quietHours: { from: 21 * 60, to: 8 * 60 },
  dispatchPerMinute: 600,
  momentSendersPerTask: 10_000,
  remindAfterMs: 4 * 3_600_000,
  pollMs: 10 * 60_000,
  catchupMs: 12 * 3_600_000,
};

function quietHours(v: string): { from: number; to: number } | null {
  if (v === 'off') return null;
  const [a, b] = v.split('-');
  const min = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  return { from: min(a), to: min(b) };
}

const randomAlnum = (n: number) => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += chars[bytes[i] % chars.length];
  return out;
};

export function databaseKind(url: string): DbKind {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('mariadb://')) return 'mariadb';
  return 'mysql';
}

/** Reads and validates the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset so `.env` lines like `WECOM_CORP_ID=` keep the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(env)'), message: i.message })),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  const realCredentials = Boolean(e.WECOM_CORP_ID || e.WECOM_AGENT_SECRET || e.WECOM_CONTACT_SECRET);
  const sandbox = e.WECOM_SANDBOX ?? !e.WECOM_CORP_ID;

  if (sandbox && realCredentials) {
    problems.push({
      variable: 'WECOM_SANDBOX',
      message: 'the sandbox cannot run with real WeCom credentials (unset WECOM_CORP_ID / secrets, or WECOM_SANDBOX)',
    });
  }
  if (!sandbox) {
    const required = [
      'WECOM_CORP_ID',
      'WECOM_CALLBACK_TOKEN',
      'WECOM_CALLBACK_AES_KEY',
      'WECOM_AGENT_ID',
      'WECOM_AGENT_SECRET',
      'SESSION_SECRET',
      'PHONE_HASH_SALT',
      'SECRETS_KEY',
      'PUBLIC_BASE_URL',
    ] as const;
    for (const name of required) {
      if (!e[name]) problems.push({ variable: name, message: 'is required when the WeCom sandbox is off' });
    }
    if (!e.ENTRY_SECRET && !e.ENTRY_CLIENTS) {
      problems.push({
        variable: 'ENTRY_SECRET',
        message: 'is required when the WeCom sandbox is off (or give every caller its own in ENTRY_CLIENTS)',
      });
    }
  }
  if (e.ENTRY_SECRET && e.ENTRY_CLIENTS && Object.hasOwn(e.ENTRY_CLIENTS, DEFAULT_ENTRY_CLIENT)) {
    problems.push({
      variable: 'ENTRY_CLIENTS',
      message: `names "${DEFAULT_ENTRY_CLIENT}", which is ENTRY_SECRET's client; rename it or unset ENTRY_SECRET`,
    });
  }
  if (e.REWARD_WEBHOOK_URL && !e.REWARD_WEBHOOK_SECRET && !sandbox) {
    problems.push({ variable: 'REWARD_WEBHOOK_SECRET', message: 'is required when REWARD_WEBHOOK_URL is set' });
  }
  if (problems.length) throw new ConfigError(problems);

  const port = e.PORT;
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? `http://localhost:${port}`;
  const url = e.DATABASE_URL;
  const kind = databaseKind(url);
  // Sandbox identities are generated per process: nothing real can ever be signed with them.
  const entrySecret = e.ENTRY_SECRET ?? (sandbox ? 'sandbox-entry-secret-change-me' : randomAlnum(32));
  // Without ENTRY_SECRET in production only the clients named in ENTRY_CLIENTS can call.
  const entryClientsMap: Record<string, string> = {
    ...(e.ENTRY_SECRET || sandbox ? { [DEFAULT_ENTRY_CLIENT]: entrySecret } : {}),
    ...(e.ENTRY_CLIENTS ?? {}),
  };
  const corpId =
    e.WECOM_CORP_ID ?? (sandbox ? e.WECOM_SANDBOX_CORP_ID : undefined) ?? `wwsandbox${randomAlnum(9).toLowerCase()}`;
  return {
    port,
    host: e.HOST,
    trustProxy: e.TRUST_PROXY,
    publicBaseUrl,
    logLevel: e.LOG_LEVEL,
    database: { url, kind, sqlitePath: kind === 'sqlite' ? url.replace(/^sqlite:(\/\/)?/, '') : undefined },
    wecom: {
      sandbox,
      corpId,
      token: e.WECOM_CALLBACK_TOKEN ?? randomAlnum(32),
      aesKey: e.WECOM_CALLBACK_AES_KEY ?? randomAlnum(43),
      agentId: e.WECOM_AGENT_ID ?? '1000002',
      agentSecret: e.WECOM_AGENT_SECRET ?? `sandbox-agent-${randomAlnum(16)}`,
      // Corps created after 2023-12 call customer-contact APIs with the app's own secret.
      contactSecret: e.WECOM_CONTACT_SECRET ?? e.WECOM_AGENT_SECRET ?? `sandbox-contact-${randomAlnum(16)}`,
      apiBase: sandbox && !cleaned.WECOM_API_BASE ? `${publicBaseUrl}/sandbox/api` : e.WECOM_API_BASE,
      oauthBase: e.WECOM_OAUTH_BASE ?? (sandbox ? `${publicBaseUrl}/sandbox/oauth` : PUBLIC_WECOM_OAUTH),
    },
    sessionSecret: e.SESSION_SECRET ?? randomAlnum(32),
    entrySecret,
    phoneHashSalt: e.PHONE_HASH_SALT ?? 'sandbox-phone-salt-change-me',
    // Fixed in the sandbox (not per process): every process on one database must open the others' rows.
    secretsKey: e.SECRETS_KEY ? decodeSecretsKey(e.SECRETS_KEY) : sandboxSecretsKey(),
    callback: {
      bodyLimitBytes: 64 * 1024,
      retentionHours: e.CALLBACK_RETENTION_HOURS,
      futureSkewSeconds: 300,
      batchMaxRows: 256,
    },
    worker: {
      enabled: e.WORKER_ENABLED,
      concurrency: e.WORKER_CONCURRENCY,
      maxAttempts: e.WORKER_MAX_ATTEMPTS,
      pollMs: 200,
      leaseMs: e.WORKER_LEASE_MS,
      heartbeatMs: Math.floor(e.WORKER_LEASE_MS / 3),
    },
    inbox: { retentionDays: e.INBOX_RETENTION_DAYS },
    jobs: { enabled: e.JOBS_ENABLED },
    todo: { reminderCron: e.TODO_REMINDER_CRON, cadenceDays: e.TODO_TOUCH_CADENCE_DAYS },
    segmentTags: {
      group: e.SEGMENT_TAG_GROUP,
      names: Object.fromEntries(e.SEGMENT_TAG_NAMES.split(',').map((p) => p.trim().split('=') as [string, string])),
    },
    entry: {
      allocationTtlHours: e.ENTRY_ALLOCATION_TTL_HOURS,
      rateLimitPerMinute: e.ENTRY_RATE_LIMIT_PER_MINUTE,
      clients: entryClientsMap,
    },
    rewards: {
      // The sandbox has its own receiver (/sandbox/rewards) so the demo shows the requests.
      url: e.REWARD_WEBHOOK_URL ?? (sandbox ? `${publicBaseUrl}/sandbox/rewards` : null),
      secret: e.REWARD_WEBHOOK_SECRET ?? (sandbox ? 'sandbox-reward-secret-change-me' : ''),
      maxAttempts: e.REWARD_MAX_ATTEMPTS,
    },
    referrals: {
      stayDays: e.REFERRAL_STAY_DAYS,
      rewardKind: e.REFERRAL_REWARD_KIND,
      rewardAmount: e.REFERRAL_REWARD_AMOUNT,
    },
    campaigns: {
      staffCorps: e.CAMPAIGN_STAFF_CORPS.split(/[,，]/)
        .map((p) => p.trim())
        .filter(Boolean),
    },
    learning: {
      attributionWindowDays: e.ATTRIBUTION_WINDOW_DAYS,
      campaignProducts: e.CAMPAIGN_PRODUCTS.split(/[,，]/)
        .map((p) => p.trim())
        .filter(Boolean),
    },
    sidebarLink: { maxFailures: e.SIDEBAR_LINK_MAX_FAILURES, windowMs: e.SIDEBAR_LINK_WINDOW_MINUTES * 60_000 },
    demoData: e.DEMO_DATA ?? sandbox,
    // Ignored outside the sandbox, like WECOM_SANDBOX_CORP_ID.
    ...(sandbox && e.SANDBOX_SERVER_URL !== undefined ? { sandboxServerUrl: e.SANDBOX_SERVER_URL } : {}),
    metrics: { port: e.METRICS_PORT === 'off' ? null : Number(e.METRICS_PORT), host: e.METRICS_HOST },
    sidebarFrameAncestors: e.SIDEBAR_FRAME_ANCESTORS ? e.SIDEBAR_FRAME_ANCESTORS.split(/[\s,]+/) : [],
    playbook: { personalReview: e.PERSONAL_TEMPLATES_REVIEW },
    sop: {
      capPerDay: e.SOP_CAP_PER_DAY,
      capPerMonth: e.SOP_CAP_PER_MONTH,
      quietHours: quietHours(e.SOP_QUIET_HOURS),
      dispatchPerMinute: e.SOP_DISPATCH_PER_MINUTE,
      momentSendersPerTask: e.SOP_MOMENT_SENDERS_PER_TASK,
      remindAfterMs: e.SOP_REMIND_AFTER_HOURS * 3_600_000,
      pollMs: e.SOP_POLL_MINUTES * 60_000,
      catchupMs: e.SOP_CATCHUP_HOURS * 3_600_000,
    },
  };
}
