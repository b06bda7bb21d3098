import { randomBytes } from 'node:crypto';
import axios from 'axios';
import type { FastifyInstance } from 'fastify';
import { WecomCrypto } from '../wecom/crypto';
import { eventXml, textMessageXml, XmlField } from './event-xml';
import type { FakeWecom } from './fake-wecom';
import type { Sandbox } from './state';

/**
 * The sandbox's WeCom: builds callback plaintexts as WeCom does (PROTOCOL.md §4), seals them with
 * the app's token/EncodingAESKey (signed + encrypted) and POSTs them to the real /wecom/callback
 * route, keeping the fake API's state consistent (an added contact answers externalcontact/get, a
 * welcome code is accepted for 20 s, …).
 *
 * Each action takes a target: the FastifyInstance (in-process, through app.inject) or the base URL of
 * a running sandbox server (the action then runs inside that server via POST /sandbox/simulate/…,
 * since only it knows its generated callback credentials).
 */

export type SimulatorTarget = FastifyInstance | string;

export interface SimResult {
  action: string;
  /** HTTP status and body the callback route answered. */
  status: number;
  body: string;
  /** The plaintext event (no secrets in it; welcome codes are short-lived sandbox codes). */
  plaintext: string;
  externalUserId?: string;
  userid?: string;
  welcomeCode?: string;
  tagId?: string;
  note?: string;
}

export interface CallbackCredentials {
  corpId: string;
  token: string;
  aesKey: string;
  agentId: string;
}

/** Seals `plaintext` and POSTs it to `<baseUrl>/wecom/callback` over HTTP (any server with these credentials). */
export async function deliverCallbackHttp(
  baseUrl: string,
  creds: CallbackCredentials,
  plaintext: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<{ status: number; body: string }> {
  const sealed = new WecomCrypto(creds.token, creds.aesKey, creds.corpId).sealedCallback(plaintext, {
    timestamp: String(timestamp),
    agentId: creds.agentId,
  });
  const res = await axios.post(`${baseUrl.replace(/\/+$/, '')}/wecom/callback`, sealed.body, {
    params: sealed.query,
    headers: { 'Content-Type': 'text/xml' },
    responseType: 'text',
    validateStatus: () => true,
    transformResponse: (d) => d,
  });
  return { status: res.status, body: String(res.data) };
}

/** Seals `plaintext` with the app's own credentials and injects it into its /wecom/callback route. */
export async function deliverCallback(
  app: FastifyInstance,
  plaintext: string,
): Promise<{ status: number; body: string }> {
  const w = app.config.wecom;
  const sealed = new WecomCrypto(w.token, w.aesKey, w.corpId).sealedCallback(plaintext, {
    timestamp: String(Math.floor(app.now() / 1000)),
    agentId: w.agentId,
  });
  const res = await app.inject({
    method: 'POST',
    url: '/wecom/callback',
    query: sealed.query,
    headers: { 'content-type': 'text/xml' },
    payload: sealed.body,
  });
  return { status: res.statusCode, body: res.body };
}

function sandboxOf(app: FastifyInstance): Sandbox {
  if (!app.sandbox) throw new Error('the sandbox is not active (WECOM_SANDBOX is off)');
  return app.sandbox;
}

async function remote<T extends object>(baseUrl: string, action: string, opts: T): Promise<SimResult> {
  const res = await axios.post(`${baseUrl.replace(/\/+$/, '')}/sandbox/simulate/${action}`, opts, {
    validateStatus: () => true,
  });
  if (res.status !== 200) {
    const msg = (res.data as { error?: { message?: string } })?.error?.message ?? `HTTP ${res.status}`;
    throw new Error(`sandbox simulate ${action} failed: ${msg}`);
  }
  return res.data as SimResult;
}

async function send(
  app: FastifyInstance,
  action: string,
  plaintext: string,
  extra: Partial<SimResult>,
): Promise<SimResult> {
  const r = await deliverCallback(app, plaintext);
  return { action, status: r.status, body: r.body, plaintext, ...extra };
}

const nowS = (app: FastifyInstance) => Math.floor(app.now() / 1000);

function requireMember(fake: FakeWecom, userid: string) {
  if (!fake.users.has(userid)) throw new SimulationError(`no sandbox member ${userid}`);
}

export class SimulationError extends Error {
  readonly statusCode = 400;
}

// ---------------- actions ----------------

export interface AddContactOptions {
  userid: string;
  /** Existing external contact; a new one is made up when absent. */
  externalUserId?: string;
  /** WeChat nickname for a new contact. */
  name?: string;
  /** Contact-way state (≤ 30 chars), e.g. the allocation's state. */
  state?: string;
  /** Default true: the event carries a WelcomeCode that the fake accepts for 20 s. */
  welcomeCode?: boolean;
  /** add_half_external_contact instead of add_external_contact. */
  half?: boolean;
  /**
   * A phone the manager noted on the contact (remark_mobiles), e.g. the demo customer's made-up
   * number: the add handler matches the bank customer by it.
   */
  phone?: string;
}

export async function simulateAddContact(target: SimulatorTarget, opts: AddContactOptions): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'add-contact', opts);
  const { fake } = sandboxOf(target);
  requireMember(fake, opts.userid);
  if (opts.state !== undefined && opts.state.length > 30)
    throw new SimulationError('state must be at most 30 characters');
  const externalUserId = opts.externalUserId || fake.newExternalUserid();
  const existing = fake.contacts.get(externalUserId);
  const contact = existing ?? {
    external_userid: externalUserId,
    name: opts.name || `访客${randomBytes(2).toString('hex')}`,
    type: 1,
    gender: 0,
    avatar: '',
  };
  if (opts.phone !== undefined && !/^\+?\d{5,20}$/.test(opts.phone))
    throw new SimulationError('phone must be 5 to 20 digits');
  fake.addFollow(contact, opts.userid, { state: opts.state, remarkMobiles: opts.phone ? [opts.phone] : undefined });
  const welcomeCode = opts.welcomeCode === false ? undefined : fake.issueWelcomeCode(opts.userid, externalUserId);
  const fields: XmlField[] = [
    ['UserID', opts.userid],
    ['ExternalUserID', externalUserId],
    ['State', opts.state || undefined],
    ['WelcomeCode', welcomeCode],
  ];
  const xml = eventXml(
    fake.corpId,
    nowS(target),
    'change_external_contact',
    opts.half ? 'add_half_external_contact' : 'add_external_contact',
    fields,
  );
  return send(target, 'add-contact', xml, { externalUserId, userid: opts.userid, welcomeCode });
}

export interface PairOptions {
  userid: string;
  externalUserId: string;
}

/** The customer deleted the manager (del_follow_user): churn. */
export async function simulateCustomerDeletesManager(target: SimulatorTarget, opts: PairOptions): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'customer-deletes-manager', opts);
  const { fake } = sandboxOf(target);
  requireMember(fake, opts.userid);
  const had = fake.markDeletedByCustomer(opts.externalUserId, opts.userid);
  const xml = eventXml(fake.corpId, nowS(target), 'change_external_contact', 'del_follow_user', [
    ['UserID', opts.userid],
    ['ExternalUserID', opts.externalUserId],
  ]);
  return send(target, 'customer-deletes-manager', xml, {
    externalUserId: opts.externalUserId,
    userid: opts.userid,
    note: had ? undefined : 'no such relation in the fake; event sent anyway',
  });
}

/** The manager deleted the customer (del_external_contact); `byTransfer` = an on-job transfer completed. */
export async function simulateManagerDeletesCustomer(
  target: SimulatorTarget,
  opts: PairOptions & { byTransfer?: boolean },
): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'manager-deletes-customer', opts);
  const { fake } = sandboxOf(target);
  requireMember(fake, opts.userid);
  let note: string | undefined;
  if (opts.byTransfer) {
    const done = fake.completeTransfers(
      true,
      (t) => t.external_userid === opts.externalUserId && t.handover_userid === opts.userid,
    );
    if (!done.length) {
      fake.removeFollow(opts.externalUserId, opts.userid);
      note = 'no waiting transfer in the fake; relation removed';
    } else note = `transfer to ${done[0].takeover_userid} completed`;
  } else if (!fake.removeFollow(opts.externalUserId, opts.userid))
    note = 'no such relation in the fake; event sent anyway';
  const xml = eventXml(fake.corpId, nowS(target), 'change_external_contact', 'del_external_contact', [
    ['UserID', opts.userid],
    ['ExternalUserID', opts.externalUserId],
    ['Source', opts.byTransfer ? 'DELETE_BY_TRANSFER' : undefined],
  ]);
  return send(target, 'manager-deletes-customer', xml, {
    externalUserId: opts.externalUserId,
    userid: opts.userid,
    note,
  });
}

/** The customer refused an on-job transfer (transfer_fail, customer_refused); UserID is the takeover member. */
export async function simulateTransferRefused(
  target: SimulatorTarget,
  opts: { takeoverUserid: string; externalUserId: string; reason?: 'customer_refused' | 'customer_limit_exceed' },
): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'transfer-refused', opts);
  const { fake } = sandboxOf(target);
  requireMember(fake, opts.takeoverUserid);
  const t = fake.refuseTransfer(opts.externalUserId, opts.takeoverUserid);
  const xml = eventXml(fake.corpId, nowS(target), 'change_external_contact', 'transfer_fail', [
    ['FailReason', opts.reason ?? 'customer_refused'],
    ['UserID', opts.takeoverUserid],
    ['ExternalUserID', opts.externalUserId],
  ]);
  return send(target, 'transfer-refused', xml, {
    externalUserId: opts.externalUserId,
    userid: opts.takeoverUserid,
    note: t
      ? `transfer from ${t.handover_userid} marked refused`
      : 'no waiting transfer in the fake; event sent anyway',
  });
}

/** A corp tag changed in the admin console (change_external_tag); the fake's tag library changes too. */
export async function simulateTagChanged(
  target: SimulatorTarget,
  opts: { changeType: 'create' | 'update' | 'delete'; tagId?: string; name?: string; groupId?: string },
): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'tag-changed', opts);
  const { fake } = sandboxOf(target);
  let tagId = opts.tagId;
  if (opts.changeType === 'create') {
    const group = fake.tagGroups.find((g) => g.group_id === (opts.groupId ?? 'etsbxgrp_event')) ?? fake.tagGroups[0];
    if (!group) throw new SimulationError('the fake has no tag group');
    tagId = `etsbxsim${randomBytes(6).toString('hex')}`;
    group.tag.push({
      id: tagId,
      name: opts.name || `新活动${group.tag.length + 1}`,
      create_time: nowS(target),
      order: group.tag.length + 1,
    });
  } else {
    const group = fake.tagGroups.find((g) => g.tag.some((t) => t.id === opts.tagId));
    if (!group || !opts.tagId) throw new SimulationError(`no corp tag ${opts.tagId ?? '(missing tagId)'}`);
    if (opts.changeType === 'delete') group.tag = group.tag.filter((t) => t.id !== opts.tagId);
    else {
      const tag = group.tag.find((t) => t.id === opts.tagId);
      if (tag && opts.name) tag.name = opts.name;
    }
  }
  const xml = eventXml(fake.corpId, nowS(target), 'change_external_tag', opts.changeType, [
    ['Id', tagId],
    ['TagType', 'tag'],
  ]);
  return send(target, 'tag-changed', xml, { tagId });
}

/** A member wrote a text message to the app. */
export async function simulateTextMessage(
  target: SimulatorTarget,
  opts: { userid: string; content: string },
): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'text-message', opts);
  const { fake } = sandboxOf(target);
  requireMember(fake, opts.userid);
  if (!opts.content) throw new SimulationError('content is required');
  const xml = textMessageXml(fake.corpId, nowS(target), opts.userid, opts.content, fake.agentId);
  return send(target, 'text-message', xml, { userid: opts.userid });
}

export interface GroupMembersOptions {
  chatId: string;
  action: 'join' | 'quit';
  /** userids or external_userids */
  ids: string[];
  /** join: groupchat/get codes (1 invited, 2 invite link, 3 QR code; default 3). */
  scene?: number;
  /** quit: 0 left by themselves (default), 1 removed by the owner. */
  quitScene?: 0 | 1;
  /** false: change the fake but do not deliver the event (a lost callback). */
  deliver?: boolean;
}

const itemList = (ids: string[]) => ({
  bare: ids.map((id) => `<Item><![CDATA[${id.replace(/]]>/g, '')}]]></Item>`).join(''),
});

/**
 * Members join or leave a customer group (change_external_chat / update / add_member|del_member)
 * with the LastMemVer/CurMemVer the fake's group moved between. The callback's JoinScene codes
 * differ from groupchat/get's (0 invited or link, 3 QR code).
 */
export async function simulateGroupMembers(target: SimulatorTarget, opts: GroupMembersOptions): Promise<SimResult> {
  if (typeof target === 'string') return remote(target, 'group-members', opts);
  const { fake } = sandboxOf(target);
  if (!opts.ids?.length) throw new SimulationError('ids are required');
  const g = fake.groups.get(opts.chatId);
  if (!g || g.dismissed) throw new SimulationError(`no sandbox group ${opts.chatId}`);
  const join = opts.action === 'join';
  const scene = opts.scene ?? 3;
  const v = join ? fake.joinGroup(opts.chatId, opts.ids, scene) : fake.quitGroup(opts.chatId, opts.ids);
  const fields: XmlField[] = [
    ['ChatId', opts.chatId],
    ['UpdateDetail', join ? 'add_member' : 'del_member'],
    join ? ['JoinScene', scene === 3 ? 3 : 0] : ['QuitScene', opts.quitScene ?? 0],
    ['MemChangeCnt', opts.ids.length],
    ['MemChangeList', itemList(opts.ids)],
    ['LastMemVer', v.lastMemVer],
    ['CurMemVer', v.curMemVer],
  ];
  const xml = eventXml(fake.corpId, v.at, 'change_external_chat', 'update', fields);
  if (opts.deliver === false)
    return { action: 'group-members', status: 0, body: '', plaintext: xml, note: 'not delivered' };
  return send(target, 'group-members', xml, {});
}

/** Action name → function, for the page's and the CLI's dispatch. */
export const SIMULATIONS = {
  'add-contact': simulateAddContact,
  'customer-deletes-manager': simulateCustomerDeletesManager,
  'manager-deletes-customer': simulateManagerDeletesCustomer,
  'transfer-refused': simulateTransferRefused,
  'tag-changed': simulateTagChanged,
  'text-message': simulateTextMessage,
  'group-members': simulateGroupMembers,
} as const;

export type SimulationName = keyof typeof SIMULATIONS;
