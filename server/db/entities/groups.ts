import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { EpochMs } from '../columns';

/** A customer group (客户群) from groupchat/get; the branch is the owner's, the purpose an operator's. */
@Entity('customer_groups')
export class CustomerGroup {
  @PrimaryColumn({ type: 'varchar', length: 64 }) chatId: string;
  @Column({ type: 'varchar', length: 128, default: '' }) name: string;
  @Index('idx_groups_owner') @Column({ type: 'varchar', length: 64 }) ownerUserid: string;
  @Index('idx_groups_branch') @Column({ type: 'varchar', length: 32, nullable: true }) branchCode: string | null;
  @Column({ type: 'varchar', length: 32, nullable: true }) purpose: string | null;
  /** groupchat/list status: 0 owner normal, 1 owner resigned, 2 transfer running, 3 transfer done. */
  @Column({ type: 'int', default: 0 }) ownerStatus: number;
  /** WeCom's member_version after the last applied change (CurMemVer of the last event or a re-read). */
  @Column({ type: 'varchar', length: 64, nullable: true }) memberVersion: string | null;
  @Column({ type: 'int', default: 0 }) memberCount: number;
  @Column({ type: 'int', default: 0 }) customerCount: number;
  /** The group's create_time (ms). */
  @EpochMs({ nullable: true }) createdAt: number | null;
  @EpochMs({ nullable: true }) dismissedAt: number | null;
  /** Last full read through groupchat/get. */
  @EpochMs({ nullable: true }) syncedAt: number | null;
  @EpochMs() updatedAt: number;
}

export type JoinScene = 'invited' | 'link' | 'qrcode' | 'unknown';
export type QuitScene = 'self' | 'removed' | 'dismissed' | 'unknown';

/** One membership spell: a member joined (and maybe left). Rejoining starts a new row. */
@Entity('customer_group_members')
@Index('uq_group_members_spell', ['chatId', 'memberId', 'joinedAt'], { unique: true })
@Index('idx_group_members_active', ['chatId', 'quitAt'])
export class CustomerGroupMember {
  @PrimaryGeneratedColumn('increment') id: number;
  @Column({ type: 'varchar', length: 64 }) chatId: string;
  /** A corp member's userid (type 1) or a customer's external_userid (type 2). */
  @Index('idx_group_members_member') @Column({ type: 'varchar', length: 64 }) memberId: string;
  @Column({ type: 'int' }) memberType: number;
  @Column({ type: 'varchar', length: 64, nullable: true }) unionid: string | null;
  @EpochMs() joinedAt: number;
  @Column({ type: 'varchar', length: 16, nullable: true }) joinScene: JoinScene | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) invitor: string | null;
  @EpochMs({ nullable: true }) quitAt: number | null;
  @Column({ type: 'varchar', length: 16, nullable: true }) quitScene: QuitScene | null;
}

/** groupchat/statistic_group_by_day for one owner and one China day, kept as history. */
@Entity('customer_group_stats')
export class CustomerGroupStat {
  @PrimaryColumn({ type: 'varchar', length: 64 }) ownerUserid: string;
  /** YYYY-MM-DD (Asia/Shanghai). */
  @PrimaryColumn({ type: 'varchar', length: 10 }) day: string;
  @EpochMs() statTime: number;
  @Column({ type: 'int', default: 0 }) newChatCnt: number;
  @Column({ type: 'int', default: 0 }) chatTotal: number;
  @Column({ type: 'int', default: 0 }) chatHasMsg: number;
  @Column({ type: 'int', default: 0 }) newMemberCnt: number;
  @Column({ type: 'int', default: 0 }) memberTotal: number;
  @Column({ type: 'int', default: 0 }) memberHasMsg: number;
  @Column({ type: 'int', default: 0 }) msgTotal: number;
  @EpochMs() fetchedAt: number;
}
