import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs } from '../columns';

export type InboxStatus = 'pending' | 'processing' | 'done' | 'dead' | 'unhandled' | 'malformed';

/** One row per distinct decrypted callback; dedup_key = sha256(plaintext). */
@Entity('inbox')
@Index('idx_inbox_claim', ['status', 'nextAttemptAt'])
export class InboxEvent {
  @PrimaryGeneratedColumn('increment') id: number;
  @Index('uq_inbox_dedup', { unique: true }) @Column({ type: 'varchar', length: 64 }) dedupKey: string;
  @EpochMs() receivedAt: number;
  /** The callback's signed `timestamp` query parameter (seconds). */
  @EpochMs() sentAt: number;
  @Column({ type: 'varchar', length: 32, nullable: true }) msgType: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) event: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) changeType: string | null;
  @Column({ type: 'text' }) payload: string;
  @Column({ type: 'varchar', length: 16 }) status: InboxStatus;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @EpochMs() nextAttemptAt: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) lockedBy: string | null;
  @EpochMs({ nullable: true }) lockedUntil: number | null;
  @Column({ type: 'text', nullable: true }) lastError: string | null;
  @EpochMs({ nullable: true }) processedAt: number | null;
}
