import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

/** A campaign applied from a file (`ops campaigns apply`). */
@Entity('campaigns')
export class Campaign {
  @PrimaryColumn({ type: 'varchar', length: 32 }) code: string;
  @Column({ type: 'varchar', length: 128 }) name: string;
  @EpochMs() startsAt: number;
  /** Exclusive. */
  @EpochMs() endsAt: number;
  @Column({ type: 'varchar', length: 32 }) rewardKind: string;
  @Column({ type: 'double' }) rewardAmount: number;
  @Column({ type: 'boolean', default: false }) newCustomersOnly: boolean;
  /** A customer who deletes the manager within this many days of the add is flagged in the report. */
  @Column({ type: 'int', default: 7 }) churnFlagDays: number;
  @JsonText() body: object;
  @Column({ type: 'varchar', length: 64 }) createdBy: string;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

export type CampaignChannel = 'entry' | 'qr' | 'referral';

/** The eligibility decision for one customer's add in one campaign; unique per contact and per unionid. */
@Entity('campaign_enrollments')
@Index('uq_enrollments_contact', ['campaignCode', 'externalUserid'], { unique: true })
@Index('uq_enrollments_unionid', ['campaignCode', 'unionid'], { unique: true })
@Index('idx_enrollments_added', ['campaignCode', 'addedAt'])
export class CampaignEnrollment {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 32 }) campaignCode: string;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) unionid: string | null;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) customerId: string | null;
  @Column({ type: 'varchar', length: 16 }) channel: CampaignChannel;
  @Column({ type: 'boolean' }) eligible: boolean;
  /** eligible | outside_period | corp_member | existing_customer | already_contact */
  @Column({ type: 'varchar', length: 32 }) reason: string;
  @EpochMs() addedAt: number;
  @EpochMs() decidedAt: number;
  /** The first time after the add the customer and this manager parted (a re-add does not clear it). */
  @EpochMs({ nullable: true }) deletedAt?: number | null;
  /** customer (deleted the manager: churn) | manager (deleted the customer). Transfers are not partings. */
  @Column({ type: 'varchar', length: 16, nullable: true }) deletedBy?: 'customer' | 'manager' | null;
}

export type RewardStatus = 'pending' | 'sent' | 'dead';

/** One signed reward request to the bank, written with the decision; delivered by the reward-delivery job. */
@Entity('reward_outbox')
@Index('uq_reward_outbox_key', ['idempotencyKey'], { unique: true })
@Index('idx_reward_outbox_due', ['status', 'nextAttemptAt'])
export class RewardOutbox {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 128 }) idempotencyKey: string;
  @Column({ type: 'varchar', length: 32 }) campaignCode: string;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  /** The exact JSON sent (signed as is). */
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'varchar', length: 16 }) status: RewardStatus;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @EpochMs() nextAttemptAt: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) lockedBy: string | null;
  @EpochMs({ nullable: true }) lockedUntil: number | null;
  @Column({ type: 'int', nullable: true }) httpStatus: number | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) lastError: string | null;
  @EpochMs() createdAt: number;
  @EpochMs({ nullable: true }) sentAt: number | null;
  @EpochMs() updatedAt: number;
}

/**
 * A customer's referral code (MGM, 推荐码): a contact way of one manager whose `state` is a random
 * token (unguessable, within WeCom's 30 characters) mapped here to the referrer.
 */
@Entity('referral_codes')
@Index('idx_referral_codes_referrer', ['referrerExternalUserid', 'userid'])
export class ReferralCode {
  @PrimaryColumn({ type: 'varchar', length: 32 }) state: string;
  /** The referrer's WeCom contact, when known (codes made in the sidebar always have it). */
  @Column({ type: 'varchar', length: 64, nullable: true }) referrerExternalUserid: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) referrerCustomerId: string | null;
  /** The manager the code adds. */
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'varchar', length: 64 }) configId: string;
  @Column({ type: 'varchar', length: 512, nullable: true }) qrCode: string | null;
  @Column({ type: 'varchar', length: 64 }) createdBy: string;
  @EpochMs() createdAt: number;
}

/** One add through a referral code; unique per referred contact (the first referrer keeps it). */
@Entity('referrals')
@Index('uq_referrals_referred', ['referredExternalUserid'], { unique: true })
@Index('idx_referrals_due', ['rewardKey', 'addedAt'])
export class Referral {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 32 }) state: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) referrerExternalUserid: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) referrerCustomerId: string | null;
  @Column({ type: 'varchar', length: 64 }) referredExternalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  /** eligible | self | existing_contact (attributed, never rewarded). */
  @Column({ type: 'varchar', length: 32 }) reason: string;
  @EpochMs() addedAt: number;
  /** First parting from the manager after the add (a re-add does not clear it): no reward. */
  @EpochMs({ nullable: true }) deletedAt: number | null;
  /** Set when the reward request was written to the outbox (`referral:<referred external_userid>`). */
  @Column({ type: 'varchar', length: 128, nullable: true }) rewardKey: string | null;
  @EpochMs({ nullable: true }) rewardedAt: number | null;
}
