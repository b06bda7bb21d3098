import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CustomerGroup, SopMomentJob, SopTask } from '../db/entities';
import { AppError } from '../errors';
import { syncGroups } from '../groups/sync';
import { pollOpen, runPlanNow, type SopDeps } from '../sop/delivery';
import { pollMomentJobs } from '../sop/moments';
import { listPlans } from '../sop/repo';
import { wecomOf } from '../wecom/plugin';
import type { Sandbox } from './state';

/**
 * /sandbox/tasks: the mass-send and moment tasks WeCom would show the managers (客户群群发, 群发助手,
 * 客户朋友圈). The page lists them; 确认发送 is the manager tapping send in the client, which changes
 * the task's status in the fake. The sandbox then polls that task at once (the server would on its
 * next poll, every SOP_POLL_MINUTES) so `ops sop status` shows the result immediately.
 */
export async function taskRoutes(app: FastifyInstance, sandbox: Sandbox): Promise<void> {
  const fake = sandbox.fake;
  const deps = (planId?: string): SopDeps => ({
    db: app.db,
    wecom: wecomOf(app),
    now: app.now,
    config: app.config.sop,
    agentId: app.config.wecom.agentId,
    publicBaseUrl: app.config.publicBaseUrl,
    holder: `sandbox:${randomUUID().slice(0, 8)}`,
    planId,
  });
  const name = (userid: string) => fake.users.get(userid)?.name ?? userid;

  app.get('/tasks', async () => {
    const mass = [...fake.massSend.tasks.values()].map((t) => {
      const counts = { sent: 0, notFriend: 0, capped: 0 };
      for (const s of t.results.values()) {
        if (s === 1) counts.sent++;
        else if (s === 2) counts.notFriend++;
        else if (s === 3) counts.capped++;
      }
      return {
        id: t.msgid,
        kind: t.chatType,
        sender: t.sender,
        senderName: name(t.sender),
        targets: t.chatType === 'group' ? t.targets.map((c) => fake.groups.get(c)?.name ?? c) : t.targets.length,
        text: t.text,
        status: t.cancelled ? 'cancelled' : t.senderStatus === 2 ? 'sent' : 'waiting',
        createdAt: t.createdAt,
        reminders: t.reminders.length,
        ...counts,
      };
    });
    const moments = [...fake.massSend.moments.values()].flatMap((m) =>
      m.senders.map((u) => ({
        id: m.jobid,
        kind: 'moment',
        sender: u,
        senderName: name(u),
        targets: 0,
        tags: m.tags.length,
        text: m.text,
        status: m.cancelled ? 'cancelled' : m.published.has(u) ? 'sent' : 'waiting',
        createdAt: m.createdAt,
        reminders: 0,
        sent: m.published.has(u) ? 1 : 0,
        notFriend: 0,
        capped: 0,
      })),
    );
    const plans = (await listPlans(app.db)).map((p) => ({ id: p.id, name: p.name, status: p.status }));
    return { tasks: [...mass, ...moments].sort((a, b) => b.createdAt - a.createdAt), plans };
  });

  app.post('/tasks/run', async (req) => {
    const planId = (req.body as { plan?: unknown } | undefined)?.plan;
    if (typeof planId !== 'string' || !planId) throw new AppError('bad_request', 400, 'plan is required');
    // A fresh demo has not run the nightly groups-sync yet: do it now so group plans have an audience.
    if ((await app.db.getRepository(CustomerGroup).count()) === 0) {
      await syncGroups(app.db, wecomOf(app), { now: app.now(), apply: true, actor: 'sandbox' });
    }
    const r = await runPlanNow(deps(planId), planId);
    const plan = (await listPlans(app.db)).find((p) => p.id === planId);
    return {
      channel: plan?.channel ?? null,
      quiet: r.quiet,
      dispatched: r.dispatched,
      occurrences: r.occurrences.map((o) => ({
        key: o.occurrenceKey,
        status: o.status,
        targets: o.targets,
        tasks: o.tasks,
      })),
    };
  });

  app.post('/tasks/:id/confirm', async (req) => {
    const id = (req.params as { id: string }).id;
    const userid = (req.body as { userid?: unknown } | undefined)?.userid;
    try {
      if (fake.massSend.tasks.has(id)) fake.massSend.confirm(id);
      else if (fake.massSend.moments.has(id) && typeof userid === 'string') fake.massSend.publish(id, userid);
      else throw new AppError('not_found', 404, 'no such task');
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('bad_request', 400, (err as Error).message);
    }
    const moment = fake.massSend.moments.get(id);
    if (moment) {
      // One WeCom moment job carries many senders: poll the job (its jobid, or its moment_id when
      // it was found again after a lost answer).
      const job = await app.db
        .getRepository(SopMomentJob)
        .findOne({ where: [{ jobid: id }, { momentId: moment.momentId }] });
      if (job?.status === 'open') {
        await app.db.getRepository(SopMomentJob).update({ id: job.id }, { nextPollAt: app.now() });
        await pollMomentJobs(deps(job.planId), false, { occurrenceId: job.occurrenceId });
      }
      return { ok: true };
    }
    const row = await app.db.getRepository(SopTask).findOne({ where: { msgid: id } });
    if (row?.status === 'open') {
      await app.db.getRepository(SopTask).update({ id: row.id }, { nextPollAt: app.now() });
      await pollOpen(deps(row.planId), false, { occurrenceId: row.occurrenceId });
    }
    return { ok: true };
  });
}
