import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs } from '../columns';

/**
 * A bank outcome (`ops import outcomes`), credited to the last real send of a script to that
 * customer within the attribution window (server/playbook/attribution.ts); touch/template/userid
 * are null when no send qualifies. The amount is never stored, only its band.
 */
@Entity('outcomes')
@Index('idx_outcomes_customer', ['customerId', 'occurredAt'])
export class Outcome {
  @PrimaryGeneratedColumn('increment') id: number;
  /** sha1(customer_id, event, product, occurred_at): the same row imported twice is stored once. */
  @Index('uq_outcomes_dedup', { unique: true }) @Column({ type: 'varchar', length: 40 }) dedupKey: string;
  @Column({ type: 'varchar', length: 64 }) customerId: string;
  /** 开户, 绑卡, 签约手机银行, 购买理财, 资产提升 … as the bank names it. */
  @Column({ type: 'varchar', length: 32 }) event: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) product: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) amountBand: string | null;
  @EpochMs() occurredAt: number;
  @Index('idx_outcomes_touch') @Column({ type: 'int', nullable: true }) touchId: number | null;
  @Index('idx_outcomes_template') @Column({ type: 'int', nullable: true }) templateId: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) userid: string | null;
  @EpochMs() importedAt: number;
}
