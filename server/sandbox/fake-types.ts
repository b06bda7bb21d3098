/** In-memory state of the fake WeCom corp (the sandbox). Shapes follow the API answers. */

export interface FakeUser {
  userid: string;
  name: string;
  department: number[];
  main_department: number;
  position?: string;
  /** 1 active, 2 disabled, 4 not activated, 5 left */
  status: number;
}

export interface FakeDepartment {
  id: number;
  name: string;
  parentid: number;
  order: number;
}

export interface FakeContact {
  external_userid: string;
  name: string;
  /** 1 WeChat, 2 WeCom */
  type: number;
  gender: number;
  avatar?: string;
  unionid?: string;
  corp_name?: string;
  corp_full_name?: string;
}

export interface FakeFollow {
  userid: string;
  external_userid: string;
  remark: string;
  description: string;
  /** Unix seconds */
  createtime: number;
  state?: string;
  add_way: number;
  tag_ids: string[];
  /** Phones the manager noted on the contact (follow_user[].remark_mobiles). */
  remark_mobiles?: string[];
  /** The customer deleted the manager (one-way relation, still usable by API). */
  deletedByCustomer?: boolean;
}

export interface FakeTag {
  id: string;
  name: string;
  create_time: number;
  order: number;
}

export interface FakeTagGroup {
  group_id: string;
  group_name: string;
  create_time: number;
  order: number;
  tag: FakeTag[];
}

export interface FakeTransfer {
  kind: 'onjob' | 'resigned';
  handover_userid: string;
  takeover_userid: string;
  external_userid: string;
  /** ms */
  at: number;
  /** 1 done, 2 waiting, 3 refused, 4 takeover full */
  status: number;
  takeover_time?: number;
}

export interface FakeContactWay {
  config_id: string;
  type: number;
  scene: number;
  user: string[];
  party: number[];
  state?: string;
  remark?: string;
  qr_code?: string;
  deleted: boolean;
}

export interface FakeGroupMember {
  userid: string;
  /** 1 corp member, 2 external contact */
  type: number;
  unionid?: string;
  /** Unix seconds */
  join_time: number;
  /** groupchat/get codes: 1 invited directly, 2 invite link, 3 group QR code */
  join_scene: number;
  invitor?: { userid: string };
}

/** A customer group (客户群) of the fake corp. */
export interface FakeGroup {
  chat_id: string;
  name: string;
  owner: string;
  /** Unix seconds */
  create_time: number;
  notice?: string;
  members: FakeGroupMember[];
  member_version: string;
  dismissed?: boolean;
}

export interface FakeSeed {
  users: FakeUser[];
  departments: FakeDepartment[];
  contacts: FakeContact[];
  follows: FakeFollow[];
  tagGroups: FakeTagGroup[];
  groups: FakeGroup[];
}

/** One request the fake received, as shown on the sandbox page and asserted in tests. */
export interface FakeCall {
  seq: number;
  /** ms */
  at: number;
  method: string;
  /** `/cgi-bin/<api>` */
  path: string;
  api: string;
  /** Query without access_token / corpsecret. */
  query: Record<string, string>;
  /** Body without secrets (welcome codes shortened). */
  body: unknown;
  errcode: number;
  errmsg: string;
  /** For gettoken / tickets: which secret ('agent' | 'contact') was used, never its value. */
  secret?: string;
}

export interface SentMessage {
  at: number;
  touser: string;
  /** text: the text; textcard: title + newline + description. */
  content: string;
  msgid: string;
  msgtype?: 'text' | 'textcard';
  /** textcard: the link the card opens. */
  url?: string;
}

export interface SentWelcome {
  at: number;
  userid: string;
  external_userid: string;
  content?: string;
  attachments: number;
}
