import type { FastifyInstance } from 'fastify';

export const ADD_CONTACT = (corpId: string, externalUserid = 'wmTestCustomer0001', userid = 'zhangwei', extra = '') =>
  `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
  `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
  `<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>` +
  `<UserID><![CDATA[${userid}]]></UserID><ExternalUserID><![CDATA[${externalUserid}]]></ExternalUserID>${extra}</xml>`;

/** A test-only event type no feature registers: lets worker tests own the handler. */
export const PROBE = (corpId: string, n: number | string, event = 'probe_test') =>
  `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
  `<CreateTime>1795140061</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>` +
  `<Seq>${n}</Seq></xml>`;

export const qs = (q: Record<string, string>) =>
  Object.entries(q)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');

/** POSTs a plaintext exactly as WeCom would: encrypted, signed, XML envelope. */
export function postEvent(app: FastifyInstance, plaintext: string, opts: { timestamp?: string } = {}) {
  const sealed = app.callbackCrypto.sealedCallback(plaintext, { timestamp: opts.timestamp, agentId: '1000002' });
  return app.inject({
    method: 'POST',
    url: `/wecom/callback?${qs(sealed.query)}`,
    headers: { 'content-type': 'text/xml' },
    payload: sealed.body,
  });
}

export async function metricValue(app: FastifyInstance, name: string, labels: Record<string, string> = {}) {
  const metric = await app.metrics.registry.getSingleMetric(name)?.get();
  if (!metric) return 0;
  const match = metric.values.find((v) =>
    Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
  );
  return match?.value ?? 0;
}
