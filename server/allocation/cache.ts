import type { DataSource } from 'typeorm';
import { RuleSetRow } from '../db/entities';
import { type AllocationIndex, buildIndex } from './allocation-index';
import { loadOrg } from './repo';
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from './rule-set';

/**
 * The engine's index and the active rule set, built once and kept in process. Building reads every
 * branch and manager plus follow counts, far too slow per request. Imports and rule changes call
 * invalidate(); a maximum age bounds the drift from other processes' changes (N servers on one DB).
 * Cached per DataSource because tests and the CLI open several databases in one process.
 */

export interface AllocationContext {
  index: AllocationIndex;
  ruleSet: RuleSet;
  builtAt: number;
}

/** Rebuild at least this often even without invalidate(): other processes change loads and rules too. */
export const MAX_CONTEXT_AGE_MS = 60_000;

interface Entry {
  ctx?: AllocationContext;
  building?: Promise<AllocationContext>;
  generation: number;
}

const entries = new WeakMap<DataSource, Entry>();

function entryFor(db: DataSource): Entry {
  let e = entries.get(db);
  if (!e) {
    e = { generation: 0 };
    entries.set(db, e);
  }
  return e;
}

async function build(db: DataSource, now: number): Promise<AllocationContext> {
  // Open allocations count: they hold a slot until the add arrives or they expire.
  const [org, active] = await Promise.all([
    loadOrg(db, now),
    db.manager.findOne(RuleSetRow, { where: { active: true } }),
  ]);
  return {
    index: buildIndex(org.branches, org.managers),
    ruleSet: active ? parseRuleSet(active.body) : DEFAULT_RULE_SET,
    builtAt: now,
  };
}

/** The current index and rule set, rebuilt when invalidated or older than MAX_CONTEXT_AGE_MS. Single-flight. */
export async function allocationContext(db: DataSource, now: number = Date.now()): Promise<AllocationContext> {
  const e = entryFor(db);
  if (e.ctx && now - e.ctx.builtAt < MAX_CONTEXT_AGE_MS) return e.ctx;
  if (!e.building) {
    const generation = e.generation;
    e.building = build(db, now).then(
      (ctx) => {
        // An invalidate() during the build means the data changed under it: use it once, keep nothing.
        if (e.generation === generation) e.ctx = ctx;
        e.building = undefined;
        return ctx;
      },
      (err) => {
        e.building = undefined;
        throw err;
      },
    );
  }
  return e.building;
}

/** The cached context if one is ready, without building; used to adjust loads incrementally. */
export function cachedContext(db: DataSource): AllocationContext | undefined {
  return entries.get(db)?.ctx;
}

/** Drops the cached index and rule set: call after imports, manager changes and rule activation. */
export function invalidate(db: DataSource): void {
  const e = entryFor(db);
  e.generation++;
  e.ctx = undefined;
  e.building = undefined;
}
