import { z } from 'zod';

/**
 * Rule sets are versioned JSON documents written by operators. Every field but `version` has a
 * default, so `{ "version": "2026-01" }` is a complete rule set. Unknown keys are rejected because a
 * misspelt key (e.g. "maxDistance") would otherwise silently fall back to the default.
 */

const roleSchema = z.enum(['manager', 'branch_lead', 'operator']);

const latLngSchema = z
  .object({
    lat: z.number().finite().min(-90).max(90),
    lng: z.number().finite().min(-180).max(180),
  })
  .strict();

const segmentRouteSchema = z
  .object({
    segment: z.string().min(1),
    /** The manager's skills must include this one. */
    requireSkill: z.string().min(1).optional(),
    /** The manager's role must be one of these. */
    roles: z.array(roleSchema).min(1).optional(),
  })
  .strict()
  .refine((r) => r.requireSkill !== undefined || r.roles !== undefined, {
    message: 'a segment route needs requireSkill or roles (or both)',
  });

const ruleSetSchema = z
  .object({
    version: z.string().min(1, 'version must be a non-empty string'),
    description: z.string().default(''),
    /** Beyond this great-circle distance the nearest-branch rule gives up; null means no limit. */
    maxDistanceMeters: z.number().positive().nullable().default(50_000),
    fallback: z
      .object({ userids: z.array(z.string().min(1)).default([]) })
      .strict()
      .default({}),
    /** For customers with neither owner nor location: try this first, the other one second. */
    noLocationPolicy: z.enum(['fallback', 'added_manager']).default('fallback'),
    segmentRouting: z.array(segmentRouteSchema).default([]),
    respectCapacity: z.boolean().default(true),
    excludeStatuses: z.array(z.enum(['leave', 'resigned'])).default(['leave', 'resigned']),
    /** Roles that receive customers by nearest branch; operators are back-office by default. */
    allocatableRoles: z.array(roleSchema).min(1).default(['manager', 'branch_lead']),
    closedBranches: z.array(z.string().min(1)).default([]),
    regionCentroids: z.record(z.string().min(1), latLngSchema).default({}),
    mismatchPolicy: z.enum(['keep', 'transfer_to_owner']).default('keep'),
  })
  .strict()
  .superRefine((rs, ctx) => {
    const seen = new Set<string>();
    rs.segmentRouting.forEach((route, i) => {
      if (seen.has(route.segment)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['segmentRouting', i, 'segment'],
          message: `duplicate segment "${route.segment}"; each segment may have one route`,
        });
      }
      seen.add(route.segment);
    });
  });

export type RuleSet = Readonly<z.output<typeof ruleSetSchema>>;
export type SegmentRoute = RuleSet['segmentRouting'][number];

export interface RuleSetIssue {
  /** Dotted path into the document, e.g. "segmentRouting[0].roles[1]"; "" for the document itself. */
  path: string;
  message: string;
}

export class RuleSetError extends Error {
  readonly issues: RuleSetIssue[];

  constructor(issues: RuleSetIssue[]) {
    super(`invalid rule set: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'RuleSetError';
    this.issues = issues;
  }
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Validates a rule-set document (an object, or its JSON text) and fills in defaults.
 * The result is deeply frozen: the engine caches compiled forms per rule-set object.
 * @throws RuleSetError listing every problem with its path.
 */
export function parseRuleSet(json: unknown): RuleSet {
  let input = json;
  if (typeof json === 'string') {
    try {
      input = JSON.parse(json);
    } catch (err) {
      throw new RuleSetError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const result = ruleSetSchema.safeParse(input);
  if (!result.success) {
    throw new RuleSetError(result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  return deepFreeze(result.data);
}

export const DEFAULT_RULE_SET: RuleSet = parseRuleSet({
  version: 'default',
  description: 'Owner first, then nearest branch within 50 km, no fallback team.',
});
