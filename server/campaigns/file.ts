/**
 * A campaign file (`ops campaigns apply <file>`):
 *   { "code": "lijianjin-2026q1", "name": "添加客户经理领立减金", "startsAt": "2026-01-01T00:00:00+08:00",
 *     "endsAt": "2026-04-01T00:00:00+08:00", "reward": { "kind": "voucher", "amount": 10 },
 *     "newCustomersOnly": true, "churnFlagDays": 7 }
 * Validation names the path of every problem (`reward.amount: must be a positive number`).
 */

export interface CampaignSpec {
  code: string;
  name: string;
  startsAt: number;
  endsAt: number;
  reward: { kind: string; amount: number };
  newCustomersOnly: boolean;
  churnFlagDays: number;
}

export interface SpecProblem {
  path: string;
  message: string;
}

export class CampaignFileError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(`invalid campaign file:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'CampaignFileError';
  }
}

/** Codes travel in contact-way states and URLs: short, ASCII, no separators we use. */
export const CAMPAIGN_CODE = /^[a-z0-9][a-z0-9-]{1,23}$/;
const KNOWN = new Set(['code', 'name', 'startsAt', 'endsAt', 'reward', 'newCustomersOnly', 'churnFlagDays']);

function time(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  // A date without a zone is a China date (the bank's days).
  const iso = /T|\s/.test(v.slice(10)) ? v.replace(' ', 'T') : `${v}T00:00:00`;
  const t = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}+08:00`).getTime();
  return Number.isFinite(t) ? t : null;
}

export function parseCampaignSpec(input: unknown): CampaignSpec {
  const problems: SpecProblem[] = [];
  const p = (path: string, message: string) => problems.push({ path, message });
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new CampaignFileError([{ path: '(root)', message: 'must be a JSON object' }]);
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) p(k, 'is not a campaign field');
  if (typeof o.code !== 'string' || !CAMPAIGN_CODE.test(o.code))
    p('code', 'must be 2–24 lowercase letters, digits or "-"');
  if (typeof o.name !== 'string' || !o.name.trim() || o.name.length > 128) p('name', 'must be 1–128 characters');
  const startsAt = time(o.startsAt);
  const endsAt = time(o.endsAt);
  if (startsAt === null) p('startsAt', 'must be a date-time (2026-01-01T00:00:00+08:00) or epoch ms');
  if (endsAt === null) p('endsAt', 'must be a date-time (2026-04-01T00:00:00+08:00) or epoch ms');
  if (startsAt !== null && endsAt !== null && endsAt <= startsAt) p('endsAt', 'must be after startsAt');
  const reward = o.reward as Record<string, unknown> | undefined;
  if (!reward || typeof reward !== 'object' || Array.isArray(reward)) p('reward', 'must be an object { kind, amount }');
  else {
    if (typeof reward.kind !== 'string' || !/^[a-z_]{1,32}$/.test(reward.kind))
      p('reward.kind', 'must be 1–32 lowercase letters or "_" (e.g. voucher)');
    if (
      typeof reward.amount !== 'number' ||
      !Number.isFinite(reward.amount) ||
      reward.amount <= 0 ||
      reward.amount > 100_000
    )
      p('reward.amount', 'must be a positive number (at most 100000)');
    for (const k of Object.keys(reward)) if (k !== 'kind' && k !== 'amount') p(`reward.${k}`, 'is not a reward field');
  }
  if (o.newCustomersOnly !== undefined && typeof o.newCustomersOnly !== 'boolean')
    p('newCustomersOnly', 'must be true or false');
  const flag = o.churnFlagDays ?? 7;
  if (typeof flag !== 'number' || !Number.isInteger(flag) || flag < 1 || flag > 365)
    p('churnFlagDays', 'must be a whole number of days, 1–365');
  if (problems.length) throw new CampaignFileError(problems);
  return {
    code: o.code as string,
    name: (o.name as string).trim(),
    startsAt: startsAt as number,
    endsAt: endsAt as number,
    reward: { kind: (reward as { kind: string }).kind, amount: (reward as { amount: number }).amount },
    newCustomersOnly: o.newCustomersOnly === true,
    churnFlagDays: flag as number,
  };
}
