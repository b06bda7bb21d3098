import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

export type TemplateStatus = 'draft' | 'review' | 'approved' | 'retired';

/** Script templates (话术) for the sidebar. Not to be confused with operator scripts in scripts/. */
@Entity('script_templates')
@Index('idx_templates_stage', ['status', 'stage'])
export class ScriptTemplate {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 128 }) title: string;
  @Column({ type: 'text' }) content: string;
  /** Touch stage 1..4 (第几次触达). */
  @Column({ type: 'int' }) stage: number;
  /** Comma-separated segments (代发,高潜,流降); empty = any. */
  @Column({ type: 'varchar', length: 255, default: '' }) segments: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) product: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) variant: string | null;
  /** null = corp template; a userid = the manager's own template. */
  @Index('idx_templates_owner') @Column({ type: 'varchar', length: 64, nullable: true }) ownerUserid: string | null;
  @Column({ type: 'varchar', length: 16 }) status: TemplateStatus;
  @EpochMs({ nullable: true }) expiresAt: number | null;
  @Column({ type: 'text', nullable: true }) disclaimer: string | null;
  /** Attachments for sendChatMessage (image/link), as JSON. */
  @JsonText({ nullable: true }) attachments: object | null;
  /** Welcome-message template (used with send_welcome_msg). */
  @Column({ type: 'boolean', default: false }) isWelcome: boolean;
  @Column({ type: 'varchar', length: 64, default: 'system' }) createdBy: string;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

/** A template sent (or copied) into a chat: the contact history and the stage counter. */
@Entity('touches')
@Index('idx_touches_contact', ['externalUserid', 'sentAt'])
@Index('idx_touches_user', ['userid', 'sentAt'])
export class Touch {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'int', nullable: true }) templateId: number | null;
  @Column({ type: 'int' }) stage: number;
  /** send | copy | chat (a chat message seen through a callback or import). */
  @Column({ type: 'varchar', length: 16 }) channel: string;
  @EpochMs() sentAt: number;
}
