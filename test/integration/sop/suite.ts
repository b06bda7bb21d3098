import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeContext } from '../../../scripts/commands/context';
import { SopTask } from '../../../server/db/entities';
import type { SopDeps } from '../../../server/sop/delivery';
import type { WecomApi } from '../../../server/wecom/api-types';
import type { DbTarget } from '../../helpers/db';
import { type Harness, harness } from '../contacts/harness';
import { seedSop } from './seed';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Monday 2026-12-07 00:00 China time. */
export const MONDAY = Date.UTC(2026, 11, 6, 16, 0);

/**
 * One SOP integration suite on `target`: the app with its fake WeCom, the SOP seed (relations
 * began on Sunday 09:00 China time; the clock starts Monday 09:00), and the helpers every suite
 * uses: an ops context, a plan file on disk, delivery deps for a holder, a plan's tasks.
 */
export function useSopSuite(target: DbTarget, prefix: string) {
  let h: Harness;
  let tpl: Awaited<ReturnType<typeof seedSop>>;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  beforeAll(async () => {
    h = await harness(target);
    h.clock.now = MONDAY + 9 * HOUR;
    tpl = await seedSop(h.app.db, h.fake, h.clock.now);
  });
  afterAll(async () => h.close());
  return {
    get h() {
      return h;
    },
    get tpl() {
      return tpl;
    },
    ctx: (apply = false) =>
      makeContext({
        db: h.app.db,
        config: h.app.config,
        now: () => h.clock.now,
        apply,
        wecom: async () => h.app.wecom,
      }),
    file: (name: string, body: object) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(body));
      return p;
    },
    deps: (holder: string, wecom: WecomApi = h.app.wecom, extra: Partial<SopDeps> = {}): SopDeps => ({
      db: h.app.db,
      wecom,
      now: () => h.clock.now,
      config: h.app.config.sop,
      agentId: h.app.config.wecom.agentId,
      publicBaseUrl: h.app.config.publicBaseUrl,
      holder,
      ...extra,
    }),
    tasksOf: (planId: string) => h.app.db.manager.find(SopTask, { where: { planId }, order: { id: 'ASC' } }),
  };
}
