import type { DataSource, EntityManager } from 'typeorm';
import { ContactTag, Touch } from '../db/entities';
import { bankDay } from '../playbook/days';

/**
 * SQL of the sidebar. Every query is keyed by an indexed column (PKs, uq_follows_pair,
 * idx_touches_contact, idx_allocations_external/customer); the card never queries per row.
 */

export interface ManagerRow {
  userid: string;
  name: string;
  role: 'manager' | 'branch_lead' | 'operator';
  status: string;
  branch_code: string | null;
  branch_name: string | null;
}

/** One row per active follow of the contact (at least one row when the contact exists). */
export interface ContactRow {
  external_userid: string;
  contact_name: string;
  gender: number;
  customer_id: string | null;
  masked_name: string | null;
  segment: string | null;
  owner_userid: string | null;
  bank_tags: string | null;
  owner_name: string | null;
  owner_branch: string | null;
  owner_branch_name: string | null;
  follow_userid: string | null;
  follow_name: string | null;
  follow_added_at: number | string | null;
  follow_branch: string | null;
  follow_branch_name: string | null;
  /** Touches of this contact so far (the stage is this + 1, capped). */
  touch_count: number | string;
  /** Comma-separated ids of the templates already used with this contact. */
  used_templates: string | null;
  /** Comma-separated corp tag ids on this row's follow (contact_tags). */
  follow_tags: string | null;
}

/** A live corp tag of the library (the `tags` mirror of get_corp_tag_list). */
export interface TagRow {
  id: string;
  group_id: string;
  group_name: string;
  name: string;
}

export interface TouchRow {
  id: number;
  template_id: number | null;
  userid: string;
  sent_at: number | string;
  channel: string;
  stage: number;
  confirmed_at: number | string | null;
  title: string | null;
}

export interface AllocationRow {
  reason: string;
  explanation: string | null;
  rule_version: string | null;
}

export interface LinkCandidate {
  id: string;
  phone_hash: string | null;
  owner_userid: string | null;
}

type Db = DataSource | EntityManager;

/**
 * Real sends count, clicks don't: a touch is a distinct bank-local day with a `send` (or a `chat`
 * message seen through WeCom, or a `copy` the manager confirmed as sent) since the manager last set
 * the stage by hand (a `manual` row whose `stage` says which touch comes next). Correlated on
 * `ec.external_userid`; uses idx_touches_contact.
 */
const MANUAL_AT = `(SELECT MAX(m.sent_at) FROM touches m WHERE m.external_userid = ec.external_userid AND m.channel = 'manual')`;
export const TOUCH_COUNT_SQL = `(COALESCE((SELECT m.stage - 1 FROM touches m
      WHERE m.external_userid = ec.external_userid AND m.channel = 'manual' ORDER BY m.sent_at DESC, m.id DESC LIMIT 1), 0)
   + (SELECT COUNT(DISTINCT t.sent_day) FROM touches t
      WHERE t.external_userid = ec.external_userid
        AND (t.channel IN ('send', 'chat') OR (t.channel = 'copy' AND t.confirmed_at IS NOT NULL))
        AND t.sent_at > COALESCE(${MANUAL_AT}, -1)))`;

export class SidebarRepo {
  constructor(private readonly db: DataSource) {}

  async manager(userid: string): Promise<ManagerRow | null> {
    const rows: ManagerRow[] = await this.db.query(
      `SELECT m.userid, m.name, m.role, m.status, m.branch_code, b.name AS branch_name
         FROM managers m LEFT JOIN branches b ON b.code = m.branch_code
        WHERE m.userid = ?`,
      [userid],
    );
    return rows[0] ?? null;
  }

  /**
   * Contact + bank customer + owner + every active follow with the follower's branch and tags, and
   * the touch count and used templates (idx_touches_contact), in one query: after it the stage is
   * known, so the rest of the card can be read in parallel.
   */
  async contact(externalUserid: string): Promise<ContactRow[]> {
    return this.db.query(
      `SELECT ec.external_userid, ec.name AS contact_name, ec.gender, ec.customer_id,
              c.masked_name, c.segment, c.owner_userid, c.bank_tags,
              om.name AS owner_name, om.branch_code AS owner_branch, ob.name AS owner_branch_name,
              f.userid AS follow_userid, fm.name AS follow_name, f.added_at AS follow_added_at,
              fm.branch_code AS follow_branch, fb.name AS follow_branch_name,
              ${TOUCH_COUNT_SQL} AS touch_count,
              (SELECT GROUP_CONCAT(DISTINCT t.template_id) FROM touches t
                WHERE t.external_userid = ec.external_userid) AS used_templates,
              (SELECT GROUP_CONCAT(ct.tag_id) FROM contact_tags ct
                WHERE ct.external_userid = ec.external_userid AND ct.userid = f.userid) AS follow_tags
         FROM external_contacts ec
         LEFT JOIN customers c ON c.id = ec.customer_id
         LEFT JOIN managers om ON om.userid = c.owner_userid
         LEFT JOIN branches ob ON ob.code = om.branch_code
         LEFT JOIN follows f ON f.external_userid = ec.external_userid AND f.deleted_at IS NULL
         LEFT JOIN managers fm ON fm.userid = f.userid
         LEFT JOIN branches fb ON fb.code = fm.branch_code
        WHERE ec.external_userid = ?`,
      [externalUserid],
    );
  }

  /**
   * The live corp tag library in WeCom's display order (small: read through TagCatalog). WeCom's
   * `order` puts the LARGER value first, for groups and for tags within a group (get_corp_tag_list:
   * "order值大的排序靠前"); ties keep the id order.
   */
  async tagLibrary(): Promise<TagRow[]> {
    return this.db.query(
      `SELECT id, group_id, group_name, name FROM tags WHERE deleted = 0
        ORDER BY group_order DESC, group_id, sort_order DESC, id`,
    );
  }

  async followTagIds(externalUserid: string, userid: string, db: Db = this.db): Promise<string[]> {
    const rows: { tag_id: string }[] = await db.query(
      'SELECT tag_id FROM contact_tags WHERE external_userid = ? AND userid = ?',
      [externalUserid, userid],
    );
    return rows.map((r) => r.tag_id);
  }

  async liveTagIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM tags WHERE deleted = 0 AND id IN (${ids.map(() => '?').join(',')})`,
      ids,
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Latest touches with the template title. */
  async touches(externalUserid: string, limit: number): Promise<TouchRow[]> {
    return this.db.query(
      `SELECT t.id, t.template_id, t.userid, t.sent_at, t.channel, t.stage, t.confirmed_at, st.title
         FROM touches t LEFT JOIN script_templates st ON st.id = t.template_id
        WHERE t.external_userid = ?
        ORDER BY t.sent_at DESC, t.id DESC
        LIMIT ${Math.max(1, Math.floor(limit))}`,
      [externalUserid],
    );
  }

  /** Touches that count for the stage (see TOUCH_COUNT_SQL). */
  async touchCount(externalUserid: string, db: Db = this.db): Promise<number> {
    const rows: { n: number | string | null }[] = await db.query(
      `SELECT ${TOUCH_COUNT_SQL} AS n FROM (SELECT ? AS external_userid) ec`,
      [externalUserid],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The touch this manager recorded under a request key (uq_touches_request), with its title. */
  async touchByRequest(userid: string, requestKey: string): Promise<(TouchRow & { external_userid: string }) | null> {
    const rows: (TouchRow & { external_userid: string })[] = await this.db.query(
      `SELECT t.id, t.template_id, t.userid, t.sent_at, t.channel, t.stage, t.confirmed_at, st.title, t.external_userid
         FROM touches t LEFT JOIN script_templates st ON st.id = t.template_id
        WHERE t.userid = ? AND t.request_key = ?`,
      [userid, requestKey],
    );
    return rows[0] ?? null;
  }

  async touch(id: number, db: Db = this.db): Promise<Touch | null> {
    return db.getRepository(Touch).findOne({ where: { id } });
  }

  async confirmTouch(db: EntityManager, id: number, at: number): Promise<void> {
    await db.update(Touch, { id }, { confirmedAt: at });
  }

  /** The allocation that explains who got this customer: confirmed first, then the latest. */
  async allocation(externalUserid: string, customerId: string | null): Promise<AllocationRow | null> {
    const rows: AllocationRow[] = await this.db.query(
      `SELECT reason, explanation, rule_version FROM allocations
        WHERE external_userid = ?${customerId ? ' OR customer_id = ?' : ''}
        ORDER BY CASE WHEN status = 'confirmed' THEN 0 ELSE 1 END, created_at DESC
        LIMIT 1`,
      customerId ? [externalUserid, customerId] : [externalUserid],
    );
    return rows[0] ?? null;
  }

  async managerNames(userids: string[]): Promise<Map<string, string>> {
    const rows: { userid: string; name: string }[] = await this.db.query(
      `SELECT userid, name FROM managers WHERE userid IN (${userids.map(() => '?').join(',')})`,
      userids,
    );
    return new Map(rows.map((r) => [r.userid, r.name]));
  }

  /** What a link attempt compares: the salted phone hash and the owner (PK lookup). */
  async customerForLink(id: string): Promise<LinkCandidate | null> {
    const rows: LinkCandidate[] = await this.db.query(
      'SELECT id, phone_hash, owner_userid FROM customers WHERE id = ?',
      [id],
    );
    return rows[0] ?? null;
  }

  /** Customers with this phone hash (idx_customers_phone); two are enough to know it is ambiguous. */
  async customersByPhoneHash(hash: string): Promise<LinkCandidate[]> {
    return this.db.query(
      'SELECT id, phone_hash, owner_userid FROM customers WHERE phone_hash = ? ORDER BY id LIMIT 2',
      [hash],
    );
  }

  async linkContact(externalUserid: string, customerId: string, now: number, db: Db = this.db): Promise<void> {
    await db.query(
      `UPDATE external_contacts SET customer_id = ?, matched_by = 'manual', updated_at = ? WHERE external_userid = ?`,
      [customerId, now, externalUserid],
    );
  }

  async applyTags(
    db: EntityManager,
    externalUserid: string,
    userid: string,
    add: string[],
    remove: string[],
    now: number,
  ): Promise<void> {
    if (remove.length) {
      await db.query(
        `DELETE FROM contact_tags WHERE external_userid = ? AND userid = ? AND tag_id IN (${remove.map(() => '?').join(',')})`,
        [externalUserid, userid, ...remove],
      );
    }
    if (add.length) {
      await db
        .createQueryBuilder()
        .insert()
        .into(ContactTag)
        .values(add.map((tagId) => ({ externalUserid, userid, tagId, createdAt: now })))
        .orIgnore()
        .updateEntity(false)
        .execute();
    }
  }

  async insertTouch(
    db: EntityManager,
    row: {
      externalUserid: string;
      userid: string;
      templateId: number | null;
      templateVersion: number | null;
      stage: number;
      channel: string;
      sentAt: number;
      requestKey?: string | null;
    },
  ): Promise<number> {
    const res = await db.getRepository(Touch).insert({ ...row, sentDay: bankDay(row.sentAt) });
    return Number(res.identifiers[0]?.id);
  }
}
