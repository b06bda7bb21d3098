import { ScriptTemplate, SopPlanVersion } from '../../../server/db/entities';
import { DEMO_SOP_PLAN_ID } from '../../../server/sandbox/seed-sop';
import { planStatus } from '../../../server/sop/service';
import { DB_TARGETS } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

/** Monday 2026-12-07 10:05 China time: the demo plan's tick has passed, outside the quiet hours. */
const MONDAY_1005 = Date.UTC(2026, 11, 7, 2, 5);

describe.each(DB_TARGETS)('sandbox SOP tasks on %s', (target) => {
  const clock = { now: MONDAY_1005 };
  const s = useApp(target, { env: { DEMO_DATA: 'true' }, build: { now: () => clock.now } });

  test('the demo seeds a weekly group plan with an approved group-channel script', async () => {
    const v = await s.app.db.manager.findOneByOrFail(SopPlanVersion, { planId: DEMO_SOP_PLAN_ID, version: 1 });
    const body = v.body as { schedule: string; template: number; channel: string };
    expect(body).toMatchObject({ channel: 'group', schedule: '0 10 * * 1' });
    const t = await s.app.db.manager.findOneByOrFail(ScriptTemplate, { id: body.template });
    expect(t).toMatchObject({ channel: 'group', status: 'approved', ownerUserid: null });
  });

  test('a plan run shows its tasks on the page; the manager confirms one; status shows it sent', async () => {
    const run = await s.app.inject({ method: 'POST', url: '/sandbox/tasks/run', payload: { plan: DEMO_SOP_PLAN_ID } });
    expect(run.statusCode).toBe(200);
    const occ = run.json().occurrences[0];
    expect(occ.key).toBe('2026-12-07T10:00');
    expect(occ.tasks).toBeGreaterThan(0);
    const list = (await s.app.inject({ method: 'GET', url: '/sandbox/tasks' })).json();
    const groupTasks = list.tasks.filter((t: { kind: string }) => t.kind === 'group');
    expect(groupTasks).toHaveLength(occ.tasks);
    expect(groupTasks.every((t: { status: string }) => t.status === 'waiting')).toBe(true);
    expect(groupTasks[0].text).toContain('财富沙龙');
    const first = groupTasks[0];
    const page = await s.app.inject({ method: 'GET', url: '/sandbox/' });
    expect(page.body).toContain('id="sop-tasks"');

    const ok = await s.app.inject({
      method: 'POST',
      url: `/sandbox/tasks/${first.id}/confirm`,
      payload: { userid: first.sender },
    });
    expect(ok.statusCode).toBe(200);
    const after = (await s.app.inject({ method: 'GET', url: '/sandbox/tasks' })).json();
    expect(after.tasks.find((t: { id: string }) => t.id === first.id)).toMatchObject({ status: 'sent', sent: 1 });
    const status = await planStatus(s.app.db, DEMO_SOP_PLAN_ID);
    expect(status.rows.find((r) => r.sender === first.sender)).toMatchObject({ sent: 1, notSent: 0 });
    expect(status.totals.sent).toBe(1);
    // Running again repeats nothing.
    const again = (
      await s.app.inject({ method: 'POST', url: '/sandbox/tasks/run', payload: { plan: DEMO_SOP_PLAN_ID } })
    ).json();
    expect(again.dispatched).toBe(0);
    expect((await s.app.inject({ method: 'GET', url: '/sandbox/tasks' })).json().tasks).toHaveLength(list.tasks.length);
  });
});
