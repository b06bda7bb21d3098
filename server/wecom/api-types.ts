/**
 * The typed surface of the WeCom server API that the product uses (PROTOCOL.md §5). Implemented by
 * server/wecom/client.ts (axios, DB-shared token cache, errcode policy) and decorated as `app.wecom`.
 * Feature code depends on this interface only, so tests and the sandbox never need a mock.
 */

export interface WecomErrorInfo {
  api: string;
  errcode: number;
  errmsg: string;
}

/** Errors are classified once in the client; callers decide on `kind`, never on raw errcodes alone. */
export type WecomErrorKind =
  | 'config' // 40001/40013 on gettoken, 48002, 48009, 60020, 50001: an operator must fix the admin console
  | 'data' // 60011, 40003, 40096, 84061 …: the request names something that does not exist
  | 'final' // 41051 welcome already sent, 40128 transfer limit, 40129/40100 already in transfer …
  | 'auth' // 40029 OAuth code invalid or reused
  | 'retryable' // -1, 45009, 45033, 41096, network, 5xx after the client's own bounded retries
  | 'unknown';

export interface ExternalContactDetail {
  external_contact: {
    external_userid: string;
    name: string;
    type: number;
    gender?: number;
    avatar?: string;
    unionid?: string;
    corp_name?: string;
    corp_full_name?: string;
  };
  follow_user: {
    userid: string;
    remark?: string;
    description?: string;
    createtime: number;
    state?: string;
    add_way?: number;
    tags?: { group_name: string; tag_name: string; tag_id?: string; type: number }[];
  }[];
  next_cursor?: string;
}

export interface CorpTagGroup {
  group_id: string;
  group_name: string;
  create_time?: number;
  order?: number;
  deleted?: boolean;
  tag: { id: string; name: string; create_time?: number; order?: number; deleted?: boolean }[];
}

export interface TransferResultItem {
  external_userid: string;
  /** 1 done, 2 waiting, 3 refused, 4 takeover full, 5 no record */
  status: number;
  takeover_time?: number;
}

/** groupchat/list item: status 0 owner normal, 1 owner resigned, 2 transfer running, 3 transfer done. */
export interface GroupChatListItem {
  chat_id: string;
  status: number;
}

/** groupchat/get member_list[] element (PROTOCOL-SOP.md §1). join_scene: 1 invited, 2 invite link, 3 group QR. */
export interface GroupChatMember {
  userid: string;
  /** 1 corp member, 2 external contact */
  type: number;
  unionid?: string;
  /** Unix seconds */
  join_time?: number;
  join_scene?: number;
  invitor?: { userid: string };
  group_nickname?: string;
  state?: string;
}

export interface GroupChatDetail {
  chat_id: string;
  name?: string;
  owner: string;
  /** Unix seconds */
  create_time?: number;
  notice?: string;
  member_list: GroupChatMember[];
  admin_list?: { userid: string }[];
  member_version?: string;
}

/** statistic `data` (PROTOCOL-SOP.md §1); every field may be absent. */
export interface GroupStatData {
  new_chat_cnt?: number;
  chat_total?: number;
  chat_has_msg?: number;
  new_member_cnt?: number;
  member_total?: number;
  member_has_msg?: number;
  msg_total?: number;
}

/** add_msg_template (PROTOCOL-SOP.md §3.1): creates a task the sender must confirm in the client. */
export interface MsgTemplateRequest {
  chat_type: 'single' | 'group';
  sender: string;
  external_userid?: string[];
  chat_id_list?: string[];
  text?: { content: string };
  attachments?: unknown[];
}

/** get_groupmsg_task task_list[]: status 0 not sent, 2 sent. */
export interface GroupMsgTaskItem {
  userid: string;
  status: number;
  send_time?: number;
}

/** get_groupmsg_send_result send_list[]: status 0 not sent, 1 sent, 2 not a friend, 3 over the cap. */
export interface GroupMsgSendItem {
  external_userid?: string;
  chat_id?: string;
  userid: string;
  status: number;
  send_time?: number;
}

/** get_groupmsg_list_v2 group_msg_list[]: `creator` is absent for tasks the API created. */
export interface GroupMsgListItem {
  msgid: string;
  creator?: string;
  create_time: number;
  /** 0 corp-created, 1 member-created. */
  create_type: number;
  text?: { content?: string };
}

/** get_moment_list moment_list[] (the fields we read): `creator` is absent for API-created moments. */
export interface MomentListItem {
  moment_id: string;
  creator?: string;
  create_time: number;
  create_type: number;
  text?: { content?: string };
}

export interface WecomApi {
  getUserInfo(
    code: string,
  ): Promise<{ userid?: string; user_ticket?: string; openid?: string; external_userid?: string }>;
  getUser(
    userid: string,
  ): Promise<{ userid: string; name?: string; department?: number[]; status?: number; main_department?: number }>;
  listDepartments(id?: number): Promise<{ id: number; name?: string; parentid: number; order?: number }[]>;
  getExternalContact(externalUserid: string): Promise<ExternalContactDetail>;
  batchGetByUser(
    userids: string[],
    cursor?: string,
    limit?: number,
  ): Promise<{
    external_contact_list: {
      external_contact: ExternalContactDetail['external_contact'];
      follow_info: { userid: string; createtime: number; state?: string; tag_id?: string[]; remark?: string };
    }[];
    next_cursor?: string;
  }>;
  getFollowUserList(): Promise<string[]>;
  getCorpTagList(opts?: { tag_id?: string[]; group_id?: string[] }): Promise<CorpTagGroup[]>;
  addCorpTag(req: {
    group_id?: string;
    group_name?: string;
    order?: number;
    tag: { name: string; order?: number }[];
  }): Promise<CorpTagGroup>;
  markTag(req: { userid: string; external_userid: string; add_tag?: string[]; remove_tag?: string[] }): Promise<void>;
  remark(req: { userid: string; external_userid: string; remark?: string; description?: string }): Promise<void>;
  sendWelcomeMsg(req: { welcome_code: string; text?: { content: string }; attachments?: unknown[] }): Promise<void>;
  addContactWay(req: {
    type: 1 | 2;
    scene: 1 | 2;
    user?: string[];
    party?: number[];
    state?: string;
    remark?: string;
    skip_verify?: boolean;
    is_temp?: boolean;
  }): Promise<{ config_id: string; qr_code?: string }>;
  delContactWay(configId: string): Promise<void>;
  transferCustomer(req: {
    handover_userid: string;
    takeover_userid: string;
    external_userid: string[];
    transfer_success_msg?: string;
  }): Promise<{ external_userid: string; errcode: number }[]>;
  transferResult(req: {
    handover_userid: string;
    takeover_userid: string;
    cursor?: string;
  }): Promise<{ customer: TransferResultItem[]; next_cursor?: string }>;
  resignedTransferCustomer(req: {
    handover_userid: string;
    takeover_userid: string;
    external_userid: string[];
  }): Promise<{ external_userid: string; errcode: number }[]>;
  resignedTransferResult(req: {
    handover_userid: string;
    takeover_userid: string;
    cursor?: string;
  }): Promise<{ customer: TransferResultItem[]; next_cursor?: string }>;
  sendMessage(
    req:
      | { touser: string; msgtype: 'text'; agentid: number; text: { content: string }; safe?: 0 | 1 }
      | {
          touser: string;
          msgtype: 'textcard';
          agentid: number;
          /** description: WeCom renders a small subset of HTML (div class gray/normal/highlight). */
          textcard: { title: string; description: string; url: string; btntxt?: string };
          /** Merge identical messages to one member within this window (seconds). */
          enable_duplicate_check?: 0 | 1;
          duplicate_check_interval?: number;
        },
  ): Promise<{ invaliduser?: string; msgid?: string }>;
  /** groupchat/list, one page. `owner_filter` is always sent (without it WeCom may answer 81017). */
  listGroupChats(req: {
    ownerUserids: string[];
    statusFilter?: number;
    cursor?: string;
    limit?: number;
  }): Promise<{ group_chat_list: GroupChatListItem[]; next_cursor?: string }>;
  /** groupchat/get without names (need_name=0: we never store customers' names from groups). */
  getGroupChat(chatId: string): Promise<GroupChatDetail>;
  /** groupchat/statistic_group_by_day for one or more owners (totals across them); days are 00:00 CST, Unix seconds. */
  groupStatisticByDay(req: {
    dayBeginTime: number;
    dayEndTime: number;
    ownerUserids: string[];
  }): Promise<{ stat_time: number; data: GroupStatData }[]>;
  addMsgTemplate(req: MsgTemplateRequest): Promise<{ msgid: string; fail_list: string[] }>;
  getGroupmsgTask(req: {
    msgid: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ task_list: GroupMsgTaskItem[]; next_cursor?: string }>;
  getGroupmsgSendResult(req: {
    msgid: string;
    userid: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ send_list: GroupMsgSendItem[]; next_cursor?: string }>;
  /** get_groupmsg_list_v2, one page: times in Unix seconds, span ≤ 1 month; filter_type 0 = corp-created. */
  listGroupmsg(req: {
    chat_type: 'single' | 'group';
    start_time: number;
    end_time: number;
    filter_type?: 0 | 1 | 2;
    cursor?: string;
    limit?: number;
  }): Promise<{ group_msg_list: GroupMsgListItem[]; next_cursor?: string }>;
  /** ≤ 3 per msgid per 24 h (41094 beyond). */
  remindGroupmsgSend(msgid: string): Promise<void>;
  /** 41093 once cancelled. */
  cancelGroupmsgSend(msgid: string): Promise<void>;
  /** Asynchronous: a jobid (valid 24 h); ≤ 10 creations per minute per corp. */
  addMomentTask(req: {
    text?: { content: string };
    attachments?: unknown[];
    visible_range: { sender_list?: { user_list?: string[] }; external_contact_list?: { tag_list?: string[] } };
  }): Promise<{ jobid: string }>;
  /** status 1 started, 2 running, 3 done (result valid then). */
  getMomentTaskResult(jobid: string): Promise<{
    status: number;
    result?: { errcode?: number; errmsg?: string; moment_id?: string; invalid_sender_list?: { user_list?: string[] } };
  }>;
  getMomentTask(req: {
    moment_id: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ task_list: { userid: string; publish_status: number }[]; next_cursor?: string }>;
  cancelMomentTask(momentId: string): Promise<void>;
  /** get_moment_list, one page: times in Unix seconds, span ≤ 30 days; limit ≤ 20 (the stricter doc). */
  listMoments(req: {
    start_time: number;
    end_time: number;
    filter_type?: 0 | 1 | 2;
    cursor?: string;
    limit?: number;
  }): Promise<{ moment_list: MomentListItem[]; next_cursor?: string }>;
  /** Corp jsapi ticket (cached in the DB like tokens); never sent to a browser. */
  getJsapiTicket(): Promise<string>;
  /** App (agent_config) ticket. */
  getAgentTicket(): Promise<string>;
}
