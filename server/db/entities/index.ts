import {
  Allocation,
  ContactWay,
  EntryRequestRow,
  ManagerSlot,
  RuleSetRow,
  Transfer,
  WelcomeMessage,
} from './allocation';
import { Campaign, CampaignEnrollment, Referral, ReferralCode, RewardOutbox } from './campaigns';
import { ContactTag, CorpTag, Customer, ExternalContact, Follow } from './customers';
import { CustomerGroup, CustomerGroupMember, CustomerGroupStat } from './groups';
import { InboxEvent } from './inbox';
import { Branch, Manager } from './org';
import { Outcome } from './outcomes';
import { ScriptTemplate, SensitiveWord, Touch } from './playbook';
import { SopMomentJob, SopOccurrence, SopPlan, SopPlanVersion, SopTarget, SopTask } from './sop';
import { AuditEntry, CachedSecret, CacheVersion, JobLease } from './system';
import { CustomerHolding, FollowNote, TodoReminder } from './workbench';

export * from './allocation';
export * from './campaigns';
export * from './customers';
export * from './groups';
export * from './inbox';
export * from './org';
export * from './outcomes';
export * from './playbook';
export * from './sop';
export * from './system';
export * from './workbench';

/** Every entity the DataSource knows; a new table adds its class here and a migration. */
export const entities = [
  InboxEvent,
  CachedSecret,
  CacheVersion,
  JobLease,
  AuditEntry,
  Branch,
  Manager,
  Customer,
  ExternalContact,
  Follow,
  CorpTag,
  ContactTag,
  Allocation,
  RuleSetRow,
  ContactWay,
  Transfer,
  WelcomeMessage,
  ScriptTemplate,
  Touch,
  SensitiveWord,
  CustomerHolding,
  FollowNote,
  TodoReminder,
  Outcome,
  CustomerGroup,
  CustomerGroupMember,
  CustomerGroupStat,
  Campaign,
  CampaignEnrollment,
  RewardOutbox,
  ReferralCode,
  Referral,
  EntryRequestRow,
  ManagerSlot,
  SopPlan,
  SopPlanVersion,
  SopOccurrence,
  SopTask,
  SopTarget,
  SopMomentJob,
];
