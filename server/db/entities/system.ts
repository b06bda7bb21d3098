import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

/** Access tokens and JS-SDK tickets shared by all processes; the lease columns give single-flight refresh. */
@Entity('secrets_cache')
export class CachedSecret {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name: string;
  @Column({ type: 'text', nullable: true }) value: string | null;
  @EpochMs({ nullable: true }) expiresAt: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) leaseHolder: string | null;
  @EpochMs({ nullable: true }) leaseUntil: number | null;
  @EpochMs() updatedAt: number;
}

/** Cron jobs and other singletons take a lease row so one process of N runs them. */
@Entity('job_leases')
export class JobLease {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name: string;
  @Column({ type: 'varchar', length: 64 }) holder: string;
  @EpochMs() until: number;
}

/**
 * One counter per in-memory cache of shared data (`script_library`: the approved bank scripts the
 * sidebar ranks). Writers bump it inside their transaction; every instance compares it before
 * using its copy (server/db/cache-version.ts).
 */
@Entity('cache_versions')
export class CacheVersion {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name: string;
  @Column({ type: 'bigint' }) version: string;
  @EpochMs() updatedAt: number;
}

@Entity('audit_log')
@Index('idx_audit_subject', ['subject', 'at'])
export class AuditEntry {
  @PrimaryGeneratedColumn('increment') id: number;
  @EpochMs() at: number;
  @Column({ type: 'varchar', length: 64 }) actor: string;
  @Column({ type: 'varchar', length: 64 }) action: string;
  @Column({ type: 'varchar', length: 128 }) subject: string;
  @JsonText({ nullable: true }) detail: object | null;
}
