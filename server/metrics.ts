import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance (tests build several apps in one process). */
export function createMetrics({ defaults = true } = {}) {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    callbacksReceived: new Counter({
      name: 'wecom_callbacks_received_total',
      help: 'Callbacks accepted and stored (kind: event | verify)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    callbacksDuplicate: new Counter({
      name: 'wecom_callbacks_duplicate_total',
      help: 'Callbacks whose plaintext was already in the inbox (acknowledged, not processed again)',
      registers: [registry],
    }),
    callbacksRejected: new Counter({
      name: 'wecom_callbacks_rejected_total',
      help: 'Callbacks rejected, by reason code',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'wecom_callback_ack_seconds',
      help: 'Time from request to acknowledgement for stored callbacks',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    inboxBatchRows: new Histogram({
      name: 'wecom_inbox_batch_rows',
      help: 'Callbacks committed per inbox transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    inboxDepth: new Gauge({
      name: 'wecom_inbox_depth',
      help: 'Inbox rows by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    processing: new Histogram({
      name: 'wecom_inbox_processing_seconds',
      help: 'Handler run time per event type and outcome',
      labelNames: ['type', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inboxLeaseLost: new Counter({
      name: 'wecom_inbox_lease_lost_total',
      help: 'Inbox leases this process lost while running a handler (at: taken_over | expired | finish); the result was not recorded',
      labelNames: ['at'] as const,
      registers: [registry],
    }),
    eventsUnhandled: new Counter({
      name: 'wecom_events_unhandled_total',
      help: 'Events stored with no handler in the registry (kept, status unhandled)',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    apiCalls: new Counter({
      name: 'wecom_api_calls_total',
      help: 'WeCom API calls by API and errcode (transport errors as errcode "network")',
      labelNames: ['api', 'errcode'] as const,
      registers: [registry],
    }),
    apiDuration: new Histogram({
      name: 'wecom_api_call_seconds',
      help: 'WeCom API call duration',
      labelNames: ['api'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    welcomeLatency: new Histogram({
      name: 'wecom_welcome_latency_seconds',
      help: 'From callback acknowledgement to the send_welcome_msg answer',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
