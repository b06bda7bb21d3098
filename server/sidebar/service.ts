import type { DataSource } from 'typeorm';
import { managersInSummary, withManagerNames } from '../allocation/explain';
import { audit } from '../audit/audit';
import { hashPhone, isPlausiblePhone } from '../customers/phone';
import { isUniqueViolation } from '../db/data-source';
import { AppError, badRequest, forbidden, notFound } from '../errors';
import { maskName } from '../imports/mask';
import type { TemplateCustomer, TemplateManager, TemplateProvider } from '../playbook';
import { LibraryService, prepared } from '../playbook/library';
import { stageAfter } from '../playbook/stages';
import type { WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';
import {
  ambiguous,
  invalidPhone,
  type LinkMode,
  type LinkProof,
  matchCustomer,
  noMatch,
  ownedElsewhere,
  PHONE_INPUT,
  rateLimited,
} from './link';
import { LinkAttemptLimiter, type LinkLimitOptions } from './link-limits';
import { type ContactRow, type ManagerRow, SidebarRepo, type TagRow, type TouchRow } from './repo';
import type { Touch } from './schemas';
import { Workbench } from './workbench';

const CARD_TOUCHES = 10;

export interface Viewer {
  userid: string;
  name: string;
  role: 'manager' | 'branch_lead' | 'operator';
  branchCode: string | null;
  branchName: string | null;
}

export function viewerFrom(row: ManagerRow): Viewer {
  return {
    userid: row.userid,
    name: row.name,
    role: row.role,
    branchCode: row.branch_code,
    branchName: row.branch_name,
  };
}

export interface CorpTagGroupOut {
  groupId: string;
  groupName: string;
  tags: { id: string; name: string; selected: boolean }[];
}

export type TouchOut = Touch;

/** A contact the viewer may act on, with the follow through which WeCom calls are made. */
interface AccessibleContact {
  rows: ContactRow[];
  head: ContactRow;
  /** The follow whose tags are shown/edited: the viewer's own, else the owner's, else the first. */
  tagUserid: string | null;
  /** Tag ids on that follow. */
  tagIds: string[];
}

const iso = (ms: number | string | null) =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();

function parseList(json: string | null): string[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function groupTags(library: TagRow[], selected: ReadonlySet<string>): CorpTagGroupOut[] {
  const groups = new Map<string, CorpTagGroupOut>();
  for (const r of library) {
    let g = groups.get(r.group_id);
    if (!g) {
      g = { groupId: r.group_id, groupName: r.group_name, tags: [] };
      groups.set(r.group_id, g);
    }
    g.tags.push({ id: r.id, name: r.name, selected: selected.has(r.id) });
  }
  return [...groups.values()];
}

const splitIds = (csv: string | null) => (csv ? csv.split(',').filter(Boolean) : []);

/**
 * The corp tag library changes only through tag sync / change_external_tag, so each process keeps it
 * for a short while instead of reading it with every card. A tag deleted meanwhile is still refused
 * on write (liveTagIds reads the table).
 */
export class TagCatalog {
  private cached: { rows: TagRow[]; until: number } | null = null;
  private loading: Promise<TagRow[]> | null = null;

  constructor(
    private readonly load: () => Promise<TagRow[]>,
    private readonly now: () => number,
    private readonly ttlMs = 60_000,
  ) {}

  async get(): Promise<TagRow[]> {
    if (this.cached && this.cached.until > this.now()) return this.cached.rows;
    this.loading ??= this.load()
      .then((rows) => {
        this.cached = { rows, until: this.now() + this.ttlMs };
        return rows;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}

function touchOut(r: TouchRow): TouchOut {
  return {
    id: Number(r.id),
    templateId: r.template_id === null ? null : Number(r.template_id),
    title: r.title,
    userid: r.userid,
    sentAt: iso(r.sent_at) as string,
    // send/copy through TouchBody, manual through the stage route, chat from WeCom.
    channel: r.channel as Touch['channel'],
    stage: Number(r.stage),
    confirmed: r.confirmed_at !== null && r.confirmed_at !== undefined,
  };
}

/** Errors of the WeCom client carry `errcode` and `kind`; the browser gets the code, never the token. */
export function wecomFailure(api: string, err: unknown): AppError {
  const { kind, errcode } = wecomErrorInfo(err);
  const detail = errcode !== null ? `errcode ${errcode}` : kind === 'unknown' ? 'request failed' : kind;
  return new AppError('wecom_error', 502, `WeCom ${api} failed: ${detail}`);
}

export interface SidebarLinkOptions {
  /** PHONE_HASH_SALT: the salt the imports hashed phone numbers with. */
  phoneSalt: string;
  limits: LinkLimitOptions;
}

export class SidebarService {
  readonly repo: SidebarRepo;
  readonly workbench: Workbench;
  private readonly tags: TagCatalog;
  private readonly linkLimits: LinkAttemptLimiter;

  constructor(
    private readonly db: DataSource,
    private readonly templates: TemplateProvider,
    private readonly wecom: () => WecomApi,
    private readonly now: () => number,
    private readonly linkOpts: SidebarLinkOptions,
    private readonly segmentTags: { group: string; names: Record<string, string> } = {
      group: '客户分层',
      names: { 代发: '代发客户', 高潜: '高潜客户', 流降: '流失预警' },
    },
    private readonly library: LibraryService = new LibraryService(db, now, { personalReview: true }),
  ) {
    this.repo = new SidebarRepo(db);
    this.workbench = new Workbench(db, now);
    this.tags = new TagCatalog(() => this.repo.tagLibrary(), now);
    this.linkLimits = new LinkAttemptLimiter(db, linkOpts.limits);
  }

  /**
   * Authorization of a customer card: a manager sees contacts they follow (active follow) or own;
   * a branch lead sees contacts whose owner or any active follower is in their branch; operators
   * see no cards. Unknown contact → 404 before any access decision, so nothing about it leaks.
   */
  async access(viewer: Viewer, externalUserid: string): Promise<AccessibleContact> {
    if (viewer.role === 'operator') throw forbidden('forbidden_role', 'operators do not see customer cards');
    return this.decide(viewer, await this.repo.contact(externalUserid));
  }

  private decide(viewer: Viewer, rows: ContactRow[]): AccessibleContact {
    if (viewer.role === 'operator') throw forbidden('forbidden_role', 'operators do not see customer cards');
    const head = rows[0];
    if (!head) throw notFound('customer_not_found', 'this WeCom contact is not in our data');
    const follows = rows.filter((r) => r.follow_userid !== null);
    const own = head.owner_userid === viewer.userid || follows.some((f) => f.follow_userid === viewer.userid);
    const branch =
      viewer.role === 'branch_lead' &&
      viewer.branchCode !== null &&
      (head.owner_branch === viewer.branchCode || follows.some((f) => f.follow_branch === viewer.branchCode));
    if (!own && !branch) {
      // Who serves the customer, by name only: the viewer is a colleague who has this contact in a
      // chat (or a link) already; a name tells them whom to ask without showing any customer data.
      const names = [
        ...new Set([...follows.map((f) => f.follow_name), head.owner_name].filter((n): n is string => !!n)),
      ];
      throw new AppError('forbidden_customer', 403, 'this customer is not yours or your branch’s', {
        servedBy: names.slice(0, 3),
      });
    }
    const followers = follows.map((f) => f.follow_userid as string);
    const tagUserid = followers.includes(viewer.userid)
      ? viewer.userid
      : head.owner_userid && followers.includes(head.owner_userid)
        ? head.owner_userid
        : (followers[0] ?? null);
    const tagIds = splitIds(rows.find((r) => r.follow_userid === tagUserid)?.follow_tags ?? null);
    return { rows, head, tagUserid, tagIds };
  }

  templateCustomer(c: AccessibleContact): TemplateCustomer {
    return {
      externalUserId: c.head.external_userid,
      maskedName: c.head.masked_name || maskName(c.head.contact_name ?? ''),
      gender: Number(c.head.gender ?? 0),
      segment: c.head.segment,
      bankTags: parseList(c.head.bank_tags),
      usedTemplateIds: splitIds(c.head.used_templates)
        .map(Number)
        .filter((id) => id > 0),
    };
  }

  /** The viewer may still be loading: the contact is read at the same time (one round trip less). */
  async card(viewerLoading: Promise<Viewer>, externalUserid: string) {
    const [viewer, rows] = await Promise.all([viewerLoading, this.repo.contact(externalUserid)]);
    const c = this.decide(viewer, rows);
    const { head } = c;
    if (!head.customer_id) throw notFound('customer_not_found', 'this WeCom contact is not linked to a bank customer');
    const touchCount = Number(head.touch_count ?? 0);
    const stage = stageAfter(touchCount);
    const customerCtx = this.templateCustomer(c);
    const [library, touchRows, allocation, templates, bench] = await Promise.all([
      this.tags.get(),
      this.repo.touches(externalUserid, CARD_TOUCHES),
      this.repo.allocation(externalUserid, head.customer_id),
      this.templates.suggest({ customer: customerCtx, manager: managerCtx(viewer), stage }),
      this.workbench.cardPart(externalUserid, head.customer_id),
    ]);

    const myFollow = c.rows.find((r) => r.follow_userid === viewer.userid) ?? c.rows.find((r) => r.follow_userid);
    const followBranch = myFollow?.follow_branch_name ?? null;
    let alloc: { reason: string; summaryZh: string; ruleVersion: string | null } | null = null;
    if (allocation) {
      let summaryZh = '';
      try {
        const ex = JSON.parse(allocation.explanation ?? 'null') as { summaryZh?: unknown } | null;
        if (typeof ex?.summaryZh === 'string') {
          const ids = managersInSummary(ex.summaryZh);
          summaryZh = withManagerNames(ex.summaryZh, ids.length ? await this.repo.managerNames(ids) : new Map());
        }
      } catch {
        /* an unreadable explanation still shows the reason */
      }
      alloc = { reason: allocation.reason, summaryZh, ruleVersion: allocation.rule_version };
    }

    return {
      customer: {
        externalUserId: head.external_userid,
        name: customerCtx.maskedName,
        segment: head.segment,
        bankCustomerId: head.customer_id,
        owner: head.owner_userid
          ? {
              userid: head.owner_userid,
              name: head.owner_name ?? head.owner_userid,
              branchCode: head.owner_branch ?? '',
              branchName: head.owner_branch_name,
            }
          : null,
        branchName: head.owner_branch_name ?? followBranch,
        corpTags: groupTags(library, new Set(c.tagIds)),
        segmentBadge: this.segmentBadge(library, new Set(c.tagIds), head.segment),
        bankTags: customerCtx.bankTags,
        stage,
        touchCount,
        touches: touchRows.map(touchOut),
        allocation: alloc,
        followedSince: iso(myFollow?.follow_added_at ?? null),
        servingManager: myFollow?.follow_userid
          ? { userid: myFollow.follow_userid, name: myFollow.follow_name ?? '客户经理' }
          : null,
        ...bench,
      },
      templates,
    };
  }

  /**
   * The segment badge follows the segment tag a manager sees in WeCom: when the library has the
   * segment group (SEGMENT_TAG_GROUP), the badge is the segment of the selected tag there, and no
   * badge when none is selected (removing 高潜客户 removes the 高潜 badge at once; adding it shows
   * it). Without that group in the library, the badge is the bank's segment. Script ranking keeps
   * using the bank's segment from the last import either way.
   */
  segmentBadge(library: TagRow[], selected: ReadonlySet<string>, bankSegment: string | null): string | null {
    const group = library.filter((t) => t.group_name === this.segmentTags.group);
    if (group.length === 0) return bankSegment;
    const bySegmentTag = new Map(Object.entries(this.segmentTags.names).map(([seg, tag]) => [tag, seg]));
    const chosen = group.filter((t) => selected.has(t.id)).map((t) => bySegmentTag.get(t.name) ?? t.name);
    if (chosen.length === 0) return null;
    return bankSegment && chosen.includes(bankSegment) ? bankSegment : chosen[0];
  }

  async updateTags(viewer: Viewer, externalUserid: string, add: string[], remove: string[]) {
    const addSet = [...new Set(add)];
    const removeSet = [...new Set(remove)].filter((id) => !addSet.includes(id));
    if (addSet.length + removeSet.length === 0) throw badRequest('nothing to add or remove');
    const c = await this.access(viewer, externalUserid);
    if (!c.tagUserid) throw forbidden('forbidden_customer', 'no active follow to tag this customer through');
    const live = await this.repo.liveTagIds([...addSet, ...removeSet]);
    const unknown = [...addSet, ...removeSet].filter((id) => !live.has(id));
    if (unknown.length) throw new AppError('unknown_tag', 400, `unknown or deleted tag ids: ${unknown.join(',')}`);

    try {
      await this.wecom().markTag({
        userid: c.tagUserid,
        external_userid: externalUserid,
        add_tag: addSet,
        remove_tag: removeSet,
      });
    } catch (err) {
      throw wecomFailure('mark_tag', err);
    }
    const tagUserid = c.tagUserid;
    const selected = await this.db.transaction(async (tx) => {
      await this.repo.applyTags(tx, externalUserid, tagUserid, addSet, removeSet, this.now());
      await audit(tx, {
        actor: viewer.userid,
        action: 'sidebar.tags',
        subject: externalUserid,
        detail: { userid: tagUserid, add: addSet, remove: removeSet },
      });
      return this.repo.followTagIds(externalUserid, tagUserid, tx);
    });
    const library = await this.tags.get();
    return {
      corpTags: groupTags(library, new Set(selected)),
      segmentBadge: this.segmentBadge(library, new Set(selected), c.head.segment),
    };
  }

  /**
   * Links the contact to the bank customer the manager proves with the customer's phone number (and
   * optionally the customer number). Every attempt writes an audit row (never the phone); failed
   * ones count against the manager's limit. A customer owned by someone else may be linked only to
   * a contact that owner follows. See ./link.ts for the answers.
   */
  async link(viewer: Viewer, externalUserid: string, proof: LinkProof) {
    const enteredId = proof.bankCustomerId?.trim() || null;
    const by: LinkMode = enteredId === null ? 'phone' : 'customer_id_and_phone';
    const refused = async (reason: string, err: AppError, customerId?: string) => {
      await audit(this.db, {
        actor: viewer.userid,
        action: 'sidebar.link_refused',
        subject: externalUserid,
        detail: { reason, by, enteredCustomerId: enteredId, ...(customerId ? { customerId } : {}) },
      });
      return err;
    };

    let c: AccessibleContact;
    try {
      c = await this.access(viewer, externalUserid);
    } catch (err) {
      throw err instanceof AppError ? await refused(err.code, err) : err;
    }
    if (!PHONE_INPUT.test(proof.phone) || !isPlausiblePhone(proof.phone)) {
      throw await refused('invalid_phone', invalidPhone());
    }
    const slot = await this.linkLimits.reserve(viewer.userid, this.now());
    if (!slot.ok) throw await refused('rate_limited', rateLimited(slot.retryAfterMs));

    const match = await matchCustomer(this.repo, enteredId, hashPhone(proof.phone, this.linkOpts.phoneSalt));
    if (match.kind === 'none') throw await refused('no_match', noMatch());
    if (match.kind === 'ambiguous') throw await refused('ambiguous', ambiguous());
    // The phone matched: whatever follows is not a guess, so it does not count against the limit.
    await this.linkLimits.release(viewer.userid);
    const { customer } = match;
    const owner = customer.owner_userid;
    if (owner && owner !== viewer.userid && !c.rows.some((r) => r.follow_userid === owner)) {
      throw await refused('owned_elsewhere', ownedElsewhere(), customer.id);
    }
    await this.db.transaction(async (tx) => {
      await this.repo.linkContact(externalUserid, customer.id, this.now(), tx);
      await audit(tx, {
        actor: viewer.userid,
        action: 'sidebar.link',
        subject: externalUserid,
        detail: { customerId: customer.id, previous: c.head.customer_id, by },
      });
    });
    return { externalUserId: externalUserid, bankCustomerId: customer.id };
  }

  async searchTemplates(
    viewer: Viewer,
    q: string | undefined,
    stage: number | undefined,
    externalUserid?: string,
    filters: { category?: string; onlyStage?: number } = {},
  ) {
    let customer: TemplateCustomer | null = null;
    let effectiveStage = stage;
    if (externalUserid) {
      const c = await this.access(viewer, externalUserid);
      customer = this.templateCustomer(c);
      effectiveStage ??= stageAfter(Number(c.head.touch_count ?? 0));
    }
    const list = await this.templates.suggest({
      customer,
      manager: managerCtx(viewer),
      stage: effectiveStage ?? 1,
      q,
      ...filters,
    });
    return { templates: list };
  }

  /**
   * The exact text to send or copy for this customer (variables filled, disclaimer appended), or
   * template_expired / template_retired when that changed since the card loaded.
   */
  async prepare(viewer: Viewer, templateId: number, externalUserid?: string) {
    let customer: TemplateCustomer | null = null;
    if (externalUserid) customer = this.templateCustomer(await this.access(viewer, externalUserid));
    const t = await this.library.usable(templateId, viewer.userid);
    return prepared(t, customer, managerCtx(viewer));
  }

  /**
   * Records a send or a copy. The script must still be usable (approved, unexpired, not retired):
   * a card loaded before it expired cannot send it. A copy is recorded but does not move the stage
   * until the manager confirms it was sent.
   */
  async recordTouch(
    viewer: Viewer,
    externalUserid: string,
    templateId: number,
    channel: 'send' | 'copy',
    requestId?: string,
  ) {
    await this.access(viewer, externalUserid);
    // A replayed request (same key) answers the touch it recorded the first time.
    const prior = requestId ? await this.priorTouch(viewer, externalUserid, requestId) : null;
    if (prior) return prior;
    const template = await this.library.usable(templateId, viewer.userid);
    const sentAt = this.now();
    let result: { id: number; stage: number; touchCount: number };
    try {
      result = await this.db.transaction(async (tx) => {
        const stage = stageAfter(await this.repo.touchCount(externalUserid, tx));
        const id = await this.repo.insertTouch(tx, {
          externalUserid,
          userid: viewer.userid,
          templateId,
          templateVersion: template.version,
          stage,
          channel,
          sentAt,
          requestKey: requestId ?? null,
        });
        return { id, stage, touchCount: await this.repo.touchCount(externalUserid, tx) };
      });
    } catch (err) {
      // The same key raced in on another request (or instance): that one recorded it.
      const raced =
        requestId && isUniqueViolation(err) ? await this.priorTouch(viewer, externalUserid, requestId) : null;
      if (raced) return raced;
      throw err;
    }
    return {
      touch: {
        id: result.id,
        templateId,
        title: template.title,
        userid: viewer.userid,
        sentAt: new Date(sentAt).toISOString(),
        channel,
        stage: result.stage,
        confirmed: false,
      },
      progress: { touchCount: result.touchCount, stage: stageAfter(result.touchCount) },
    };
  }

  private async priorTouch(viewer: Viewer, externalUserid: string, requestId: string) {
    const row = await this.repo.touchByRequest(viewer.userid, requestId);
    if (!row) return null;
    if (row.external_userid !== externalUserid) {
      throw new AppError('request_id_reused', 409, 'this requestId was used for another customer');
    }
    const touchCount = await this.repo.touchCount(externalUserid);
    return { touch: touchOut(row), progress: { touchCount, stage: stageAfter(touchCount) } };
  }

  /** 已发送: the manager pasted a copied script and sent it; now it counts as a touch. */
  async confirmTouch(viewer: Viewer, touchId: number) {
    const touch = await this.repo.touch(touchId);
    if (!touch || touch.userid !== viewer.userid) throw notFound('touch_not_found', 'no such touch of yours');
    if (touch.channel !== 'copy') throw new AppError('touch_not_copy', 409, 'only a copied script can be confirmed');
    await this.access(viewer, touch.externalUserid);
    const touchCount = await this.db.transaction(async (tx) => {
      if (touch.confirmedAt === null) {
        await this.repo.confirmTouch(tx, touchId, this.now());
        await audit(tx, {
          actor: viewer.userid,
          action: 'sidebar.touch_confirm',
          subject: touch.externalUserid,
          detail: { touchId, templateId: touch.templateId },
        });
      }
      return this.repo.touchCount(touch.externalUserid, tx);
    });
    return { progress: { touchCount, stage: stageAfter(touchCount) } };
  }

  /** The manager sets the stage by hand (the next touch is `stage`); recorded as a `manual` touch. */
  async setStage(viewer: Viewer, externalUserid: string, stage: number) {
    await this.access(viewer, externalUserid);
    const touchCount = await this.db.transaction(async (tx) => {
      await this.repo.insertTouch(tx, {
        externalUserid,
        userid: viewer.userid,
        templateId: null,
        templateVersion: null,
        stage,
        channel: 'manual',
        sentAt: this.now(),
      });
      await audit(tx, { actor: viewer.userid, action: 'sidebar.stage', subject: externalUserid, detail: { stage } });
      return this.repo.touchCount(externalUserid, tx);
    });
    return { progress: { touchCount, stage: stageAfter(touchCount) } };
  }
}

function managerCtx(v: Viewer): TemplateManager {
  return { userid: v.userid, name: v.name, branchName: v.branchName };
}
