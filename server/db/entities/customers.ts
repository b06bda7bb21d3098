import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs, JsonText } from '../columns';

/** A bank customer from the bank's own data (imports). Only a masked name and a salted phone hash. */
@Entity('customers')
export class Customer {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 64, default: '' }) maskedName: string;
  @Index('idx_customers_phone') @Column({ type: 'varchar', length: 64, nullable: true }) phoneHash: string | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) segment: string | null;
  @Index('idx_customers_owner') @Column({ type: 'varchar', length: 64, nullable: true }) ownerUserid: string | null;
  @Column({ type: 'double', nullable: true }) lat: number | null;
  @Column({ type: 'double', nullable: true }) lng: number | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) regionCode: string | null;
  /** Bank-side tags from imports (not WeCom corp tags). */
  @JsonText({ nullable: true }) bankTags: string[] | null;
  /** 资产等级 as the bank names it (e.g. 金卡, 白金, 钻石). */
  @Column({ type: 'varchar', length: 16, nullable: true }) assetTier?: string | null;
  /** 风险等级 C1..C5 and the day it was assessed (YYYY-MM-DD); a rating older than a year is expired. */
  @Column({ type: 'varchar', length: 8, nullable: true }) riskRating?: string | null;
  @Column({ type: 'varchar', length: 10, nullable: true }) riskRatedOn?: string | null;
  /** MM-DD only: the year of birth is never stored. (Optional in the type: older code builds rows without the profile.) */
  @Column({ type: 'varchar', length: 5, nullable: true }) birthdayMd?: string | null;
  /** The branch code the customer prefers to visit. */
  @Column({ type: 'varchar', length: 32, nullable: true }) preferredBranch?: string | null;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

/** A WeCom external contact (the customer's WeChat identity), linked to a bank customer when matched. */
@Entity('external_contacts')
export class ExternalContact {
  @PrimaryColumn({ type: 'varchar', length: 64 }) externalUserid: string;
  @Index('idx_external_contacts_customer') @Column({ type: 'varchar', length: 64, nullable: true }) customerId:
    | string
    | null;
  @Index('idx_external_contacts_unionid') @Column({ type: 'varchar', length: 64, nullable: true }) unionid:
    | string
    | null;
  @Column({ type: 'varchar', length: 64, default: '' }) name: string;
  @Column({ type: 'int', default: 1 }) type: number;
  @Column({ type: 'int', default: 0 }) gender: number;
  @Column({ type: 'varchar', length: 512, nullable: true }) avatar: string | null;
  /** How the customer was matched: state | unionid | phone | manual | null (unmatched). */
  @Column({ type: 'varchar', length: 16, nullable: true }) matchedBy: string | null;
  @EpochMs() createdAt: number;
  @EpochMs() updatedAt: number;
}

export type FollowDeletedBy = 'customer' | 'manager' | 'transfer';

/** The relation manager ↔ customer in WeCom; deleted_by=customer is churn. */
@Entity('follows')
@Index('uq_follows_pair', ['externalUserid', 'userid'], { unique: true })
@Index('idx_follows_user', ['userid', 'deletedAt'])
export class Follow {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) externalUserid: string;
  @Column({ type: 'varchar', length: 64 }) userid: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) state: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true }) remark: string | null;
  @EpochMs() addedAt: number;
  @EpochMs({ nullable: true }) deletedAt: number | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) deletedBy: FollowDeletedBy | null;
  /** add_half_external_contact: the customer added the manager but is not yet a two-way friend. */
  @Column({ type: 'boolean', default: false }) half: boolean;
}

/** WeCom corp tags (企业标签), mirrored from get_corp_tag_list. */
@Entity('tags')
export class CorpTag {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 64 }) groupId: string;
  @Column({ type: 'varchar', length: 64 }) groupName: string;
  @Column({ type: 'varchar', length: 64 }) name: string;
  /** `order` of the tag inside its group, from get_corp_tag_list. */
  @Column({ type: 'int', default: 0 }) sortOrder: number;
  /** `order` of the group, from get_corp_tag_list (groups show in this order). */
  @Column({ type: 'int', default: 0 }) groupOrder?: number;
  @Column({ type: 'boolean', default: false }) deleted: boolean;
  @EpochMs() updatedAt: number;
}

@Entity('contact_tags')
export class ContactTag {
  @PrimaryColumn({ type: 'varchar', length: 64 }) externalUserid: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) userid: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) tagId: string;
  @EpochMs() createdAt: number;
}
