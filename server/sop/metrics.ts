import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliverySummary } from './delivery';
import type { PlanProgress } from './planner';

/** SOP progress on /metrics: planning progress per plan, task outcomes per job run. */
export function sopMetrics(registry: Registry) {
  const gauge = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Gauge<'plan'> | undefined) ??
    new Gauge({ name, help, labelNames: ['plan'] as const, registers: [registry] });
  const scanned = gauge('sop_planning_scanned', 'Audience candidates read by the latest planning of the plan');
  const targets = gauge('sop_planning_targets', 'Targets (customers or groups) of the latest occurrence of the plan');
  const skipped = gauge('sop_planning_skipped_cap', 'Targets left out by the frequency cap in the latest occurrence');
  const tasks =
    (registry.getSingleMetric('sop_tasks_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'sop_tasks_total',
      help: 'SOP WeCom tasks by outcome (dispatched | failed | completed | reminded | cancelled)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  const momentJobs =
    (registry.getSingleMetric('sop_moment_jobs_created_total') as Counter | undefined) ??
    new Counter({
      name: 'sop_moment_jobs_created_total',
      help: 'add_moment_task jobs created (each carries many senders; sop_tasks_total counts senders)',
      registers: [registry],
    });
  return {
    progress(plan: string, p: PlanProgress) {
      scanned.set({ plan }, p.scanned);
      targets.set({ plan }, p.targets);
      skipped.set({ plan }, p.skippedCap);
    },
    summary(s: DeliverySummary) {
      tasks.inc({ outcome: 'dispatched' }, s.dispatched);
      tasks.inc({ outcome: 'failed' }, s.failed);
      tasks.inc({ outcome: 'completed' }, s.completed);
      tasks.inc({ outcome: 'reminded' }, s.reminded);
      tasks.inc({ outcome: 'cancelled' }, s.cancelled);
      momentJobs.inc(s.momentJobs);
    },
  };
}
