import type { HttpClient } from './http';
import type {
  Bootstrap,
  CardResponse,
  CorpTagGroup,
  Customer,
  JssdkConfig,
  Me,
  Template,
  TemplateQuery,
  Touch,
  TouchChannel,
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
      http.request<{ corpTags: CorpTagGroup[] }>(`${base}/customers/${enc(externalUserId)}/tags`, {
        method: 'POST',
        body: { add, remove },
      }),
    link: (externalUserId: string, bankCustomerId: string) =>
      http.request<{ customer: Customer } | Record<string, unknown>>(`${base}/customers/${enc(externalUserId)}/link`, {
        method: 'POST',
        body: { bankCustomerId },
      }),
    templates: (query: TemplateQuery) =>
      http.request<{ templates: Template[] }>(`${base}/templates`, {
        query: { q: query.q, stage: query.stage, externalUserId: query.externalUserId },
      }),
    recordTouch: (externalUserId: string, templateId: number, channel: TouchChannel) =>
      http.request<{ touch: Touch }>(`${base}/touches`, {
        method: 'POST',
        body: { externalUserId, templateId, channel },
      }),
  };
}

export type SidebarApi = ReturnType<typeof createSidebarApi>;
