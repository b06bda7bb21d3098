import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import { Branch, Manager, RuleSetRow } from '../db/entities';
import { AppError } from '../errors';
import { invalidate } from './cache';
import { DEFAULT_RULE_SET, parseRuleSet, type RuleSet } from './rule-set';

/**
 * Versioned rule-set documents in the database. Exactly one row is active; with none active the
 * engine's DEFAULT_RULE_SET applies, so a fresh install allocates without any setup.
 */

export interface RuleSetSummary {
  version: string;
  author: string;
  createdAt: number;
  active: boolean;
  activatedAt: number | null;
  description: string;
}

/**
 * Validates and stores a new version (not active yet). The author's document is stored as given
 * (pretty JSON), not with defaults filled in, so a later default change shows up on re-parse.
 * @throws RuleSetError with every problem and its path; AppError rule_set_exists for a reused version.
 */
export async function saveRuleSet(
  db: DataSource,
  body: unknown,
  author: string,
  now: number = Date.now(),
): Promise<RuleSet> {
  const ruleSet = parseRuleSet(body);
  const doc = typeof body === 'string' ? JSON.parse(body) : body;
  if (ruleSet.version.length > 64) throw new AppError('bad_rule_set', 400, 'version must be at most 64 characters');
  await db.transaction(async (tx) => {
    const existing = await tx.findOne(RuleSetRow, { where: { version: ruleSet.version } });
    if (existing) throw new AppError('rule_set_exists', 409, `rule set version ${ruleSet.version} already exists`);
    await tx.insert(RuleSetRow, {
      version: ruleSet.version,
      body: JSON.stringify(doc, null, 2),
      author,
      createdAt: now,
      active: false,
      activatedAt: null,
    });
    await audit(tx, { actor: author, action: 'ruleset.save', subject: `ruleset:${ruleSet.version}` });
  });
  return ruleSet;
}

/** Makes one version the active one, in one transaction so there is never zero or two active. */
export async function activateRuleSet(
  db: DataSource,
  version: string,
  actor: string,
  now: number = Date.now(),
): Promise<RuleSet> {
  const ruleSet = await db.transaction(async (tx) => {
    const row = await tx.findOne(RuleSetRow, { where: { version } });
    if (!row) throw new AppError('rule_set_not_found', 404, `no rule set version ${version}`);
    const parsed = parseRuleSet(row.body);
    const previous = await tx.findOne(RuleSetRow, { where: { active: true } });
    await tx.update(RuleSetRow, { active: true }, { active: false });
    await tx.update(RuleSetRow, { version }, { active: true, activatedAt: now });
    await audit(tx, {
      actor,
      action: 'ruleset.activate',
      subject: `ruleset:${version}`,
      detail: { previous: previous?.version ?? null },
    });
    return parsed;
  });
  invalidate(db);
  return ruleSet;
}

/** The active rule set, parsed; DEFAULT_RULE_SET when none was ever activated. */
export async function getActiveRuleSet(db: DataSource): Promise<RuleSet> {
  const row = await db.manager.findOne(RuleSetRow, { where: { active: true } });
  return row ? parseRuleSet(row.body) : DEFAULT_RULE_SET;
}

export async function getRuleSet(db: DataSource, version: string): Promise<RuleSet> {
  const row = await db.manager.findOne(RuleSetRow, { where: { version } });
  if (!row) throw new AppError('rule_set_not_found', 404, `no rule set version ${version}`);
  return parseRuleSet(row.body);
}

/** Newest first. */
export async function listRuleSets(db: DataSource): Promise<RuleSetSummary[]> {
  const rows = await db.manager.find(RuleSetRow, { order: { createdAt: 'DESC', version: 'DESC' } });
  return rows.map((r) => {
    let description = '';
    try {
      description = parseRuleSet(r.body).description;
    } catch {
      description = '(invalid under the current schema)';
    }
    return {
      version: r.version,
      author: r.author,
      createdAt: r.createdAt,
      active: r.active,
      activatedAt: r.activatedAt,
      description,
    };
  });
}

/**
 * Re-activates the version that was active before the current one (the inactive version with the
 * latest activation time). Returns it, or throws rule_set_not_found when there is nothing to go back to.
 */
export async function rollback(db: DataSource, actor: string, now: number = Date.now()): Promise<RuleSet> {
  const rows = await db.manager.find(RuleSetRow, { where: { active: false }, order: { activatedAt: 'DESC' } });
  const previous = rows.find((r) => r.activatedAt !== null);
  if (!previous) throw new AppError('rule_set_not_found', 404, 'no previously active rule set to roll back to');
  const ruleSet = await activateRuleSet(db, previous.version, actor, now);
  await audit(db, { actor, action: 'ruleset.rollback', subject: `ruleset:${previous.version}` });
  return ruleSet;
}

export async function findRuleSetRow(db: DataSource, version: string): Promise<RuleSetRow | null> {
  return db.manager.findOne(RuleSetRow, { where: { version } });
}

export interface RuleSetCheck {
  level: 'error' | 'warning';
  path: string;
  message: string;
}

/** Checks a parsed rule set against today's org: fallback managers, closed branches, skills. */
export async function checkRuleSetAgainstOrg(db: DataSource, rs: RuleSet): Promise<RuleSetCheck[]> {
  const [managers, branches] = await Promise.all([
    db.manager.find(Manager),
    db.manager.find(Branch, { select: { code: true } }),
  ]);
  const byId = new Map(managers.map((m) => [m.userid, m]));
  const branchCodes = new Set(branches.map((b) => String(b.code)));
  const out: RuleSetCheck[] = [];
  rs.fallback.userids.forEach((u, i) => {
    const m = byId.get(u);
    if (!m) out.push({ level: 'error', path: `fallback.userids[${i}]`, message: `manager "${u}" does not exist` });
    else if (m.status !== 'active') {
      out.push({ level: 'error', path: `fallback.userids[${i}]`, message: `manager "${u}" is ${m.status}` });
    }
  });
  rs.closedBranches.forEach((c, i) => {
    if (!branchCodes.has(c))
      out.push({ level: 'warning', path: `closedBranches[${i}]`, message: `branch "${c}" does not exist` });
  });
  rs.segmentRouting.forEach((r, i) => {
    if (r.requireSkill && !managers.some((m) => m.skills.split(',').includes(r.requireSkill!))) {
      out.push({
        level: 'warning',
        path: `segmentRouting[${i}].requireSkill`,
        message: `no manager has skill "${r.requireSkill}": segment ${r.segment} would never get a nearest-branch manager`,
      });
    }
  });
  return out;
}
