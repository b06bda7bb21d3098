import type { HttpClient } from './http';
import type {
  Bootstrap,
  CardResponse,
  CategoriesReply,
  CheckReply,
  JssdkConfig,
  LibraryTemplateReply,
  LibraryTemplatesReply,
  LinkBody,
  LinkReply,
  Me,
  NoteBody,
  NoteReply,
  PrepareReply,
  ReferralCodeReply,
  SessionStatus,
  SourceReply,
  StageReply,
  TagsBody,
  TagsReply,
  TemplateInput,
  TemplateQuery,
  TemplatesReply,
  TimelineReply,
  TodoReply,
  TouchBody,
  TouchChannel,
  TouchReply,
} from './types';

/** A key for one write (server: uq_touches_request / uq_follow_notes_request). */
export function requestId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
}

/** Typed calls of /api/sidebar/*; everything goes through the one HttpClient. */
export function createSidebarApi(http: HttpClient) {
  const base = '/api/sidebar';
  const enc = encodeURIComponent;
  return {
    http,
    bootstrap: () => http.request<Bootstrap>(`${base}/bootstrap`, { allowUnauthorized: true }),
    me: () => http.request<Me>(`${base}/me`, { allowUnauthorized: true }),
    /** The boot check: 200 with or without a session (no 401 in the console on a cold open). */
    sessionStatus: () => http.request<SessionStatus>(`${base}/session`, { allowUnauthorized: true }),
    createSession: (code: string) =>
      http.request<Me>(`${base}/session`, { method: 'POST', body: { code }, allowUnauthorized: true }),
    jssdkConfig: (url: string) => http.request<JssdkConfig>(`${base}/jssdk-config`, { query: { url } }),
    card: (externalUserId: string) => http.request<CardResponse>(`${base}/customers/${enc(externalUserId)}`),
    /** Adding and removing are set operations at WeCom, so a replay after re-login is harmless. */
    updateTags: (externalUserId: string, add: string[], remove: string[], what?: string) =>
      http.request<TagsReply>(`${base}/customers/${enc(externalUserId)}/tags`, {
        method: 'POST',
        body: { add, remove } satisfies TagsBody,
        resumable: what ?? '标签修改',
      }),
    addNote: (externalUserId: string, note: NoteBody) =>
      http.request<NoteReply>(`${base}/customers/${enc(externalUserId)}/notes`, {
        method: 'POST',
        body: { ...note, requestId: note.requestId ?? requestId() } satisfies NoteBody,
        resumable: '跟进记录',
      }),
    timeline: (externalUserId: string) =>
      http.request<TimelineReply>(`${base}/customers/${enc(externalUserId)}/timeline`),
    todo: () => http.request<TodoReply>(`${base}/todo`),
    /** Without a customer number the field is left out (the server refuses an empty one). */
    link: (externalUserId: string, proof: LinkBody) =>
      http.request<LinkReply>(`${base}/customers/${enc(externalUserId)}/link`, {
        method: 'POST',
        body: (proof.bankCustomerId
          ? { bankCustomerId: proof.bankCustomerId, phone: proof.phone }
          : { phone: proof.phone }) satisfies LinkBody,
      }),
    /** 生成推荐码: the customer's referral code adding this manager (the same one when asked again). */
    referralCode: (externalUserId: string) =>
      http.request<ReferralCodeReply>(`${base}/customers/${enc(externalUserId)}/referral-code`, {
        method: 'POST',
        body: {},
      }),
    templates: (query: TemplateQuery) =>
      http.request<TemplatesReply>(`${base}/templates`, {
        query: {
          q: query.q,
          stage: query.stage,
          externalUserId: query.externalUserId,
          category: query.category,
          onlyStage: query.onlyStage,
        },
      }),
    templateCategories: () => http.request<CategoriesReply>(`${base}/templates/categories`),
    /** The wording of a usable script, variables unfilled (存为我的话术). */
    templateSource: (id: number) => http.request<SourceReply>(`${base}/templates/${id}/source`),
    /** The exact text to send now, or template_expired / template_retired. */
    prepare: (id: number, externalUserId: string, title?: string) =>
      http.request<PrepareReply>(`${base}/templates/${id}/prepare`, {
        method: 'POST',
        body: { externalUserId },
        // Nothing went out yet: after signing in again the manager is told to press 发送 again.
        notice: `话术${title ? `「${title}」` : ''}没有发出（登录已过期），请重新点击发送`,
      }),
    /** The compliance check of a draft (live, while the manager types). */
    checkTemplate: (input: TemplateInput) =>
      http.request<CheckReply>(`${base}/templates/check`, { method: 'POST', body: input }),
    myTemplates: () => http.request<LibraryTemplatesReply>(`${base}/my-templates`),
    createMyTemplate: (input: TemplateInput) =>
      http.request<LibraryTemplateReply>(`${base}/my-templates`, { method: 'POST', body: input }),
    updateMyTemplate: (id: number, input: TemplateInput) =>
      http.request<LibraryTemplateReply>(`${base}/my-templates/${id}`, { method: 'PUT', body: input }),
    deleteMyTemplate: (id: number) =>
      http.request<LibraryTemplateReply>(`${base}/my-templates/${id}`, { method: 'DELETE' }),
    /** 已发送: the copied script was pasted and sent. */
    confirmTouch: (touchId: number) =>
      http.request<StageReply>(`${base}/touches/${touchId}/confirm`, { method: 'POST', body: {} }),
    setStage: (externalUserId: string, stage: number) =>
      http.request<StageReply>(`${base}/customers/${enc(externalUserId)}/stage`, { method: 'PUT', body: { stage } }),
    /** With a request id: replayed after a re-login, the touch is still recorded once. */
    recordTouch: (externalUserId: string, templateId: number, channel: TouchChannel, title?: string) =>
      http.request<TouchReply>(`${base}/touches`, {
        method: 'POST',
        body: { externalUserId, templateId, channel, requestId: requestId() } satisfies TouchBody,
        resumable: `${channel === 'copy' ? '复制' : '发送'}话术${title ? `「${title}」` : ''}的触达记录`,
      }),
  };
}

export type SidebarApi = ReturnType<typeof createSidebarApi>;
