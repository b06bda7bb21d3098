import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';
import type { RiskClass, TemplateChannel, TemplateStatus } from './playbook-kinds';

export {
  RISK_CLASSES,
  type RiskClass,
  TEMPLATE_CHANNELS,
  TEMPLATE_STATUSES,
  type TemplateChannel,
  type TemplateStatus,
} from './playbook-kinds';

/**
 * Script templates (话术). Not to be confused with operator scripts in scripts/.
 *
 * Every version is its own row: `lineageId` (= the id of the first version) ties the versions of one
 * script together and `version` counts them. Editing an approved script inserts version n+1 in
 * review; version n keeps serving until n+1 is approved, then n is retired with `supersededBy`.
 * A touch names the row id, so it names the exact wording that went out.
 */
@Entity('script_templates')
@Index('idx_templates_stage', ['status', 'stage'])
@Index('idx_templates_channel', ['status', 'channel'])
@Index('idx_templates_lineage', ['lineageId', 'version'])
export class ScriptTemplate {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 128 }) title: string;
  /** The body, with {{变量}} placeholders (server/playbook/variables.ts lists them). */
  @Column({ type: 'text' }) content: string;
  /** 话术分类 shown as a filter in the sidebar (问候, 产品推荐 …). */
  @Column({ type: 'varchar', length: 32, nullable: true }) category: string | null;
  /** Touch stage 1..4 (第几次触达); null = any stage. */
  @Column({ type: 'int', nullable: true }) stage: number | null;
  /** Comma-separated segments (代发,高潜,流降); empty = any. */
  @Column({ type: 'varchar', length: 255, default: '' }) segments: string;
  /** Comma-separated bank tags the script targets; empty = any. */
  @Column({ type: 'varchar', length: 255, default: '' }) bankTags: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) product: string | null;
  @Column({ type: 'varchar', length: 16, default: 'none' }) riskClass: RiskClass;
  @Column({ type: 'varchar', length: 16, default: 'chat' }) channel: TemplateChannel;
  /** Several wordings of one message share a group; `variant` labels this wording (A, B …). */
  @Column({ type: 'varchar', length: 64, nullable: true }) variantGroup: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) variant: string | null;
  /** null = the bank library; a userid = that manager's personal script. */
  @Index('idx_templates_owner') @Column({ type: 'varchar', length: 64, nullable: true }) ownerUserid: string | null;
  @Column({ type: 'varchar', length: 16 }) status: TemplateStatus;
  @Column({ type: 'int', nullable: true }) lineageId: number | null;
  @Column({ type: 'int', default: 1 }) version: number;
  /** The version that replaced this one (set when this one is retired by that approval). */
  @Column({ type: 'int', nullable: true }) supersededBy: number | null;
  /** Approval expiry; after it the script never reaches a customer. */
  @EpochMs({ nullable: true }) expiresAt: number | null;
  /** Risk disclaimer appended to what reaches the customer (required for wealth/fund/insurance). */
  @Column({ type: 'text', nullable: true }) disclaimer: string | null;
  /** Attachments for sendChatMessage (link/image), as JSON; see server/playbook/types.ts. */
  @JsonText({ nullable: true }) attachments: object | null;
  /** The author (operator name or manager userid). */
  @Column({ type: 'varchar', length: 64, default: 'system' }) createdBy: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) reviewer: string | null;
  @EpochMs({ nullable: true }) submittedAt: number | null;
  @EpochMs({ nullable: true }) reviewedAt: number | null;
  /** The reviewer's comment; for a rejected version, the reason. */
  @Column({ type: 'text', nullable: true }) reviewComment: string | null;
  @EpochMs({ nullable: true }) retiredAt: number | null;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

/**
 * A template sent (or copied) into a chat: the contact history and the stage counter.
 * channel: send (sendChatMessage) | copy (copied to the clipboard; counts as a real send only once
 * confirmedAt is set by the manager's 已发送) | chat (seen through a callback or import) |
 * manual (the manager set the stage by hand: `stage` is that stage, no template).
 */
@Entity('touches')
@Index('idx_touches_contact', ['externalUserid', 'sentAt'])
@Index('idx_touches_user', ['userid', 'sentAt'])
@Index('uq_touches_request', ['userid', 'requestKey'], { unique: true })
export class Touch {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  /** script_templates.id: the exact version that went out. */
  @Column({ type: 'int', nullable: true }) templateId: number | null;
  @Column({ type: 'int', nullable: true }) templateVersion: number | null;
  @Column({ type: 'int' }) stage: number;
  @Column({ type: 'varchar', length: 16 }) channel: string;
  @EpochMs() sentAt: number;
  /** Bank-local day (epoch day in UTC+8) of sentAt; the stage counts distinct days with a real send. */
  @Column({ type: 'int', nullable: true }) sentDay: number | null;
  @EpochMs({ nullable: true }) confirmedAt: number | null;
  /** The sidebar's request key: a replayed write records once (see migration SidebarRequestKeys). */
  @Column({ type: 'varchar', length: 64, nullable: true }) requestKey?: string | null;
}

export type SensitiveWordSource = 'default' | 'operator';

/** Wording bank marketing rules forbid; the shipped list (source default) plus what operators import. */
@Entity('sensitive_words')
export class SensitiveWord {
  @PrimaryGeneratedColumn('increment') id: number;
  @Index('uq_sensitive_words_word', { unique: true }) @Column({ type: 'varchar', length: 64 }) word: string;
  @Column({ type: 'varchar', length: 16 }) source: SensitiveWordSource;
  /** Why it is forbidden, in Chinese, shown to the manager next to the highlighted word. */
  @Column({ type: 'varchar', length: 255, nullable: true }) note: string | null;
  @Column({ type: 'varchar', length: 64 }) addedBy: string;
  @EpochMs() createdAt: number;
}
