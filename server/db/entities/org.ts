import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EpochMs } from '../columns';

@Entity('branches')
export class Branch {
  @PrimaryColumn({ type: 'varchar', length: 32 }) code: string;
  @Column({ type: 'varchar', length: 128 }) name: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) parentCode: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) regionCode: string | null;
  @Column({ type: 'double' }) lat: number;
  @Column({ type: 'double' }) lng: number;
  @Column({ type: 'boolean', default: true }) active: boolean;
  @EpochMs() updatedAt: number;
}

export type ManagerRole = 'manager' | 'branch_lead' | 'operator';
export type ManagerStatus = 'active' | 'leave' | 'resigned';

/** A customer manager (客户经理): a WeCom member identified by userid. */
@Entity('managers')
export class Manager {
  @PrimaryColumn({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 64 }) name: string;
  @Index('idx_managers_branch') @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'varchar', length: 16, default: 'manager' }) role: ManagerRole;
  @Column({ type: 'int', default: 0 }) capacity: number;
  @Column({ type: 'varchar', length: 16, default: 'active' }) status: ManagerStatus;
  @Column({ type: 'boolean', default: true }) accepting: boolean;
  /** Comma-separated skills used by segment routing (e.g. "wealth"). */
  @Column({ type: 'varchar', length: 255, default: '' }) skills: string;
  @EpochMs() updatedAt: number;
}
