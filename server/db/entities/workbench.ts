import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs } from '../columns';

/** A product a bank customer holds (`ops import holdings`): an amount band, never an amount. */
@Entity('customer_holdings')
@Index('idx_holdings_customer', ['customerId'])
@Index('idx_holdings_maturity', ['maturesOn'])
export class CustomerHolding {
  /** `customer_id|product|opened_on`: one row per lot. */
  @PrimaryColumn({ type: 'varchar', length: 200 }) id: string;
  @Column({ type: 'varchar', length: 64 }) customerId: string;
  @Column({ type: 'varchar', length: 64 }) product: string;
  @Column({ type: 'varchar', length: 16 }) productType: string;
  @Column({ type: 'varchar', length: 16 }) amountBand: string;
  /** Days as YYYY-MM-DD (bank dates, China time). */
  @Column({ type: 'varchar', length: 10 }) openedOn: string;
  @Column({ type: 'varchar', length: 10, nullable: true }) maturesOn: string | null;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

export type FollowNoteKind = 'visit' | 'call' | 'chat' | 'other';

/** 跟进记录: a manager's note on a customer, visible to every later manager of this contact. */
@Entity('follow_notes')
@Index('idx_follow_notes_contact', ['externalUserid', 'createdAt'])
@Index('idx_follow_notes_user', ['userid', 'nextFollowUp'])
@Index('uq_follow_notes_request', ['userid', 'requestKey'], { unique: true })
export class FollowNote {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 8 }) kind: FollowNoteKind;
  @Column({ type: 'text' }) text: string;
  /** YYYY-MM-DD (China day) of the next follow-up, if the manager set one. */
  @Column({ type: 'varchar', length: 10, nullable: true }) nextFollowUp: string | null;
  @EpochMs() createdAt: number;
  /** The sidebar's request key: a replayed note records once. */
  @Column({ type: 'varchar', length: 64, nullable: true }) requestKey?: string | null;
}

/** One morning reminder per member per China day: the row is written before the message is sent. */
@Entity('todo_reminders')
export class TodoReminder {
  @PrimaryColumn({ type: 'varchar', length: 64 }) userid: string;
  @PrimaryColumn({ type: 'varchar', length: 10 }) day: string;
  @Column({ type: 'int' }) items: number;
  /** sending | sent | failed */
  @Column({ type: 'varchar', length: 16 }) status: string;
  @Column({ type: 'varchar', length: 255, nullable: true }) error: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) sentAt: number | null;
}
