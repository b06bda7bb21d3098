import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

export type SopChannel = 'group' | 'chat' | 'moments';
export type SopPlanStatus = 'active' | 'paused' | 'cancelled';

/** An SOP plan (`ops sop apply`); `version` is the running version (sop_plan_versions). */
@Entity('sop_plans')
export class SopPlan {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 128 }) name: string;
  @Column({ type: 'varchar', length: 16 }) channel: SopChannel;
  @Column({ type: 'varchar', length: 16 }) status: SopPlanStatus;
  @Column({ type: 'int' }) version: number;
  @Column({ type: 'varchar', length: 64 }) createdBy: string;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

/** Every applied version of a plan, as the normalised plan file. */
@Entity('sop_plan_versions')
export class SopPlanVersion {
  @PrimaryColumn({ type: 'varchar', length: 64 }) planId: string;
  @PrimaryColumn({ type: 'int' }) version: number;
  @JsonText() body: object;
  @Column({ type: 'varchar', length: 64 }) createdBy: string;
  @EpochMs() createdAt: number;
}

/** planning → dispatching → done; or cancelled / failed. */
export type SopOccurrenceStatus = 'planning' | 'dispatching' | 'done' | 'cancelled' | 'failed';

/** One occurrence of a plan: created exactly once per (plan, version, occurrence key). */
@Entity('sop_occurrences')
@Index('uq_sop_occurrence', ['planId', 'version', 'occurrenceKey'], { unique: true })
@Index('idx_sop_occurrences_status', ['status', 'leaseUntil'])
export class SopOccurrence {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) planId: string;
  @Column({ type: 'int' }) version: number;
  /** `2026-12-07T10:00` (cron, China time) or `2026-12-07#d3` (journey step day 3). */
  @Column({ type: 'varchar', length: 64 }) occurrenceKey: string;
  @Column({ type: 'int' }) templateId: number;
  @EpochMs() scheduledAt: number;
  @Column({ type: 'varchar', length: 16 }) status: SopOccurrenceStatus;
  /** The planner holding it (a crashed planner's lease expires and another one starts over). */
  @Column({ type: 'varchar', length: 64, nullable: true }) plannedBy: string | null;
  @EpochMs({ nullable: true }) leaseUntil: number | null;
  /** Candidates read so far (progress while planning). */
  @Column({ type: 'int', default: 0 }) scanned: number;
  @Column({ type: 'int', default: 0 }) targets: number;
  @Column({ type: 'int', default: 0 }) skippedCap: number;
  @Column({ type: 'int', default: 0 }) skippedDeleted: number;
  @Column({ type: 'int', default: 0 }) tasks: number;
  @Column({ type: 'varchar', length: 255, nullable: true }) error: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) plannedAt: number | null;
  @EpochMs() updatedAt: number;
}

export type SopTaskKind = 'group' | 'single' | 'moment';
/** pending (not yet created in WeCom) → open (created, waiting for the sender) → done; cancelled; failed. */
export type SopTaskStatus = 'pending' | 'open' | 'done' | 'cancelled' | 'failed';

/** One WeCom task: add_msg_template for one sender (and one chunk of ≤ 2,000 groups / ≤ 10,000 customers), or add_moment_task. */
@Entity('sop_tasks')
@Index('uq_sop_task', ['occurrenceId', 'senderUserid', 'chunk'], { unique: true })
@Index('idx_sop_tasks_due', ['status', 'nextPollAt'])
@Index('idx_sop_tasks_plan', ['planId', 'status'])
@Index('idx_sop_tasks_moment_job', ['momentJobId'])
export class SopTask {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'int' }) occurrenceId: number;
  @Column({ type: 'varchar', length: 64 }) planId: string;
  @Column({ type: 'varchar', length: 64 }) senderUserid: string;
  @Column({ type: 'int' }) chunk: number;
  @Column({ type: 'varchar', length: 16 }) kind: SopTaskKind;
  @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'int' }) targets: number;
  @Column({ type: 'varchar', length: 16 }) status: SopTaskStatus;
  /** add_msg_template msgid, or the add_moment_task jobid. */
  @Column({ type: 'varchar', length: 128, nullable: true }) msgid: string | null;
  /** Moments: the moment_id get_moment_task_result gave for the jobid. */
  @Column({ type: 'varchar', length: 128, nullable: true }) momentId: string | null;
  /** get_groupmsg_task said the sender has sent (status 2). */
  @Column({ type: 'boolean', default: false }) senderSent: boolean;
  @Column({ type: 'int', default: 0 }) sent: number;
  @Column({ type: 'int', default: 0 }) notFriend: number;
  @Column({ type: 'int', default: 0 }) capped: number;
  /** The one app reminder (message/send textcard) telling the sender what to send. */
  @EpochMs({ nullable: true }) notifiedAt: number | null;
  /** remind_groupmsg_send times (ms), at most 3 in any 24 h. */
  @JsonText({ nullable: true }) remindTimes: number[] | null;
  @EpochMs({ nullable: true }) nextPollAt: number | null;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) lockedBy: string | null;
  @EpochMs({ nullable: true }) lockedUntil: number | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) lastError: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) dispatchedAt: number | null;
  @EpochMs({ nullable: true }) completedAt: number | null;
  @EpochMs() updatedAt: number;
  /** Moments: the WeCom job (sop_moment_jobs) this sender was sent with; many senders share one. */
  @Column({ type: 'int', nullable: true }) momentJobId: number | null;
  /**
   * Set just before add_msg_template and cleared with its outcome: a task that has it but no msgid
   * was left by a process that died mid-call, and is looked up in WeCom before being created again.
   */
  @EpochMs({ nullable: true }) createStartedAt: number | null;
}

/** creating (claimed, WeCom not yet answered) → open (jobid known) → done; failed; cancelled. */
export type SopMomentJobStatus = 'creating' | 'open' | 'done' | 'failed' | 'cancelled';

/**
 * One add_moment_task carrying many senders (visible_range.sender_list.user_list ≤ 100,000): the
 * senders' sop_tasks rows point at it (moment_job_id). Senders whose text differs (a script with
 * the manager's name in it) go in separate jobs.
 */
@Entity('sop_moment_jobs')
@Index('idx_sop_moment_jobs_due', ['status', 'nextPollAt'])
@Index('idx_sop_moment_jobs_occurrence', ['occurrenceId', 'status'])
export class SopMomentJob {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'int' }) occurrenceId: number;
  @Column({ type: 'varchar', length: 64 }) planId: string;
  @Column({ type: 'varchar', length: 16 }) status: SopMomentJobStatus;
  @Column({ type: 'int', default: 0 }) senders: number;
  /** The text sent (one for every sender of the job): how a job lost in a crash is recognised in get_moment_list. */
  @Column({ type: 'text' }) text: string;
  @Column({ type: 'varchar', length: 128, nullable: true }) jobid: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true }) momentId: string | null;
  @Column({ type: 'int', default: 0 }) published: number;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) lockedBy: string | null;
  @EpochMs({ nullable: true }) lockedUntil: number | null;
  @EpochMs({ nullable: true }) nextPollAt: number | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) lastError: string | null;
  /** Set just before add_moment_task (see SopTask.createStartedAt). */
  @EpochMs({ nullable: true }) startedAt: number | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) dispatchedAt: number | null;
  @EpochMs({ nullable: true }) completedAt: number | null;
  @EpochMs() updatedAt: number;
}

/** 0 pending, 1 sent, 2 not a friend (any more), 3 over the frequency cap (final), 4 not sent (cancelled / sender skipped it). */
export type SopTargetStatus = 0 | 1 | 2 | 3 | 4;

/** A customer (external_userid) or group (chat_id) of one occurrence; also the frequency-cap ledger. */
@Entity('sop_targets')
@Index('idx_sop_targets_cap', ['targetId', 'day'])
@Index('idx_sop_targets_task', ['occurrenceId', 'senderUserid', 'chunk'])
export class SopTarget {
  @PrimaryColumn({ type: 'int' }) occurrenceId: number;
  @PrimaryColumn({ type: 'varchar', length: 64 }) targetId: string;
  @Column({ type: 'varchar', length: 64 }) senderUserid: string;
  @Column({ type: 'int' }) chunk: number;
  /** China epoch day (UTC+8) of the occurrence: what the per-day and per-month caps count. */
  @Column({ type: 'int' }) day: number;
  @Column({ type: 'int', default: 0 }) status: SopTargetStatus;
}
