import type { DataSource, EntityManager } from 'typeorm';
import { FollowNote, type FollowNoteKind } from '../db/entities';

/**
 * SQL of the manager's workbench on the card: bank profile, holdings, follow-up notes and the
 * timeline. Keyed by customers.id, idx_holdings_customer, idx_follow_notes_contact and
 * idx_touches_contact.
 */

export interface ProfileRow {
  asset_tier: string | null;
  risk_rating: string | null;
  risk_rated_on: string | null;
  birthday_md: string | null;
  preferred_branch: string | null;
  preferred_branch_name: string | null;
}

export interface HoldingRow {
  product: string;
  product_type: string;
  amount_band: string;
  matures_on: string;
}

export interface TimelineRow {
  kind: 'touch' | 'note';
  id: number | string;
  userid: string;
  manager_name: string | null;
  at: number | string;
  /** note kind (visit/call/chat/other) or touch channel (send/copy/chat/manual). */
  sub: string;
  /** The touch's script; null for notes. */
  template_id: number | string | null;
  /** When the manager confirmed a copied script as sent (已发送); null otherwise and for notes. */
  confirmed_at: number | string | null;
  /** note text or template title. */
  text: string | null;
  next_follow_up: string | null;
}

type Db = DataSource | EntityManager;

export class WorkbenchRepo {
  constructor(private readonly db: DataSource) {}

  async profile(customerId: string): Promise<ProfileRow | null> {
    const rows: ProfileRow[] = await this.db.query(
      `SELECT c.asset_tier, c.risk_rating, c.risk_rated_on, c.birthday_md, c.preferred_branch,
              b.name AS preferred_branch_name
         FROM customers c LEFT JOIN branches b ON b.code = c.preferred_branch
        WHERE c.id = ?`,
      [customerId],
    );
    return rows[0] ?? null;
  }

  /** Products maturing between two days (inclusive), soonest first. */
  async maturing(customerId: string, fromDay: string, toDay: string): Promise<HoldingRow[]> {
    return this.db.query(
      `SELECT product, product_type, amount_band, matures_on FROM customer_holdings
        WHERE customer_id = ? AND matures_on >= ? AND matures_on <= ?
        ORDER BY matures_on, product`,
      [customerId, fromDay, toDay],
    );
  }

  /** Touches and notes of this contact by every manager, newest first. */
  async timeline(externalUserid: string, limit: number): Promise<TimelineRow[]> {
    const n = Math.max(1, Math.floor(limit));
    const [touches, notes] = await Promise.all([
      this.db.query(
        `SELECT 'touch' AS kind, t.id, t.userid, m.name AS manager_name, t.sent_at AS at, t.channel AS sub,
                st.title AS text, NULL AS next_follow_up, t.template_id, t.confirmed_at
           FROM touches t
           LEFT JOIN script_templates st ON st.id = t.template_id
           LEFT JOIN managers m ON m.userid = t.userid
          WHERE t.external_userid = ?
          ORDER BY t.sent_at DESC, t.id DESC LIMIT ${n}`,
        [externalUserid],
      ) as Promise<TimelineRow[]>,
      this.db.query(
        `SELECT 'note' AS kind, fn.id, fn.userid, m.name AS manager_name, fn.created_at AS at, fn.kind AS sub,
                fn.text, fn.next_follow_up, NULL AS template_id, NULL AS confirmed_at
           FROM follow_notes fn LEFT JOIN managers m ON m.userid = fn.userid
          WHERE fn.external_userid = ?
          ORDER BY fn.created_at DESC, fn.id DESC LIMIT ${n}`,
        [externalUserid],
      ) as Promise<TimelineRow[]>,
    ]);
    return [...touches, ...notes]
      .sort((a, b) => Number(b.at) - Number(a.at) || (a.kind === b.kind ? Number(b.id) - Number(a.id) : 0))
      .slice(0, n);
  }

  /** The newest note: its next_follow_up is the contact's next follow-up (a newer note replaces it). */
  async latestNote(externalUserid: string): Promise<{ next_follow_up: string | null; created_at: number } | null> {
    const rows: { next_follow_up: string | null; created_at: number | string }[] = await this.db.query(
      `SELECT next_follow_up, created_at FROM follow_notes WHERE external_userid = ?
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [externalUserid],
    );
    return rows[0] ? { next_follow_up: rows[0].next_follow_up, created_at: Number(rows[0].created_at) } : null;
  }

  /** The note this manager wrote under a request key (uq_follow_notes_request), as a timeline row. */
  async noteByRequest(userid: string, key: string): Promise<(TimelineRow & { external_userid: string }) | null> {
    const rows: (TimelineRow & { external_userid: string })[] = await this.db.query(
      `SELECT 'note' AS kind, fn.id, fn.userid, m.name AS manager_name, fn.created_at AS at, fn.kind AS sub,
              fn.text, fn.next_follow_up, NULL AS template_id, NULL AS confirmed_at, fn.external_userid
         FROM follow_notes fn LEFT JOIN managers m ON m.userid = fn.userid
        WHERE fn.userid = ? AND fn.request_key = ?`,
      [userid, key],
    );
    return rows[0] ?? null;
  }

  async insertNote(
    db: Db,
    row: {
      externalUserid: string;
      userid: string;
      kind: FollowNoteKind;
      text: string;
      nextFollowUp: string | null;
      createdAt: number;
      requestKey?: string | null;
    },
  ): Promise<number> {
    const res = await db.getRepository(FollowNote).insert(row);
    return Number(res.identifiers[0]?.id);
  }
}
