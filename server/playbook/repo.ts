import type { DataSource, EntityManager } from 'typeorm';
import { bumpCacheVersion } from '../db/cache-version';
import { ScriptTemplate, SensitiveWord, type SensitiveWordSource, type TemplateStatus } from '../db/entities';

type Db = DataSource | EntityManager;
const mgr = (db: Db) => ('manager' in db ? db.manager : db);

export interface TemplateFilter {
  status?: TemplateStatus[];
  /** undefined = any owner; null = the bank library; a userid = that manager's scripts. */
  owner?: string | null;
  /** Approved scripts whose approval ends before this time. */
  expiringBefore?: number;
  ids?: number[];
}

/** SQL for the script library and the sensitive-word list (server/playbook owns these tables). */
export class LibraryRepo {
  constructor(private readonly db: DataSource) {}

  get(id: number, db: Db = this.db): Promise<ScriptTemplate | null> {
    return mgr(db).findOne(ScriptTemplate, { where: { id } });
  }

  async list(f: TemplateFilter, db: Db = this.db): Promise<ScriptTemplate[]> {
    const qb = mgr(db).createQueryBuilder(ScriptTemplate, 't');
    if (f.status?.length) qb.andWhere('t.status IN (:...status)', { status: f.status });
    if (f.owner === null) qb.andWhere('t.owner_userid IS NULL');
    else if (f.owner !== undefined) qb.andWhere('t.owner_userid = :owner', { owner: f.owner });
    if (f.expiringBefore !== undefined) {
      qb.andWhere("t.status = 'approved' AND t.expires_at IS NOT NULL AND t.expires_at < :before", {
        before: f.expiringBefore,
      });
    }
    if (f.ids?.length) qb.andWhere('t.id IN (:...ids)', { ids: f.ids });
    return qb.orderBy('t.id', 'ASC').getMany();
  }

  /**
   * The categories of the chat scripts a manager may use now (approved, unexpired, the bank's or
   * their own), for the sidebar's category filter.
   */
  async usableCategories(userid: string, now: number): Promise<string[]> {
    const rows: { category: string }[] = await this.db.query(
      `SELECT DISTINCT category FROM script_templates
        WHERE status = 'approved' AND channel = 'chat' AND category IS NOT NULL
          AND (expires_at IS NULL OR expires_at > ?) AND (owner_userid IS NULL OR owner_userid = ?)`,
      [now, userid],
    );
    return rows.map((r) => r.category).sort((a, b) => a.localeCompare(b, 'zh-Hans-CN'));
  }

  /** Every version of one script, oldest first. */
  lineage(lineageId: number, db: Db = this.db): Promise<ScriptTemplate[]> {
    return mgr(db).find(ScriptTemplate, { where: { lineageId }, order: { version: 'ASC' } });
  }

  /**
   * Writes to the bank library (owner null) bump the `script_library` cache version in the same
   * transaction, so every instance's in-memory library (TableTemplateProvider) sees them at its
   * next request. Personal scripts are read per manager and need no bump.
   */
  async insert(db: EntityManager, row: Partial<ScriptTemplate>): Promise<ScriptTemplate> {
    const res = await db.getRepository(ScriptTemplate).insert(row);
    const id = Number(res.identifiers[0]?.id);
    if (!row.lineageId) await db.update(ScriptTemplate, { id }, { lineageId: id });
    if (!row.ownerUserid) await bumpCacheVersion(db, 'script_library', row.updatedAt ?? Date.now());
    return (await this.get(id, db)) as ScriptTemplate;
  }

  async update(db: EntityManager, id: number, patch: Partial<ScriptTemplate>): Promise<void> {
    await db.update(ScriptTemplate, { id }, patch);
    const [row]: { owner_userid: string | null }[] = await db.query(
      'SELECT owner_userid FROM script_templates WHERE id = ?',
      [id],
    );
    if (row && !row.owner_userid) await bumpCacheVersion(db, 'script_library', patch.updatedAt ?? Date.now());
  }

  async words(): Promise<SensitiveWord[]> {
    return this.db.getRepository(SensitiveWord).find({ order: { id: 'ASC' } });
  }

  /** Inserts the words not yet listed; returns the ones inserted. */
  async addWords(
    db: EntityManager,
    rows: { word: string; note: string | null }[],
    source: SensitiveWordSource,
    addedBy: string,
    now: number,
  ): Promise<string[]> {
    const existing = new Set((await db.getRepository(SensitiveWord).find()).map((w) => w.word));
    const fresh = rows.filter((r) => !existing.has(r.word));
    if (fresh.length) {
      await db
        .createQueryBuilder()
        .insert()
        .into(SensitiveWord)
        .values(fresh.map((r) => ({ word: r.word, note: r.note, source, addedBy, createdAt: now })))
        .updateEntity(false)
        .execute();
    }
    return fresh.map((r) => r.word);
  }
}
