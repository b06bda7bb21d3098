import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import {
  complianceWordsImportCommand,
  templatesApproveCommand,
  templatesCheckCommand,
  templatesExportCommand,
  templatesImportCommand,
  templatesListCommand,
  templatesRejectCommand,
  templatesRetireCommand,
} from '../../../scripts/commands/templates';
import { ScriptTemplate } from '../../../server/db/entities';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';
import { ctxFor, dbChecksum } from './helpers';

const WEALTH = '【风险提示】理财非存款，产品有风险，投资须谨慎。';
const dir = mkdtempSync(join(tmpdir(), 'tpl-cli-'));
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const GOOD = [
  {
    title: '首次问候',
    body: '{{客户称呼}}好，我是{{网点}}的{{客户经理}}',
    stage: 1,
    segments: ['代发'],
    category: '问候',
  },
  {
    title: '理财推荐',
    body: '{{客户称呼}}，{{产品}}期限灵活',
    stage: 2,
    product: '稳健理财',
    riskClass: 'wealth',
    disclaimer: WEALTH,
    variantGroup: 'wealth-intro',
    variant: 'A',
    attachments: [{ type: 'link', title: '产品介绍', url: 'https://bank.example/p' }],
  },
];

describe.each(DB_TARGETS)('templates CLI on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  const config = () => testConfig(fresh.url);
  beforeAll(async () => {
    fresh = await openFreshDb(target);
  });
  afterAll(async () => {
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('check lists every finding with the template and position; exit 1; writes nothing', async () => {
    const bad = file(
      'bad.json',
      JSON.stringify([...GOOD, { title: '违规', body: '稳\u200b赚不赔的{{客户名}}', riskClass: 'fund' }]),
    );
    const before = await dbChecksum(fresh.ds);
    const ctx = ctxFor(fresh.ds, config());
    const res = await templatesCheckCommand({ file: bad }, ctx);
    expect(res.exitCode).toBe(1);
    const findings = (
      res.json as { findings: { where: string; template: string; code: string; word?: string; start?: number }[] }
    ).findings;
    expect(findings).toEqual([
      expect.objectContaining({ where: '#3', template: '违规', code: 'sensitive_word', word: '稳赚不赔', start: 0 }),
      expect.objectContaining({ where: '#3', code: 'unknown_variable', word: '客户名' }),
      expect.objectContaining({ where: '#3', code: 'missing_disclaimer' }),
    ]);
    expect(res.output).toContain('稳赚不赔');
    // import with --apply refuses the whole file.
    const imp = await templatesImportCommand({ file: bad }, ctxFor(fresh.ds, config(), { apply: true }));
    expect(imp.exitCode).toBe(1);
    expect(await dbChecksum(fresh.ds)).toBe(before);
  });

  it('imports a GBK CSV in review; approve --all-pending; export round-trips through import', async () => {
    const csv =
      'title,body,category,stage,segments,product,riskClass,channel,variantGroup,disclaimer\n' +
      `代发问候,"{{客户称呼}}好，欢迎",问候,1,"代发,高潜",,none,chat,,\n` +
      `基金定投,"{{客户称呼}}，定投{{产品}}",产品推荐,,高潜,基金定投,fund,chat,fund-a,"基金有风险，投资须谨慎。"\n`;
    const gbk = file('scripts.csv', iconv.encode(csv, 'gbk'));
    const dry = await templatesImportCommand({ file: gbk }, ctxFor(fresh.ds, config()));
    expect(dry.exitCode).toBe(0);
    expect(await fresh.ds.getRepository(ScriptTemplate).countBy({ status: 'review' })).toBe(0);
    const applied = await templatesImportCommand({ file: gbk }, ctxFor(fresh.ds, config(), { apply: true }));
    expect(applied.exitCode).toBe(0);
    const rows = await fresh.ds
      .getRepository(ScriptTemplate)
      .find({ where: { status: 'review' }, order: { id: 'ASC' } });
    expect(rows.map((r) => [r.title, r.segments, r.stage, r.riskClass, r.createdBy])).toEqual([
      ['代发问候', '代发,高潜', 1, 'none', 'op-test'],
      ['基金定投', '高潜', null, 'fund', 'op-test'],
    ]);

    const usage = templatesApproveCommand({ allPending: true, reviewer: '合规张三' }, ctxFor(fresh.ds, config()));
    await expect(usage).rejects.toThrow(/--expires/);
    const approved = await templatesApproveCommand(
      { allPending: true, reviewer: '合规张三', expires: '2027-12-31' },
      ctxFor(fresh.ds, config(), { apply: true }),
    );
    expect(approved.exitCode).toBe(0);
    const after = await fresh.ds.getRepository(ScriptTemplate).findBy({ reviewer: '合规张三' });
    expect(after.map((r) => r.status)).toEqual(['approved', 'approved']);

    const json = await templatesImportCommand(
      { file: file('good.json', JSON.stringify(GOOD)) },
      ctxFor(fresh.ds, config(), { apply: true }),
    );
    expect(json.exitCode).toBe(0);
    await templatesApproveCommand(
      { allPending: true, reviewer: '合规张三', expires: '2027-12-31' },
      ctxFor(fresh.ds, config(), { apply: true }),
    );

    for (const format of ['csv', 'json']) {
      const out = join(dir, `export.${format}`);
      const exp = await templatesExportCommand({ format, out }, ctxFor(fresh.ds, config()));
      expect(exp.exitCode).toBe(0);
      const exported = await templatesExportCommand({ format: 'json' }, ctxFor(fresh.ds, config()));
      const check = await templatesCheckCommand({ file: out }, ctxFor(fresh.ds, config()));
      expect(check.exitCode).toBe(0);
      // What import reads back equals what was exported (the built-in welcome included).
      const { readTemplateFile } = await import('../../../scripts/commands/templates');
      const back = (await readTemplateFile(out)).map((r) => r.input);
      expect(back).toEqual(exported.json);
    }
    expect(readFileSync(join(dir, 'export.csv'), 'utf8').startsWith('\ufefftitle,body,')).toBe(true);
  });

  it('reject needs a reason; retire; list --status and --expiring', async () => {
    const one = file('one.json', JSON.stringify([{ title: '待审', body: '您好' }]));
    await templatesImportCommand({ file: one }, ctxFor(fresh.ds, config(), { apply: true }));
    const [row] = await fresh.ds.getRepository(ScriptTemplate).findBy({ title: '待审' });
    await expect(templatesRejectCommand({ id: String(row.id) }, ctxFor(fresh.ds, config()))).rejects.toThrow(
      /--reason/,
    );
    const rej = await templatesRejectCommand(
      { id: String(row.id), reason: '不够简洁' },
      ctxFor(fresh.ds, config(), { apply: true }),
    );
    expect(rej.exitCode).toBe(0);
    expect((await fresh.ds.getRepository(ScriptTemplate).findOneByOrFail({ id: row.id })).reviewComment).toBe(
      '不够简洁',
    );
    const [approved] = await fresh.ds.getRepository(ScriptTemplate).findBy({ title: '首次问候' });
    await templatesRetireCommand({ id: String(approved.id) }, ctxFor(fresh.ds, config(), { apply: true }));
    const list = await templatesListCommand({ status: 'retired' }, ctxFor(fresh.ds, config()));
    expect((list.json as { id: number }[]).map((x) => x.id)).toEqual([approved.id]);
    // now = 2026-11-23; approvals end 2027-12-31: not within 30 days, within 500.
    const soon = await templatesListCommand({ expiring: '30d' }, ctxFor(fresh.ds, config()));
    expect(soon.json).toEqual([]);
    const later = await templatesListCommand({ expiring: '500d' }, ctxFor(fresh.ds, config()));
    expect((later.json as unknown[]).length).toBeGreaterThan(0);
  });

  it('compliance words import extends the check', async () => {
    const body = file('new.json', JSON.stringify([{ title: '新词', body: '本行独家秒杀价' }]));
    expect((await templatesCheckCommand({ file: body }, ctxFor(fresh.ds, config()))).exitCode).toBe(0);
    const words = file('words.csv', iconv.encode('word,note\n秒杀,夸大宣传\n保本,\n', 'gbk'));
    const dry = await complianceWordsImportCommand({ file: words }, ctxFor(fresh.ds, config()));
    expect(dry.json).toEqual({ added: [], wouldAdd: ['秒杀'] });
    const res = await complianceWordsImportCommand({ file: words }, ctxFor(fresh.ds, config(), { apply: true }));
    expect(res.json).toEqual({ added: ['秒杀'] });
    const check = await templatesCheckCommand({ file: body }, ctxFor(fresh.ds, config()));
    expect(check.exitCode).toBe(1);
    expect(check.output).toContain('夸大宣传');
  });
});
