import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

export type AllocationStatus = 'open' | 'confirmed' | 'expired' | 'superseded';
export type AllocationSource = 'entry' | 'callback' | 'script';

/** One decision of the allocation engine, with the rule version and the explanation. */
@Entity('allocations')
@Index('idx_allocations_customer', ['customerId', 'status'])
@Index('idx_allocations_created', ['createdAt'])
@Index('idx_allocations_user_status', ['userid', 'status'])
export class Allocation {
  /** Short id; the contact-way state embeds it so the add callback finds the allocation. */
  @PrimaryColumn({ type: 'varchar', length: 32 }) id: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) customerId: string | null;
  @Index('idx_allocations_external') @Column({ type: 'varchar', length: 64, nullable: true }) externalUserid:
    | string
    | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) userid: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'varchar', length: 64 }) ruleVersion: string;
  @Column({ type: 'varchar', length: 16 }) source: AllocationSource;
  @Column({ type: 'varchar', length: 32 }) reason: string;
  @Column({ type: 'double', nullable: true }) distanceMeters: number | null;
  @JsonText() explanation: object;
  @Column({ type: 'varchar', length: 16 }) status: AllocationStatus;
  @Column({ type: 'varchar', length: 64, nullable: true }) campaign: string | null;
  @Index('idx_allocations_state') @Column({ type: 'varchar', length: 32, nullable: true }) state: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) configId: string | null;
  @Column({ type: 'varchar', length: 512, nullable: true }) qrCode: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) confirmedAt: number | null;
  @EpochMs({ nullable: true }) expiresAt: number | null;
  /**
   * The customer id while this entry allocation is open, NULL once it is confirmed, superseded or
   * expired (or for other sources): unique, so a customer has one open entry allocation at a time.
   */
  @Index('uq_allocations_open_key', { unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  openKey?: string | null;
}

/** Every accepted entry-API signature, kept for the ±300 s window: a replay gets the first answer. */
@Entity('entry_requests')
export class EntryRequestRow {
  @PrimaryColumn({ type: 'varchar', length: 48 }) client: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) signature: string;
  /** `pending` while the first request runs, `done` with its answer. */
  @Column({ type: 'varchar', length: 16 }) status: 'pending' | 'done';
  @Column({ type: 'text', nullable: true }) answer: string | null;
  @EpochMs() createdAt: number;
  @Index('idx_entry_requests_expires') @EpochMs() expiresAt: number;
}

/** One row per manager that capacity-checked allocations write first, so they serialize per manager. */
@Entity('manager_slots')
export class ManagerSlot {
  @PrimaryColumn({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'int', default: 0 }) reservations: number;
  @EpochMs() updatedAt: number;
}

/** Versioned allocation rule documents; exactly one is active. */
@Entity('rule_sets')
export class RuleSetRow {
  @PrimaryColumn({ type: 'varchar', length: 64 }) version: string;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'varchar', length: 64 }) author: string;
  @EpochMs() createdAt: number;
  @Column({ type: 'boolean', default: false }) active: boolean;
  @EpochMs({ nullable: true }) activatedAt: number | null;
}

/** Contact ways (联系我) created through add_contact_way; config_id is WeCom's only handle. */
@Entity('contact_ways')
export class ContactWay {
  @PrimaryColumn({ type: 'varchar', length: 64 }) configId: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Index('idx_contact_ways_state') @Column({ type: 'varchar', length: 32 }) state: string;
  @Column({ type: 'varchar', length: 32 }) purpose: string;
  @Column({ type: 'varchar', length: 512, nullable: true }) qrCode: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) allocationId: string | null;
  /** Campaign attribution (entry API `campaign`, campaign QR codes): never a customer tag. */
  @Column({ type: 'varchar', length: 32, nullable: true }) campaign: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) deletedAt: number | null;
}

export type TransferKind = 'onjob' | 'resigned';
export type TransferStatus = 'requested' | 'waiting' | 'success' | 'refused' | 'limit' | 'failed' | 'queued';

@Entity('transfers')
@Index('idx_transfers_external', ['externalUserid', 'requestedAt'])
@Index('idx_transfers_status', ['status'])
export class Transfer {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) handoverUserid: string;
  @Column({ type: 'varchar', length: 64 }) takeoverUserid: string;
  @Column({ type: 'varchar', length: 16 }) kind: TransferKind;
  @Column({ type: 'varchar', length: 16 }) status: TransferStatus;
  @Column({ type: 'int', nullable: true }) errcode: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) reason: string | null;
  @EpochMs() requestedAt: number;
  @EpochMs() updatedAt: number;
  @EpochMs({ nullable: true }) takeoverTime: number | null;
}

/** `sending`: claimed by a handler, WeCom not yet answered (a crash leaves it for the retry to settle). */
export type WelcomeStatus = 'sending' | 'sent' | 'already_sent' | 'failed' | 'expired' | 'skipped';

/** One row per welcome code; the unique hash makes the send idempotent across redeliveries. */
@Entity('welcome_messages')
export class WelcomeMessage {
  @PrimaryColumn({ type: 'varchar', length: 64 }) codeHash: string;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'int', nullable: true }) templateId: number | null;
  @Column({ type: 'varchar', length: 16 }) status: WelcomeStatus;
  @Column({ type: 'int', nullable: true }) errcode: number | null;
  @EpochMs() eventAt: number;
  @EpochMs({ nullable: true }) sentAt: number | null;
}
