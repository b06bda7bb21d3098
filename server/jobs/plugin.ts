import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { productJobs } from './definitions';
import { type JobDefinition, JobRunner, type JobRunnerOptions, type JobRunResult } from './runner';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRunner;
  }
}

export interface JobsPluginOptions extends JobRunnerOptions {
  /** Defaults to config.jobs.enabled (JOBS_ENABLED). Off: nothing is scheduled, runJobNow still works. */
  enabled?: boolean;
  /** Replaces the product's job list (tests). */
  jobs?: JobDefinition[];
}

/** Cron jobs behind a DB lease. Schedules start on ready and stop (waiting for running jobs) on close. */
export const jobsPlugin = fp<JobsPluginOptions>(
  async (app, opts) => {
    const runner = new JobRunner(app, opts.jobs ?? productJobs(app.config), opts);
    app.decorate('jobs', runner);
    if (opts.enabled ?? app.config.jobs.enabled) app.addHook('onReady', async () => runner.start());
    // preClose: running jobs finish while the DB is still open; onClose only makes sure nothing is left.
    app.addHook('preClose', async () => runner.stop());
    app.addHook('onClose', async () => runner.stop(0));
  },
  { name: 'jobs' },
);

/** Runs one job now, under its lease (tests and the operator CLI). Throws on an unknown name. */
export function runJobNow(app: FastifyInstance, name: string): Promise<JobRunResult> {
  return app.jobs.runNow(name);
}

export { JOBS, productJobs } from './definitions';
export type { JobDefinition, JobRunResult } from './runner';
