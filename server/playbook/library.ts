import type { DataSource, EntityManager } from 'typeorm';
import { audit } from '../audit/audit';
import type { ScriptTemplate, TemplateStatus } from '../db/entities';
import { AppError, notFound } from '../errors';
import { normaliseAttachments } from './attachments';
import { checkTemplate, type Finding, type TemplateInput } from './compliance/check';
import { WordMatcher } from './compliance/matcher';
import { DEFAULT_SENSITIVE_WORDS, type SensitiveWordDef } from './compliance/words';
import { bumpLibraryGeneration } from './generation';
import { LibraryRepo, type TemplateFilter } from './repo';
import { sendText, splitSegments } from './table-provider';
import type { TemplateAttachment, TemplateCustomer, TemplateManager } from './types';
import { fillVariables, variableProblems } from './variables';

/**
 * The script library's workflow: draft → review → approved → retired, review → rejected (with the
 * reason). Every write checks the script (sensitive words, variables, disclaimer) and writes an
 * audit row in the same transaction. Editing an approved script inserts the next version in review;
 * the approved one keeps serving until that version is approved, then it is retired (supersededBy).
 */

export interface LibraryOptions {
  /** Personal scripts wait for a reviewer (PERSONAL_TEMPLATES_REVIEW). */
  personalReview: boolean;
}

/** Refused because of findings: 422 with every finding in details. */
export const complianceError = (findings: Finding[]) =>
  new AppError('template_noncompliant', 422, findings.map((f) => f.message).join('；'), { findings });

const conflict = (code: string, message: string) => new AppError(code, 409, message);

/** What goes out: variables filled, the disclaimer appended. Sent or copied exactly as it is. */
export interface PreparedSend {
  templateId: number;
  version: number;
  text: string;
  content: string;
  disclaimer: string | null;
  attachments: TemplateAttachment[];
}

export { sendText };

const WORDS_TTL_MS = 10_000;

export class LibraryService {
  readonly repo: LibraryRepo;
  private words: { at: number; matcher: Promise<WordMatcher> } | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number,
    private readonly opts: LibraryOptions,
  ) {
    this.repo = new LibraryRepo(db);
  }

  /** Every write goes through here: one transaction, then in-process caches forget the library. */
  private async write<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } finally {
      bumpLibraryGeneration(this.db);
    }
  }

  /** The default list plus the operators' words, re-read at most every 10 s. */
  matcher(): Promise<WordMatcher> {
    const at = Date.now();
    if (this.words && at - this.words.at < WORDS_TTL_MS) return this.words.matcher;
    const matcher = this.repo.words().then((rows) => {
      const defs: SensitiveWordDef[] = [...DEFAULT_SENSITIVE_WORDS];
      for (const r of rows) defs.push({ word: r.word, note: r.note || '银行营销规定禁止的用语' });
      return new WordMatcher(defs);
    });
    matcher.catch(() => {
      this.words = null;
    });
    this.words = { at, matcher };
    return matcher;
  }

  invalidateWords(): void {
    this.words = null;
  }

  async check(input: TemplateInput): Promise<Finding[]> {
    return checkTemplate(input, await this.matcher());
  }

  private async assertCompliant(input: TemplateInput): Promise<void> {
    const findings = await this.check(input);
    if (findings.length) throw complianceError(findings);
  }

  async get(id: number): Promise<ScriptTemplate> {
    const t = await this.repo.get(id);
    if (!t) throw notFound('template_not_found', `no script with id ${id}`);
    return t;
  }

  list(f: TemplateFilter): Promise<ScriptTemplate[]> {
    return this.repo.list(f);
  }

  /**
   * A new script. Bank library scripts start as draft (or in review with `submit`, as imports do);
   * personal ones go to review, or straight to approved when the bank does not review them.
   */
  async create(
    input: TemplateInput,
    by: { actor: string; owner?: string | null; submit?: boolean },
    tx?: EntityManager,
  ): Promise<ScriptTemplate> {
    await this.assertCompliant(input);
    const now = this.now();
    const personal = !!by.owner;
    const autoApprove = personal && !this.opts.personalReview;
    const status: TemplateStatus = autoApprove ? 'approved' : personal || by.submit ? 'review' : 'draft';
    const run = async (m: EntityManager) => {
      const row = await this.repo.insert(m, {
        ...toColumns(input),
        ownerUserid: by.owner ?? null,
        status,
        version: 1,
        createdBy: by.actor,
        submittedAt: status === 'draft' ? null : now,
        reviewer: autoApprove ? 'auto' : null,
        reviewedAt: autoApprove ? now : null,
        expiresAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await audit(m, {
        actor: by.actor,
        action: 'template.create',
        subject: `template:${row.id}`,
        detail: { status, owner: row.ownerUserid, version: 1 },
      });
      return row;
    };
    return tx ? run(tx) : this.write(run);
  }

  /**
   * An edit. A draft, rejected or in-review version is changed in place (a rejected one goes back to
   * draft, personal ones back to review); an approved one gets a new version in review (or, for a
   * pending newer version already in the lineage, that version is changed instead).
   */
  async update(id: number, input: TemplateInput, by: { actor: string; owner?: string }): Promise<ScriptTemplate> {
    await this.assertCompliant(input);
    return this.write(async (tx) => {
      const cur = await this.repo.get(id, tx);
      if (!cur || (by.owner !== undefined && cur.ownerUserid !== by.owner)) {
        throw notFound('template_not_found', `no script with id ${id}`);
      }
      if (cur.status === 'retired') throw conflict('template_retired', 'a retired script cannot be edited');
      const now = this.now();
      const personal = !!cur.ownerUserid;
      const autoApprove = personal && !this.opts.personalReview;
      const lineageId = cur.lineageId ?? cur.id;
      const versions = await this.repo.lineage(lineageId, tx);
      const pending = versions.find((v) => v.id !== cur.id && (v.status === 'draft' || v.status === 'review'));
      const target = cur.status === 'approved' ? pending : cur;
      if (target) {
        const status: TemplateStatus = autoApprove
          ? 'approved'
          : target.status === 'rejected'
            ? personal
              ? 'review'
              : 'draft'
            : target.status;
        await this.repo.update(tx, target.id, {
          ...toColumns(input),
          status,
          reviewComment: target.status === 'rejected' ? null : target.reviewComment,
          submittedAt: status === 'review' ? now : target.submittedAt,
          updatedAt: now,
        });
        await audit(tx, {
          actor: by.actor,
          action: 'template.edit',
          subject: `template:${target.id}`,
          detail: { status, version: target.version },
        });
        if (autoApprove && target.id !== cur.id) await this.supersede(tx, target.id, lineageId, by.actor);
        return (await this.repo.get(target.id, tx)) as ScriptTemplate;
      }
      const version = Math.max(...versions.map((v) => v.version), cur.version) + 1;
      const row = await this.repo.insert(tx, {
        ...toColumns(input),
        ownerUserid: cur.ownerUserid,
        status: autoApprove ? 'approved' : 'review',
        lineageId,
        version,
        createdBy: by.actor,
        submittedAt: now,
        reviewer: autoApprove ? 'auto' : null,
        reviewedAt: autoApprove ? now : null,
        expiresAt: autoApprove ? cur.expiresAt : null,
        createdAt: now,
        updatedAt: now,
      });
      await audit(tx, {
        actor: by.actor,
        action: 'template.version',
        subject: `template:${row.id}`,
        detail: { lineageId, version, from: cur.id, status: row.status },
      });
      if (autoApprove) await this.supersede(tx, row.id, lineageId, by.actor);
      return row;
    });
  }

  async submit(id: number, actor: string): Promise<ScriptTemplate> {
    return this.transition(id, actor, ['draft', 'rejected'], 'template.submit', () => ({
      status: 'review',
      submittedAt: this.now(),
      reviewComment: null,
    }));
  }

  /** Approves versions in review; the lineage's previously approved version is retired (superseded). */
  async approve(
    ids: number[],
    by: { reviewer: string; expiresAt: number; comment?: string | null },
  ): Promise<ScriptTemplate[]> {
    if (!(by.expiresAt > this.now())) {
      throw new AppError('bad_request', 400, 'the approval expiry must be in the future');
    }
    return this.write(async (tx) => {
      const out: ScriptTemplate[] = [];
      for (const id of ids) {
        const cur = await this.repo.get(id, tx);
        if (!cur) throw notFound('template_not_found', `no script with id ${id}`);
        if (cur.status !== 'review') {
          throw conflict('template_not_in_review', `script ${id} is ${cur.status}, not in review`);
        }
        // Rules may have changed since it was submitted (new words): check again at approval.
        const findings = await this.check(fromRow(cur));
        if (findings.length) throw complianceError(findings);
        const now = this.now();
        await this.repo.update(tx, id, {
          status: 'approved',
          reviewer: by.reviewer,
          reviewedAt: now,
          reviewComment: by.comment ?? null,
          expiresAt: by.expiresAt,
          updatedAt: now,
        });
        await audit(tx, {
          actor: by.reviewer,
          action: 'template.approve',
          subject: `template:${id}`,
          detail: { version: cur.version, expiresAt: by.expiresAt, comment: by.comment ?? null },
        });
        await this.supersede(tx, id, cur.lineageId ?? cur.id, by.reviewer);
        out.push((await this.repo.get(id, tx)) as ScriptTemplate);
      }
      return out;
    });
  }

  async reject(id: number, by: { reviewer: string; reason: string }): Promise<ScriptTemplate> {
    if (!by.reason.trim()) throw new AppError('bad_request', 400, 'a rejection needs a reason');
    return this.transition(id, by.reviewer, ['review'], 'template.reject', () => ({
      status: 'rejected',
      reviewer: by.reviewer,
      reviewedAt: this.now(),
      reviewComment: by.reason.trim(),
    }));
  }

  async retire(id: number, actor: string, opts: { owner?: string; reason?: string } = {}): Promise<ScriptTemplate> {
    return this.transition(
      id,
      actor,
      ['draft', 'review', 'approved', 'rejected'],
      'template.retire',
      () => ({ status: 'retired', retiredAt: this.now(), ...(opts.reason ? { reviewComment: opts.reason } : {}) }),
      opts.owner,
    );
  }

  private async transition(
    id: number,
    actor: string,
    from: TemplateStatus[],
    action: string,
    patch: () => Partial<ScriptTemplate>,
    owner?: string,
  ): Promise<ScriptTemplate> {
    return this.write(async (tx) => {
      const cur = await this.repo.get(id, tx);
      if (!cur || (owner !== undefined && cur.ownerUserid !== owner)) {
        throw notFound('template_not_found', `no script with id ${id}`);
      }
      if (!from.includes(cur.status)) {
        throw conflict(`template_${cur.status}`, `script ${id} is ${cur.status}; ${action} needs ${from.join('/')}`);
      }
      const p = patch();
      await this.repo.update(tx, id, { ...p, updatedAt: this.now() });
      await audit(tx, {
        actor,
        action,
        subject: `template:${id}`,
        detail: { from: cur.status, to: p.status, version: cur.version, reason: p.reviewComment ?? null },
      });
      return (await this.repo.get(id, tx)) as ScriptTemplate;
    });
  }

  /** Retires every other approved version of the lineage: `id` now serves. */
  private async supersede(tx: EntityManager, id: number, lineageId: number, actor: string): Promise<void> {
    const now = this.now();
    for (const v of await this.repo.lineage(lineageId, tx)) {
      if (v.id === id || v.status !== 'approved') continue;
      await this.repo.update(tx, v.id, { status: 'retired', supersededBy: id, retiredAt: now, updatedAt: now });
      await audit(tx, {
        actor,
        action: 'template.supersede',
        subject: `template:${v.id}`,
        detail: { supersededBy: id, version: v.version },
      });
    }
  }

  /**
   * The script as it may reach this customer now, or a refusal: `template_retired` (retired or
   * superseded since the card loaded), `template_expired`, `template_not_found` (not approved, not
   * the viewer's, or another channel).
   */
  async usable(id: number, managerUserid: string, channel: 'chat' | 'welcome' = 'chat'): Promise<ScriptTemplate> {
    const t = await this.repo.get(id);
    if (!t || (t.ownerUserid !== null && t.ownerUserid !== managerUserid) || t.channel !== channel) {
      throw notFound('template_not_found', 'no usable script with this id');
    }
    if (t.status === 'retired') throw conflict('template_retired', 'this script has been retired');
    if (t.status !== 'approved') throw notFound('template_not_found', 'this script is not approved');
    if (t.expiresAt !== null && t.expiresAt <= this.now()) {
      throw conflict('template_expired', 'the approval of this script has expired');
    }
    if (variableProblems(t.content).length) throw conflict('template_invalid', 'this script has unknown variables');
    return t;
  }

  /** The exact text to send or copy: variables filled, the disclaimer appended. */
  async prepare(id: number, customer: TemplateCustomer | null, manager: TemplateManager): Promise<PreparedSend> {
    const t = await this.usable(id, manager.userid);
    return prepared(t, customer, manager);
  }
}

export function prepared(t: ScriptTemplate, customer: TemplateCustomer | null, manager: TemplateManager): PreparedSend {
  const content = fillVariables(t.content, customer, manager, t.product);
  const disclaimer = t.disclaimer?.trim() || null;
  return {
    templateId: t.id,
    version: t.version,
    text: sendText(content, disclaimer),
    content,
    disclaimer,
    attachments: normaliseAttachments(t.attachments),
  };
}

/** Author input → columns (body is stored as content; lists as comma-separated text). */
export function toColumns(input: TemplateInput): Partial<ScriptTemplate> {
  return {
    title: input.title.trim(),
    content: input.body.trim(),
    category: input.category?.trim() || null,
    stage: input.stage ?? null,
    segments: (input.segments ?? [])
      .map((s) => s.trim())
      .filter(Boolean)
      .join(','),
    bankTags: (input.bankTags ?? [])
      .map((s) => s.trim())
      .filter(Boolean)
      .join(','),
    product: input.product?.trim() || null,
    riskClass: input.riskClass ?? 'none',
    channel: input.channel ?? 'chat',
    variantGroup: input.variantGroup?.trim() || null,
    variant: input.variant?.trim() || null,
    disclaimer: input.disclaimer?.trim() || null,
    attachments: input.attachments?.length ? normaliseAttachments(input.attachments) : null,
  };
}

/** A stored row as author input (for re-checks and export): every field present. */
export function fromRow(t: ScriptTemplate): Required<TemplateInput> {
  return {
    title: t.title,
    body: t.content,
    category: t.category,
    stage: t.stage,
    segments: splitSegments(t.segments),
    bankTags: splitSegments(t.bankTags),
    product: t.product,
    riskClass: t.riskClass,
    channel: t.channel,
    variantGroup: t.variantGroup,
    variant: t.variant,
    disclaimer: t.disclaimer,
    attachments: Array.isArray(t.attachments) ? (t.attachments as unknown[]) : null,
  };
}
