import type { AxiosAdapter } from 'axios';
import type { FastifyInstance } from 'fastify';
import { createMetrics } from '../../../server/metrics';
import { buildFakeWecom, FakeWecom } from '../../../server/sandbox/fake-wecom';
import { WecomClient, WecomClientOptions } from '../../../server/wecom/client';
import { injectAdapter } from '../../../server/wecom/inject-adapter';
import { MemorySecretStore } from '../../../server/wecom/token-cache';

export const CORP = 'wwunitcorp0001';
export const AGENT_SECRET = 'unit-agent-secret-0001';
export const CONTACT_SECRET = 'unit-contact-secret-0001';
export const BASE = 'http://fake.wecom.test';

export interface Harness {
  fake: FakeWecom;
  server: FastifyInstance;
  client: WecomClient;
  sleeps: number[];
  logs: { level: string; obj: object; msg?: string }[];
  metrics: ReturnType<typeof createMetrics>;
  clock: { now: number };
  close(): Promise<void>;
}

/**
 * The real client against the sandbox's fake corp, served through inject (no socket, no I/O), with
 * an in-memory secret store, a settable clock and a sleep that records instead of waiting.
 */
export async function harness(
  opts: Partial<WecomClientOptions> & { wrap?: (inner: AxiosAdapter) => AxiosAdapter } = {},
): Promise<Harness> {
  const clock = { now: 1_795_000_000_000 };
  const fake = buildFakeWecom({
    corpId: CORP,
    agentId: '1000002',
    agentSecret: AGENT_SECRET,
    contactSecret: CONTACT_SECRET,
    now: () => clock.now,
    seed: {
      users: [{ userid: 'u1', name: '测试', department: [1], main_department: 1, status: 1 }],
      departments: [{ id: 1, name: '总行', parentid: 0, order: 1 }],
    },
  });
  const server = await fake.instance();
  const sleeps: number[] = [];
  const logs: Harness['logs'] = [];
  const metrics = createMetrics({ defaults: false });
  const inner = injectAdapter(
    server,
    () => BASE,
    () => BASE,
  );
  const { wrap, ...rest } = opts;
  const client = new WecomClient({
    corpId: CORP,
    agentId: '1000002',
    agentSecret: AGENT_SECRET,
    contactSecret: CONTACT_SECRET,
    apiBase: BASE,
    store: new MemorySecretStore(),
    metrics,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    random: () => 0.5,
    adapter: wrap ? wrap(inner) : inner,
    log: {
      info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    },
    ...rest,
  });
  return { fake, server, client, sleeps, logs, metrics, clock, close: () => server.close() };
}

/** Value of wecom_api_calls_total for one label pair. */
export async function apiCalls(h: Harness, api: string, errcode: string): Promise<number> {
  const m = await h.metrics.apiCalls.get();
  return m.values.find((v) => v.labels.api === api && v.labels.errcode === errcode)?.value ?? 0;
}
