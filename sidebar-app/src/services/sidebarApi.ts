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
  PrepareReply,
  ReferralCodeReply,
  SourceReply,
  StageReply,
  TagsBody,
  TagsReply,
  TemplateInput,
  TemplateQuery,
  TemplatesReply,
  TouchBody,
  TouchChannel,
  TouchReply,
} from './types';

/** Typed calls of /api/sidebar/*; everything goes through the one HttpClient. */
export function createSidebarApi(http: HttpClient) {
  const base = '/api/sidebar';
  const enc = encodeURIComponent;
  return {
    http,
    bootstrap: () => http.request<Bootstrap>(`${base}/bootstrap`, { allowUnauthorized: true }),
    me: () => http.request<Me>(`${base}/me`, { allowUnauthorized: true }),
    createSession: (code: string) =>
      http.request<Me>(`${base}/session`, { method: 'POST', body: { code }, allowUnauthorized: true }),
    jssdkConfig: (url: string) => http.request<JssdkConfig>(`${base}/jssdk-config`, { query: { url } }),
    card: (externalUserId: string) => http.request<CardResponse>(`${base}/customers/${enc(externalUserId)}`),
    updateTags: (externalUserId: string, add: string[], remove: string[]) =>
      http.request<TagsReply>(`${base}/customers/${enc(externalUserId)}/tags`, {
        method: 'POST',
        body: { add, remove } satisfies TagsBody,
      }),
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
    prepare: (id: number, externalUserId: string) =>
      http.request<PrepareReply>(`${base}/templates/${id}/prepare`, { method: 'POST', body: { externalUserId } }),
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
    recordTouch: (externalUserId: string, templateId: number, channel: TouchChannel) =>
      http.request<TouchReply>(`${base}/touches`, {
        method: 'POST',
        body: { externalUserId, templateId, channel } satisfies TouchBody,
      }),
  };
}

export type SidebarApi = ReturnType<typeof createSidebarApi>;
