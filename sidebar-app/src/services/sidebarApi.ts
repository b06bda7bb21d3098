import type { HttpClient } from './http';
import type {
  Bootstrap,
  CardResponse,
  JssdkConfig,
  LinkBody,
  LinkReply,
  Me,
  TagsBody,
  TagsReply,
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
    templates: (query: TemplateQuery) =>
      http.request<TemplatesReply>(`${base}/templates`, {
        query: { q: query.q, stage: query.stage, externalUserId: query.externalUserId },
      }),
    recordTouch: (externalUserId: string, templateId: number, channel: TouchChannel) =>
      http.request<TouchReply>(`${base}/touches`, {
        method: 'POST',
        body: { externalUserId, templateId, channel } satisfies TouchBody,
      }),
  };
}

export type SidebarApi = ReturnType<typeof createSidebarApi>;
