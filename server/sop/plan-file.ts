import { z } from 'zod';
import { clockMinutes, parseCron } from './schedule';

/**
 * An SOP plan file (`ops sop validate|apply <file>`), JSON or YAML:
 *   { "id": "sh-weekly-salon", "name": "每周财富沙龙预告", "channel": "group",
 *     "audience": { "groups": { "branches": ["B002", "B003"] } },
 *     "schedule": "0 10 * * 1", "template": 12 }
 * channel group → audience.groups (by branches, regions, purposes; {} = every group);
 * chat → audience.customers (segments, bankTags, corpTags, stages, branches, daysSinceLastTouch);
 * moments → audience.customers with branches and corpTags only (what add_moment_task can express).
 * schedule: a cron expression in Asia/Shanghai firing at most once a day, or journey steps relative
 * to the customer's add: { "steps": [{ "day": 0, "template": 12 }, { "day": 3, "template": 13 }], "at": "10:00" }.
 * Every problem names its path (`audience.customers.stages[1]: …`).
 */

const code = z.string().trim().min(1, 'must not be empty').max(32, 'must be at most 32 characters');
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1, 'must list at least one value').max(1000);
const templateId = z.number({ invalid_type_error: 'must be a script id (a number)' }).int().positive();

const groupsAudience = z
  .object({
    branches: list(code).optional(),
    regions: list(code).optional(),
    purposes: list(z.string().regex(/^[\p{L}\p{N}_-]{1,32}$/u, 'must be 1–32 letters, digits, _ or -')).optional(),
  })
  .strict();

const customersAudience = z
  .object({
    segments: list(code).optional(),
    bankTags: list(code).optional(),
    corpTags: list(z.string().trim().min(1).max(64)).optional(),
    stages: list(z.number().int().min(1, 'must be a stage 1–4').max(4, 'must be a stage 1–4')).optional(),
    branches: list(code).optional(),
    daysSinceLastTouch: z
      .object({ min: z.number().int().min(0).max(3650).optional(), max: z.number().int().min(0).max(3650).optional() })
      .strict()
      .refine((v) => v.min !== undefined || v.max !== undefined, 'give min and/or max (days)')
      .refine((v) => v.min === undefined || v.max === undefined || v.min <= v.max, 'min must not exceed max')
      .optional(),
  })
  .strict();

const steps = z
  .object({
    steps: z
      .array(
        z
          .object({ day: z.number().int().min(0, 'must be 0–365').max(365, 'must be 0–365'), template: templateId })
          .strict(),
      )
      .min(1, 'must have at least one step')
      .max(30),
    at: z
      .string()
      .refine((v) => clockMinutes(v) !== null, 'must be HH:MM (China time)')
      .optional(),
  })
  .strict();

export const PlanFileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'must be 2–64 lowercase letters, digits or "-"'),
    name: z.string().trim().min(1, 'must not be empty').max(128),
    channel: z.enum(['group', 'chat', 'moments'], { errorMap: () => ({ message: 'must be group, chat or moments' }) }),
    audience: z.object({ groups: groupsAudience.optional(), customers: customersAudience.optional() }).strict(),
    schedule: z.union([z.string(), steps], {
      errorMap: () => ({ message: 'must be a cron expression or { "steps": [{ "day", "template" }] }' }),
    }),
    template: templateId.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    const a = p.audience;
    if (!!a.groups === !!a.customers) issue(['audience'], 'must have exactly one of "groups" or "customers"');
    if (p.channel === 'group' && !a.groups && a.customers)
      issue(['audience', 'customers'], 'channel group sends to customer groups: use audience.groups');
    if (p.channel !== 'group' && a.groups)
      issue(['audience', 'groups'], `channel ${p.channel} sends to customers: use audience.customers`);
    if (p.channel === 'moments' && a.customers) {
      for (const k of ['segments', 'bankTags', 'stages', 'daysSinceLastTouch'] as const) {
        if (a.customers[k] !== undefined)
          issue(['audience', 'customers', k], 'moments reach customers by sender branch and corp tags only');
      }
    }
    if (typeof p.schedule === 'string') {
      const c = parseCron(p.schedule);
      if ('error' in c) issue(['schedule'], c.error);
      else if (c.fields.minutes.length !== 1 || c.fields.hours.length !== 1)
        issue(['schedule'], 'must fire at most once a day (one minute and one hour): WeCom caps mass messages per day');
      if (p.template === undefined) issue(['template'], 'is required with a cron schedule');
    } else {
      if (p.channel !== 'chat') issue(['schedule', 'steps'], 'journey steps need channel chat (one-to-one)');
      if (p.template !== undefined) issue(['template'], 'give the template per step with journey steps');
      const seen = new Set<number>();
      p.schedule.steps.forEach((s, i) => {
        if (seen.has(s.day)) issue(['schedule', 'steps', i, 'day'], `day ${s.day} is listed twice`);
        seen.add(s.day);
      });
    }
  });

export type PlanFile = z.infer<typeof PlanFileSchema>;
export type GroupsAudience = z.infer<typeof groupsAudience>;
export type CustomersAudience = z.infer<typeof customersAudience>;

export interface PlanProblem {
  path: string;
  message: string;
}

export class PlanFileError extends Error {
  constructor(readonly problems: PlanProblem[]) {
    super(`invalid SOP plan:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'PlanFileError';
  }
}

/** `['audience','groups','branches',0]` → `audience.groups.branches[0]`. */
export function formatPath(path: (string | number)[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(root)';
}

/** The plan, normalised, or PlanFileError listing every problem with its path. */
export function parsePlanFile(input: unknown): PlanFile {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new PlanFileError([{ path: '(root)', message: 'must be an object' }]);
  const r = PlanFileSchema.safeParse(input);
  if (r.success) return r.data;
  const problems: PlanProblem[] = [];
  for (const i of r.error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) problems.push({ path: formatPath([...i.path, k]), message: 'is not a plan field' });
    } else problems.push({ path: formatPath(i.path), message: i.message });
  }
  throw new PlanFileError(problems);
}

/** The scripts a plan uses: the plan's template, or each step's. */
export function planTemplates(p: PlanFile): { path: string; id: number }[] {
  if (typeof p.schedule === 'string') return p.template ? [{ path: 'template', id: p.template }] : [];
  return p.schedule.steps.map((s, i) => ({ path: `schedule.steps[${i}].template`, id: s.template }));
}
