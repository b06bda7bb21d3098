import type { DataSource } from 'typeorm';

/**
 * SQL of 今日待办. Everything starts from the managers' active follows (idx_follows_user) and
 * reads per contact through indexed lookups (idx_touches_contact, idx_follow_notes_contact,
 * customers PK, idx_holdings_customer); a manager's list is one query plus two small ones.
 */

export interface FollowFacts {
  userid: string;
  external_userid: string;
  added_at: number | string;
  contact_name: string | null;
  masked_name: string | null;
  segment: string | null;
  birthday_md: string | null;
  last_touch: number | string | null;
  last_note: number | string | null;
  next_follow_up: string | null;
}

export interface MaturingFact {
  userid: string;
  external_userid: string;
  contact_name: string | null;
  masked_name: string | null;
  segment: string | null;
  product: string;
  amount_band: string;
  matures_on: string;
}

export interface SopTaskFact {
  userid: string;
  plan_id: string;
  plan_name: string;
  kind: 'group' | 'single' | 'moment';
  targets: number | string | null;
  since: number | string | null;
}

export interface DeletedFact {
  userid: string;
  external_userid: string;
  contact_name: string | null;
  masked_name: string | null;
  segment: string | null;
  deleted_at: number | string;
}

export interface ManagerFact {
  userid: string;
  name: string;
  role: string;
  branch_code: string | null;
}

const list = (n: number) => Array.from({ length: n }, () => '?').join(',');

export class TodoRepo {
  constructor(private readonly db: DataSource) {}

  async follows(userids: string[]): Promise<FollowFacts[]> {
    if (!userids.length) return [];
    return this.db.query(
      `SELECT f.userid, f.external_userid, f.added_at, ec.name AS contact_name, c.masked_name, c.segment,
              c.birthday_md,
              (SELECT MAX(t.sent_at) FROM touches t WHERE t.external_userid = f.external_userid) AS last_touch,
              (SELECT MAX(n.created_at) FROM follow_notes n WHERE n.external_userid = f.external_userid) AS last_note,
              (SELECT n.next_follow_up FROM follow_notes n WHERE n.external_userid = f.external_userid
                ORDER BY n.created_at DESC, n.id DESC LIMIT 1) AS next_follow_up
         FROM follows f
         LEFT JOIN external_contacts ec ON ec.external_userid = f.external_userid
         LEFT JOIN customers c ON c.id = ec.customer_id
        WHERE f.userid IN (${list(userids.length)}) AND f.deleted_at IS NULL
        ORDER BY f.userid, f.added_at, f.external_userid`,
      userids,
    );
  }

  async maturing(userids: string[], fromDay: string, toDay: string): Promise<MaturingFact[]> {
    if (!userids.length) return [];
    return this.db.query(
      `SELECT f.userid, f.external_userid, ec.name AS contact_name, c.masked_name, c.segment,
              h.product, h.amount_band, h.matures_on
         FROM follows f
         JOIN external_contacts ec ON ec.external_userid = f.external_userid
         JOIN customers c ON c.id = ec.customer_id
         JOIN customer_holdings h ON h.customer_id = c.id
        WHERE f.userid IN (${list(userids.length)}) AND f.deleted_at IS NULL
          AND h.matures_on >= ? AND h.matures_on <= ?
        ORDER BY h.matures_on, f.external_userid, h.product`,
      [...userids, fromDay, toDay],
    );
  }

  /**
   * Head-office SOP tasks these managers still have to confirm in WeCom: created there (open) and
   * not yet sent or published, one row per manager, plan and channel (chunks summed).
   */
  async openSopTasks(userids: string[]): Promise<SopTaskFact[]> {
    if (!userids.length) return [];
    return this.db.query(
      `SELECT t.sender_userid AS userid, t.plan_id, p.name AS plan_name, t.kind,
              SUM(t.targets) AS targets, MIN(t.dispatched_at) AS since
         FROM sop_tasks t JOIN sop_plans p ON p.id = t.plan_id
        WHERE t.sender_userid IN (${list(userids.length)}) AND t.status = 'open' AND t.sender_sent = 0
        GROUP BY t.sender_userid, t.plan_id, p.name, t.kind
        ORDER BY MIN(t.dispatched_at), t.plan_id, t.kind`,
      userids,
    );
  }

  /** Customers who deleted one of these managers in [from, to). */
  async deletedBetween(userids: string[], from: number, to: number): Promise<DeletedFact[]> {
    if (!userids.length) return [];
    return this.db.query(
      `SELECT f.userid, f.external_userid, ec.name AS contact_name, c.masked_name, c.segment, f.deleted_at
         FROM follows f
         LEFT JOIN external_contacts ec ON ec.external_userid = f.external_userid
         LEFT JOIN customers c ON c.id = ec.customer_id
        WHERE f.userid IN (${list(userids.length)}) AND f.deleted_by = 'customer'
          AND f.deleted_at >= ? AND f.deleted_at < ?
        ORDER BY f.deleted_at`,
      [...userids, from, to],
    );
  }

  async manager(userid: string): Promise<ManagerFact | null> {
    const rows: ManagerFact[] = await this.db.query(
      'SELECT userid, name, role, branch_code FROM managers WHERE userid = ?',
      [userid],
    );
    return rows[0] ?? null;
  }

  /** Active people who serve customers in a branch (managers and leads), by name. */
  async branchMembers(branchCode: string): Promise<ManagerFact[]> {
    return this.db.query(
      `SELECT userid, name, role, branch_code FROM managers
        WHERE branch_code = ? AND status = 'active' AND role IN ('manager', 'branch_lead')
        ORDER BY name, userid`,
      [branchCode],
    );
  }

  /** Every active manager or lead with at least one active follow (reminder candidates). */
  async activeServingManagers(): Promise<ManagerFact[]> {
    return this.db.query(
      `SELECT m.userid, m.name, m.role, m.branch_code FROM managers m
        WHERE m.status = 'active' AND m.role IN ('manager', 'branch_lead')
          AND EXISTS (SELECT 1 FROM follows f WHERE f.userid = m.userid)
        ORDER BY m.userid`,
    );
  }
}
