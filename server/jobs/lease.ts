import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';
import { JobLease } from '../db/entities';

/**
 * The `job_leases` row that makes one process of N run a job. A holder is `run:<instance>` while
 * running (renewed by a heartbeat, so a crashed holder's lease simply expires) and `done:<instance>`
 * afterwards; a finished scheduled run keeps `until` at a guard time (half a period after its
 * tick) so a process whose cron fires a little later does not run the same tick again.
 */

export const RUNNING = 'run:';
export const DONE = 'done:';

/** `until` is a reserved word on MySQL/MariaDB: always escape it. */
const col = (db: DataSource, name: string) => db.driver.escape(name);

export interface ClaimOptions {
  name: string;
  holder: string;
  now: number;
  /** Lease end while running. */
  until: number;
  /** Manual runs (operator CLI, tests) may also take a lease whose last holder has finished. */
  manual?: boolean;
}

/** Atomically takes the lease; false when another process holds it (or holds the tick's guard). */
export async function claimLease(db: DataSource, o: ClaimOptions): Promise<boolean> {
  const until = col(db, 'until');
  const holder = col(db, 'holder');
  const qb = db
    .createQueryBuilder()
    .update(JobLease)
    .set({ holder: o.holder, until: o.until })
    .where(`name = :name AND (${until} <= :now${o.manual ? ` OR ${holder} LIKE :done` : ''})`, {
      name: o.name,
      now: o.now,
      done: `${DONE}%`,
    });
  const res = await qb.execute();
  if ((res.affected ?? 0) > 0) return true;
  try {
    // First run ever of this job: the primary key lets exactly one inserter win.
    await db
      .createQueryBuilder()
      .insert()
      .into(JobLease)
      .values({ name: o.name, holder: o.holder, until: o.until })
      .updateEntity(false)
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/** Extends a held lease; false means it was lost (expired and taken over). */
export async function renewLease(db: DataSource, name: string, holder: string, until: number): Promise<boolean> {
  const res = await db
    .createQueryBuilder()
    .update(JobLease)
    .set({ until })
    .where(`name = :name AND ${col(db, 'holder')} = :holder`, { name, holder })
    .execute();
  return (res.affected ?? 0) > 0;
}

/** Marks the run finished; `until` is the guard time after which the next tick may run. */
export async function releaseLease(
  db: DataSource,
  name: string,
  holder: string,
  doneHolder: string,
  until: number,
): Promise<boolean> {
  const res = await db
    .createQueryBuilder()
    .update(JobLease)
    .set({ holder: doneHolder, until })
    .where(`name = :name AND ${col(db, 'holder')} = :holder`, { name, holder })
    .execute();
  return (res.affected ?? 0) > 0;
}

export async function readLease(db: DataSource, name: string): Promise<JobLease | null> {
  return db.getRepository(JobLease).findOneBy({ name });
}
