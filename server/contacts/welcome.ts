import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { cachedContext } from '../allocation/cache';
import { findBranch, findCustomer, findManager } from '../allocation/repo';
import { allocationForState } from '../allocation/service';
import { audit } from '../audit/audit';
import { isUniqueViolation } from '../db/data-source';
import type { ScriptTemplate, WelcomeStatus } from '../db/entities';
import { libraryGeneration } from '../playbook/generation';
import { fillVariables, variableProblems } from '../playbook/variables';
import type { WecomApi } from '../wecom/api-types';
import { ERR_WELCOME_ALREADY_SENT, wecomErrorInfo } from '../wecom/errors';
import { approvedWelcomeTemplateRows, insertWelcomeClaim, setWelcomeOutcome } from './repo';

/**
 * The welcome message (欢迎语): one send_welcome_msg per WelcomeCode, within 20 s of the event.
 * A row keyed by sha256(code) is claimed before the call, so a redelivered or retried event never
 * sends twice; the code itself is never stored or logged.
 */

export const WELCOME_CODE_TTL_MS = 20_000;
/** Retryable errors (41096 race, busy, network) are retried inline while this much time is left. */
const MIN_TIME_LEFT_MS = 1_500;
const RETRY_DELAYS_MS = [200, 500, 1000, 2000];
/** Claimed and not yet answered: a crash mid-call leaves exactly this truth. */
const SENDING: WelcomeStatus = 'sending';

export type WelcomeOutcome = WelcomeStatus | 'duplicate' | 'no_code';

/**
 * Why a welcome did not go out, in its audit row (`report` counts them): no approved, unexpired
 * welcome script for this manager and segment; or the 20 s code had run out before we could send.
 */
export type WelcomeSkipReason = 'no_template' | 'code_expired';

export interface WelcomeInput {
  welcomeCode: string | undefined;
  externalUserid: string;
  userid: string;
  state: string | null;
  /** When the callback was acknowledged: the code's 20 s run from about then. */
  receivedAt: number;
  /**
   * WeChat gender (1 male, 2 female) for the form of address, or a promise of it that the caller
   * bounds in time; awaited only after the database lookups, so both overlap.
   */
  gender?: number | Promise<number | undefined>;
}

export interface WelcomeDeps {
  db: DataSource;
  wecom: WecomApi;
  now: () => number;
  /** Seconds from acknowledgement to WeCom's answer. */
  observeLatency?: (seconds: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Welcomes in flight in this process. The slow part of add handlers waits (bounded) while any is,
 * so under a burst the CPU goes to the messages that expire first.
 */
let inFlight = 0;
let idleWaiters: (() => void)[] = [];

export function welcomeStarted(): () => void {
  inFlight++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    inFlight--;
    if (inFlight === 0) for (const f of idleWaiters.splice(0)) f();
  };
}

/** Resolves when no welcome is in flight in this process, or after `maxMs`. */
export function welcomesIdle(maxMs: number): Promise<void> {
  if (inFlight === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      idleWaiters = idleWaiters.filter((f) => f !== wake);
      resolve();
    }, maxMs);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    idleWaiters.push(wake);
  });
}

export const welcomeCodeHash = (code: string) => createHash('sha256').update(code).digest('hex');

interface Template {
  id: number;
  content: string;
  product: string | null;
}

/** Approved welcome templates change rarely; re-reading them per add is wasted work on the hot path. */
const TEMPLATE_CACHE_MS = 10_000;
const templateCache = new WeakMap<DataSource, { at: number; gen: number; rows: Promise<ScriptTemplate[]> }>();

function approvedWelcomeTemplates(db: DataSource): Promise<ScriptTemplate[]> {
  const hit = templateCache.get(db);
  const at = Date.now();
  const gen = libraryGeneration(db);
  if (hit && at - hit.at < TEMPLATE_CACHE_MS && hit.gen === gen) return hit.rows;
  const rows = approvedWelcomeTemplateRows(db);
  templateCache.set(db, { at, gen, rows });
  rows.catch(() => templateCache.delete(db));
  return rows;
}

/** Approved, unexpired welcome template: the manager's own first, then one for the segment, then the corp's. */
export async function pickWelcomeTemplate(
  db: DataSource,
  userid: string,
  segment: string | null,
  now: number,
): Promise<Template | null> {
  // Only approved, unexpired scripts reach a customer; one with an unknown variable never does.
  const rows = (await approvedWelcomeTemplates(db)).filter(
    (t) =>
      (t.expiresAt === null || t.expiresAt > now) &&
      (t.ownerUserid === null || t.ownerUserid === userid) &&
      variableProblems(t.content).length === 0,
  );
  const score = (t: ScriptTemplate) => {
    const segs = t.segments
      .split(/[,，]/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (segs.length > 0 && (!segment || !segs.includes(segment))) return -1;
    return (t.ownerUserid ? 4 : 0) + (segs.length > 0 ? 2 : 0);
  };
  let best: ScriptTemplate | null = null;
  let bestScore = -1;
  for (const t of rows) {
    const s = score(t);
    if (s > bestScore || (s === bestScore && best && (t.updatedAt > best.updatedAt || t.id > best.id))) {
      best = t;
      bestScore = s;
    }
  }
  return best && bestScore >= 0 ? { id: best.id, content: best.content, product: best.product } : null;
}

async function welcomeText(
  deps: WelcomeDeps,
  input: WelcomeInput,
  now: number,
): Promise<{ template: Template; text: string } | null> {
  const { db } = deps;
  // Names come from the in-process allocation index when it is built: two queries fewer on the hot path.
  const ctx = cachedContext(db);
  const cachedManager = ctx?.index.getManager(input.userid);
  const [allocation, manager] = await Promise.all([
    allocationForState(db, input.state),
    cachedManager
      ? { name: cachedManager.name, branchCode: cachedManager.branchCode || null }
      : findManager(db, input.userid),
  ]);
  const cachedBranch = manager?.branchCode ? ctx?.index.getBranch(manager.branchCode) : undefined;
  const [customer, branch] = await Promise.all([
    allocation?.customerId ? findCustomer(db, allocation.customerId) : null,
    cachedBranch ?? (manager?.branchCode ? findBranch(db, manager.branchCode) : null),
  ]);
  const template = await pickWelcomeTemplate(db, input.userid, customer?.segment ?? null, now);
  if (!template) return null;
  const gender = customer ? await input.gender : undefined;
  const text = fillVariables(
    template.content,
    customer
      ? {
          externalUserId: input.externalUserid,
          maskedName: customer.maskedName,
          gender: gender ?? 0,
          segment: customer.segment,
          bankTags: customer.bankTags ?? [],
          usedTemplateIds: [],
        }
      : null,
    { userid: input.userid, name: manager?.name ?? input.userid, branchName: branch?.name ?? null },
    template.product,
  );
  return { template, text };
}

async function finish(
  deps: WelcomeDeps,
  codeHash: string,
  input: WelcomeInput,
  status: WelcomeStatus,
  extra: { errcode?: number | null; templateId?: number | null; sentAt?: number | null },
  reason?: WelcomeSkipReason,
): Promise<WelcomeStatus> {
  await setWelcomeOutcome(deps.db, codeHash, { status, ...extra });
  await audit(deps.db, {
    actor: 'system:welcome',
    action: `welcome.${status}`,
    subject: `contact:${input.externalUserid}`,
    detail: {
      userid: input.userid,
      templateId: extra.templateId ?? null,
      errcode: extra.errcode ?? null,
      ...(reason ? { reason } : {}),
    },
  });
  return status;
}

/**
 * Sends the welcome message for one add event, at most once per code. Returns what happened;
 * throws only when the database fails (the worker then retries, and the claim keeps it single).
 */
export async function sendWelcome(deps: WelcomeDeps, input: WelcomeInput): Promise<WelcomeOutcome> {
  const code = input.welcomeCode;
  if (!code) return 'no_code';
  const codeHash = welcomeCodeHash(code);
  const deadline = input.receivedAt + WELCOME_CODE_TTL_MS;
  try {
    await insertWelcomeClaim(deps.db, {
      codeHash,
      externalUserid: input.externalUserid,
      userid: input.userid,
      templateId: null,
      status: SENDING,
      errcode: null,
      eventAt: input.receivedAt,
      sentAt: null,
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'duplicate';
    throw err;
  }
  if (deps.now() >= deadline) return finish(deps, codeHash, input, 'expired', {}, 'code_expired');

  const content = await welcomeText(deps, input, deps.now());
  if (!content) return finish(deps, codeHash, input, 'skipped', {}, 'no_template');
  const { template, text } = content;

  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.wecom.sendWelcomeMsg({ welcome_code: code, text: { content: text } });
      const at = deps.now();
      deps.observeLatency?.((at - input.receivedAt) / 1000);
      return finish(deps, codeHash, input, 'sent', { templateId: template.id, sentAt: at });
    } catch (err) {
      const { kind, errcode } = wecomErrorInfo(err);
      if (errcode === ERR_WELCOME_ALREADY_SENT) {
        deps.observeLatency?.((deps.now() - input.receivedAt) / 1000);
        return finish(deps, codeHash, input, 'already_sent', { templateId: template.id, errcode });
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (kind === 'retryable' && delay !== undefined && deadline - deps.now() - delay > MIN_TIME_LEFT_MS) {
        await sleep(delay);
        continue;
      }
      const status: WelcomeStatus = deps.now() >= deadline ? 'expired' : 'failed';
      return finish(deps, codeHash, input, status, { templateId: template.id, errcode });
    }
  }
}
