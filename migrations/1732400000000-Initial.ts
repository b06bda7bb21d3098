import { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

const tables = [
  table(
    'inbox',
    {
      id: 'int pk increment',
      dedup_key: 'varchar(64)',
      received_at: 'bigint',
      sent_at: 'bigint',
      msg_type: 'varchar(32) null',
      event: 'varchar(64) null',
      change_type: 'varchar(64) null',
      payload: 'text',
      status: 'varchar(16)',
      attempts: 'int default(0)',
      next_attempt_at: 'bigint',
      locked_by: 'varchar(64) null',
      locked_until: 'bigint null',
      last_error: 'text null',
      processed_at: 'bigint null',
    },
    [
      { name: 'uq_inbox_dedup', columns: ['dedup_key'], unique: true },
      { name: 'idx_inbox_claim', columns: ['status', 'next_attempt_at'] },
    ],
  ),
  table('secrets_cache', {
    name: 'varchar(64) pk',
    value: 'text null',
    expires_at: 'bigint null',
    lease_holder: 'varchar(64) null',
    lease_until: 'bigint null',
    updated_at: 'bigint',
  }),
  table('job_leases', { name: 'varchar(64) pk', holder: 'varchar(64)', until: 'bigint' }),
  table(
    'audit_log',
    {
      id: 'int pk increment',
      at: 'bigint',
      actor: 'varchar(64)',
      action: 'varchar(64)',
      subject: 'varchar(128)',
      detail: 'text null',
    },
    [{ name: 'idx_audit_subject', columns: ['subject', 'at'] }],
  ),
  table('branches', {
    code: 'varchar(32) pk',
    name: 'varchar(128)',
    parent_code: 'varchar(32) null',
    region_code: 'varchar(32) null',
    lat: 'double',
    lng: 'double',
    active: 'boolean default(true)',
    updated_at: 'bigint',
  }),
  table(
    'managers',
    {
      userid: 'varchar(64) pk',
      name: 'varchar(64)',
      branch_code: 'varchar(32) null',
      role: "varchar(16) default('manager')",
      capacity: 'int default(0)',
      status: "varchar(16) default('active')",
      accepting: 'boolean default(true)',
      skills: "varchar(255) default('')",
      updated_at: 'bigint',
    },
    [{ name: 'idx_managers_branch', columns: ['branch_code'] }],
  ),
  table(
    'customers',
    {
      id: 'varchar(64) pk',
      masked_name: "varchar(64) default('')",
      phone_hash: 'varchar(64) null',
      segment: 'varchar(16) null',
      owner_userid: 'varchar(64) null',
      lat: 'double null',
      lng: 'double null',
      region_code: 'varchar(32) null',
      bank_tags: 'text null',
      created_at: 'bigint',
      updated_at: 'bigint',
    },
    [
      { name: 'idx_customers_phone', columns: ['phone_hash'] },
      { name: 'idx_customers_owner', columns: ['owner_userid'] },
    ],
  ),
  table(
    'external_contacts',
    {
      external_userid: 'varchar(64) pk',
      customer_id: 'varchar(64) null',
      unionid: 'varchar(64) null',
      name: "varchar(64) default('')",
      type: 'int default(1)',
      gender: 'int default(0)',
      avatar: 'varchar(512) null',
      matched_by: 'varchar(16) null',
      created_at: 'bigint',
      updated_at: 'bigint',
    },
    [
      { name: 'idx_external_contacts_customer', columns: ['customer_id'] },
      { name: 'idx_external_contacts_unionid', columns: ['unionid'] },
    ],
  ),
  table(
    'follows',
    {
      id: 'int pk increment',
      external_userid: 'varchar(64)',
      userid: 'varchar(64)',
      state: 'varchar(64) null',
      remark: 'varchar(128) null',
      added_at: 'bigint',
      deleted_at: 'bigint null',
      deleted_by: 'varchar(16) null',
      half: 'boolean default(false)',
    },
    [
      { name: 'uq_follows_pair', columns: ['external_userid', 'userid'], unique: true },
      { name: 'idx_follows_user', columns: ['userid', 'deleted_at'] },
    ],
  ),
  table('tags', {
    id: 'varchar(64) pk',
    group_id: 'varchar(64)',
    group_name: 'varchar(64)',
    name: 'varchar(64)',
    sort_order: 'int default(0)',
    deleted: 'boolean default(false)',
    updated_at: 'bigint',
  }),
  table('contact_tags', {
    external_userid: 'varchar(64) pk',
    userid: 'varchar(64) pk',
    tag_id: 'varchar(64) pk',
    created_at: 'bigint',
  }),
  table(
    'allocations',
    {
      id: 'varchar(32) pk',
      customer_id: 'varchar(64) null',
      external_userid: 'varchar(64) null',
      userid: 'varchar(64) null',
      branch_code: 'varchar(32) null',
      rule_version: 'varchar(64)',
      source: 'varchar(16)',
      reason: 'varchar(32)',
      distance_meters: 'double null',
      explanation: 'text',
      status: 'varchar(16)',
      campaign: 'varchar(64) null',
      state: 'varchar(32) null',
      config_id: 'varchar(64) null',
      qr_code: 'varchar(512) null',
      created_at: 'bigint',
      confirmed_at: 'bigint null',
      expires_at: 'bigint null',
    },
    [
      { name: 'idx_allocations_customer', columns: ['customer_id', 'status'] },
      { name: 'idx_allocations_created', columns: ['created_at'] },
      { name: 'idx_allocations_external', columns: ['external_userid'] },
      { name: 'idx_allocations_state', columns: ['state'] },
    ],
  ),
  table('rule_sets', {
    version: 'varchar(64) pk',
    body: 'text',
    author: 'varchar(64)',
    created_at: 'bigint',
    active: 'boolean default(false)',
    activated_at: 'bigint null',
  }),
  table(
    'contact_ways',
    {
      config_id: 'varchar(64) pk',
      userid: 'varchar(64)',
      state: 'varchar(32)',
      purpose: 'varchar(32)',
      qr_code: 'varchar(512) null',
      allocation_id: 'varchar(32) null',
      created_at: 'bigint',
      deleted_at: 'bigint null',
    },
    [{ name: 'idx_contact_ways_state', columns: ['state'] }],
  ),
  table(
    'transfers',
    {
      id: 'int pk increment',
      external_userid: 'varchar(64)',
      handover_userid: 'varchar(64)',
      takeover_userid: 'varchar(64)',
      kind: 'varchar(16)',
      status: 'varchar(16)',
      errcode: 'int null',
      reason: 'varchar(64) null',
      requested_at: 'bigint',
      updated_at: 'bigint',
      takeover_time: 'bigint null',
    },
    [
      { name: 'idx_transfers_external', columns: ['external_userid', 'requested_at'] },
      { name: 'idx_transfers_status', columns: ['status'] },
    ],
  ),
  table('welcome_messages', {
    code_hash: 'varchar(64) pk',
    external_userid: 'varchar(64)',
    userid: 'varchar(64)',
    template_id: 'int null',
    status: 'varchar(16)',
    errcode: 'int null',
    event_at: 'bigint',
    sent_at: 'bigint null',
  }),
  table(
    'script_templates',
    {
      id: 'int pk increment',
      title: 'varchar(128)',
      content: 'text',
      stage: 'int',
      segments: "varchar(255) default('')",
      product: 'varchar(64) null',
      variant: 'varchar(16) null',
      owner_userid: 'varchar(64) null',
      status: 'varchar(16)',
      expires_at: 'bigint null',
      disclaimer: 'text null',
      attachments: 'text null',
      is_welcome: 'boolean default(false)',
      created_by: "varchar(64) default('system')",
      created_at: 'bigint',
      updated_at: 'bigint',
    },
    [
      { name: 'idx_templates_stage', columns: ['status', 'stage'] },
      { name: 'idx_templates_owner', columns: ['owner_userid'] },
    ],
  ),
  table(
    'touches',
    {
      id: 'int pk increment',
      external_userid: 'varchar(64)',
      userid: 'varchar(64)',
      template_id: 'int null',
      stage: 'int',
      channel: 'varchar(16)',
      sent_at: 'bigint',
    },
    [
      { name: 'idx_touches_contact', columns: ['external_userid', 'sent_at'] },
      { name: 'idx_touches_user', columns: ['userid', 'sent_at'] },
    ],
  ),
];

export class Initial1732400000000 implements MigrationInterface {
  name = 'Initial1732400000000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of tables) {
      await q.createTable(t.table, true);
      for (const i of t.indices) await q.createIndex(t.table.name, i);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [...tables].reverse()) await q.dropTable(t.table.name, true);
  }
}
