import { readFileSync, writeFileSync } from 'node:fs';
import { audit } from '../../server/audit/audit';
import { RISK_CLASSES, type ScriptTemplate, TEMPLATE_CHANNELS, TEMPLATE_STATUSES } from '../../server/db/entities';
import { CsvInputError, inspectFile, readCsv } from '../../server/imports/csv-source';
import { csvDocument } from '../../server/lib/csv';
import type { Finding, TemplateInput } from '../../server/playbook/compliance/check';
import { parseExpiry } from '../../server/playbook/days';
import { fromRow, LibraryService } from '../../server/playbook/library';
import { isStage, MAX_STAGE } from '../../server/playbook/stages';
import { templateView } from '../../server/playbook/view';
import { formatTime, oneOf } from './args';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import { renderTable } from './table';

/**
 * `templates …`: the script library (话术库) for head office and compliance. The file format of
 * check / import / export is one script per JSON object or CSV row:
 *   title, body, category, stage (1–4 or empty = any), segments, bankTags, product,
 *   riskClass (deposit/wealth/fund/insurance/loan/none), channel (chat/welcome/group/moments),
 *   variantGroup, variant, disclaimer, attachments (JSON array)
 * Lists (segments, bankTags) are arrays in JSON and comma/、-separated text in CSV.
 */

export const TEMPLATE_COLUMNS = [
  'title',
  'body',
  'category',
  'stage',
  'segments',
  'bankTags',
  'product',
  'riskClass',
  'channel',
  'variantGroup',
  'variant',
  'disclaimer',
  'attachments',
] as const;
type Column = (typeof TEMPLATE_COLUMNS)[number];

/** snake_case and a few Chinese headers are accepted too (Excel users write them). */
const HEADER_ALIASES: Record<string, Column> = {
  bank_tags: 'bankTags',
  risk_class: 'riskClass',
  variant_group: 'variantGroup',
  content: 'body',
  标题: 'title',
  正文: 'body',
  分类: 'category',
  阶段: 'stage',
  客群: 'segments',
  产品: 'product',
  风险类别: 'riskClass',
  渠道: 'channel',
  风险提示: 'disclaimer',
};

export interface ParsedTemplate {
  /** "line 3" (CSV) or "#2" (JSON, 1-based). */
  where: string;
  input: TemplateInput;
  /** Problems found while reading the row (bad stage, unknown risk class …). */
  problems: Finding[];
}

const bad = (field: Finding['field'], message: string): Finding => ({ code: 'invalid_field', field, message });

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
  if (typeof v === 'string') {
    return v
      .split(/[,，、|]/)
      .map((x) => x.trim())
      .filter(Boolean);
  }
  return [];
}

/** A CSV cell written by our CSV writer may carry a leading ' that neutralised a formula character. */
const unneutralise = (s: string) => (/^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s);

function toInput(raw: Record<string, unknown>, fromCsv: boolean): { input: TemplateInput; problems: Finding[] } {
  const problems: Finding[] = [];
  const str = (k: Column): string | null => {
    const v = raw[k];
    if (v === undefined || v === null) return null;
    const s = fromCsv ? unneutralise(String(v)) : String(v);
    return s.trim() === '' ? null : s;
  };
  let stage: number | null = null;
  const rawStage = raw.stage;
  if (rawStage !== undefined && rawStage !== null && String(rawStage).trim() !== '') {
    const n = Number(String(rawStage).trim());
    if (isStage(n)) stage = n;
    else problems.push(bad('stage', `触达阶段“${String(rawStage)}”无效：只能是 1–${MAX_STAGE} 或留空（任意阶段）`));
  }
  const riskClass = str('riskClass') ?? 'none';
  if (!RISK_CLASSES.includes(riskClass as never)) {
    problems.push(bad('riskClass', `风险类别“${riskClass}”无效：只能是 ${RISK_CLASSES.join('/')}`));
  }
  const channel = str('channel') ?? 'chat';
  if (!TEMPLATE_CHANNELS.includes(channel as never)) {
    problems.push(bad('channel', `渠道“${channel}”无效：只能是 ${TEMPLATE_CHANNELS.join('/')}`));
  }
  let attachments: unknown[] | null = null;
  const rawAtt = raw.attachments;
  if (Array.isArray(rawAtt)) attachments = rawAtt;
  else if (typeof rawAtt === 'string' && rawAtt.trim()) {
    try {
      const parsed = JSON.parse(rawAtt) as unknown;
      if (!Array.isArray(parsed)) throw new Error('not an array');
      attachments = parsed;
    } catch {
      problems.push(bad('body', 'attachments 必须是 JSON 数组'));
    }
  }
  return {
    problems,
    input: {
      title: str('title') ?? '',
      body: str('body') ?? '',
      category: str('category'),
      stage,
      segments: list(raw.segments),
      bankTags: list(raw.bankTags),
      product: str('product'),
      riskClass: riskClass as TemplateInput['riskClass'],
      channel: channel as TemplateInput['channel'],
      variantGroup: str('variantGroup'),
      variant: str('variant'),
      disclaimer: str('disclaimer'),
      attachments,
    },
  };
}

/** Reads a JSON array or a CSV file (UTF-8 with or without BOM, or GBK). */
export async function readTemplateFile(path: string): Promise<ParsedTemplate[]> {
  let head: string;
  try {
    head = readFileSync(path)
      .subarray(0, 4096)
      .toString('utf8')
      .replace(/^\ufeff/, '');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (path.toLowerCase().endsWith('.json') || head.trimStart().startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8').replace(/^\ufeff/, ''));
    } catch (err) {
      throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(data)) throw new UsageError(`${path} must hold a JSON array of scripts`);
    return data.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        return { where: `#${i + 1}`, input: { title: '', body: '' }, problems: [bad('title', '不是一个对象')] };
      }
      const { input, problems } = toInput(item as Record<string, unknown>, false);
      return { where: `#${i + 1}`, input, problems };
    });
  }
  try {
    const facts = await inspectFile(path);
    const out: ParsedTemplate[] = [];
    let columns: (Column | null)[] | null = null;
    for await (const rec of readCsv(path, facts.encoding)) {
      if (!columns) {
        columns = rec.fields.map((h) => {
          const k = h.trim();
          if ((TEMPLATE_COLUMNS as readonly string[]).includes(k)) return k as Column;
          return HEADER_ALIASES[k] ?? HEADER_ALIASES[k.toLowerCase()] ?? null;
        });
        if (!columns.includes('title') || !columns.includes('body')) {
          throw new UsageError(
            `${path}: the header needs at least the columns title and body (${TEMPLATE_COLUMNS.join(',')})`,
          );
        }
        continue;
      }
      const raw: Record<string, unknown> = {};
      columns.forEach((c, i) => {
        if (c) raw[c] = rec.fields[i] ?? '';
      });
      const { input, problems } = toInput(raw, true);
      out.push({ where: `line ${rec.line}`, input, problems });
    }
    return out;
  } catch (err) {
    if (err instanceof CsvInputError) throw new UsageError(err.message);
    throw err;
  }
}

const library = (ctx: CommandContext) =>
  new LibraryService(ctx.db, ctx.now, ctx.config.playbook ?? { personalReview: true });

interface FileFinding extends Finding {
  where: string;
  template: string;
}

async function checkFile(path: string, ctx: CommandContext) {
  const rows = await readTemplateFile(path);
  const svc = library(ctx);
  const findings: FileFinding[] = [];
  for (const r of rows) {
    for (const f of [...r.problems, ...(await svc.check(r.input))]) {
      findings.push({ ...f, where: r.where, template: r.input.title || '(无标题)' });
    }
  }
  return { rows, findings, svc };
}

function findingsTable(findings: FileFinding[]): string {
  return renderTable(
    ['where', 'template', 'field', 'word', 'position', 'finding'],
    findings.map((f) => [
      f.where,
      f.template.slice(0, 20),
      f.field,
      f.word ?? '',
      f.start === undefined ? '' : `${f.start + 1}–${f.end}`,
      f.message,
    ]),
  );
}

/** `templates check <file>`: wording, variables, disclaimers; writes nothing. Exit 1 lists every finding. */
export async function templatesCheckCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { rows, findings } = await checkFile(args.file, ctx);
  const output = findings.length
    ? `${findingsTable(findings)}\n\n${findings.length} finding(s) in ${new Set(findings.map((f) => f.where)).size} of ${rows.length} script(s).`
    : `${rows.length} script(s) checked: no findings.`;
  return { exitCode: findings.length ? EXIT.findings : EXIT.ok, output, json: { scripts: rows.length, findings } };
}

/**
 * `templates import <file> [--apply]`: every script is checked first; one failing script refuses the
 * whole file (exit 1, nothing written). Imported scripts start in review.
 */
export async function templatesImportCommand(args: { file: string }, ctx: CommandContext): Promise<CommandResult> {
  const { rows, findings, svc } = await checkFile(args.file, ctx);
  if (rows.length === 0) throw new UsageError(`${args.file} holds no scripts`);
  if (findings.length) {
    return {
      exitCode: EXIT.findings,
      output: `${modeLine(ctx)}\n${findingsTable(findings)}\n\nrefused: ${findings.length} finding(s); nothing was imported.`,
      json: { imported: 0, findings },
    };
  }
  const summary = renderTable(
    ['where', 'title', 'channel', 'stage', 'risk'],
    rows.map((r) => [
      r.where,
      r.input.title,
      r.input.channel ?? 'chat',
      r.input.stage ?? 'any',
      r.input.riskClass ?? 'none',
    ]),
  );
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\n${summary}\n\n${rows.length} script(s) would be imported, in review.`,
      json: { imported: 0, wouldImport: rows.length, findings: [] },
    };
  }
  const created = await ctx.db.transaction(async (tx) => {
    const out: ScriptTemplate[] = [];
    for (const r of rows) out.push(await svc.create(r.input, { actor: ctx.operator, owner: null, submit: true }, tx));
    await audit(tx, {
      actor: ctx.operator,
      action: 'templates.import',
      subject: `file:${args.file.split(/[\\/]/).pop()}`.slice(0, 128),
      detail: { ids: out.map((t) => t.id) },
    });
    return out;
  });
  return {
    exitCode: EXIT.ok,
    output: `${modeLine(ctx)}\n${summary}\n\n${created.length} script(s) imported, in review: ids ${created.map((t) => t.id).join(', ')}.`,
    json: { imported: created.length, ids: created.map((t) => t.id) },
  };
}

function parseIds(ids: string[] | undefined): number[] {
  const out = (ids ?? []).map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`"${s}" is not a script id`);
    return Number(s);
  });
  return [...new Set(out)];
}

function rowsTable(rows: ScriptTemplate[]): string {
  return renderTable(
    ['id', 'v', 'status', 'title', 'channel', 'stage', 'owner', 'risk', 'expires'],
    rows.map((t) => [
      t.id,
      t.version,
      t.status,
      t.title.slice(0, 24),
      t.channel,
      t.stage ?? 'any',
      t.ownerUserid ?? '(library)',
      t.riskClass,
      formatTime(t.expiresAt),
    ]),
  );
}

export interface ApproveArgs {
  ids?: string[];
  allPending?: boolean;
  reviewer?: string;
  expires?: string;
  comment?: string;
}

/** `templates approve <id…|--all-pending> --reviewer <name> --expires <date>`. */
export async function templatesApproveCommand(args: ApproveArgs, ctx: CommandContext): Promise<CommandResult> {
  const reviewer = args.reviewer?.trim();
  if (!reviewer) throw new UsageError('--reviewer <name> is required');
  if (!args.expires) throw new UsageError('--expires <date> is required (the approval ends after that day)');
  const expiresAt = parseExpiry(args.expires);
  if (expiresAt === null) throw new UsageError(`--expires "${args.expires}" is not a date (YYYY-MM-DD)`);
  if (expiresAt <= ctx.now()) throw new UsageError(`--expires ${args.expires} is not in the future`);
  const ids = parseIds(args.ids);
  if (!args.allPending && ids.length === 0) throw new UsageError('name the script ids, or --all-pending');
  if (args.allPending && ids.length) throw new UsageError('either ids or --all-pending, not both');
  const svc = library(ctx);
  const targets = await svc.list(args.allPending ? { status: ['review'] } : { ids });
  const missing = ids.filter((id) => !targets.some((t) => t.id === id));
  if (missing.length) throw new UsageError(`no script with id ${missing.join(', ')}`);
  const notInReview = targets.filter((t) => t.status !== 'review');
  if (notInReview.length) {
    throw new UsageError(`not in review: ${notInReview.map((t) => `${t.id} (${t.status})`).join(', ')}`);
  }
  if (targets.length === 0) return { exitCode: EXIT.ok, output: 'no scripts in review.', json: { approved: [] } };
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\n${rowsTable(targets)}\n\n${targets.length} script(s) would be approved by ${reviewer} until ${args.expires}.`,
      json: { approved: [], wouldApprove: targets.map((t) => t.id) },
    };
  }
  const done = await svc.approve(
    targets.map((t) => t.id),
    { reviewer, expiresAt, comment: args.comment ?? null },
  );
  return {
    exitCode: EXIT.ok,
    output: `${modeLine(ctx)}\n${rowsTable(done)}\n\n${done.length} script(s) approved.`,
    json: { approved: done.map(templateView) },
  };
}

/** `templates reject <id> --reason <text> [--reviewer <name>]`. */
export async function templatesRejectCommand(
  args: { id: string; reason?: string; reviewer?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const [id] = parseIds([args.id]);
  const reason = args.reason?.trim();
  if (!reason) throw new UsageError('--reason <text> is required');
  const svc = library(ctx);
  const t = await svc.get(id);
  if (t.status !== 'review') throw new UsageError(`script ${id} is ${t.status}, not in review`);
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\nscript ${id} would be rejected: ${reason}`,
      json: { rejected: null },
    };
  }
  const r = await svc.reject(id, { reviewer: args.reviewer?.trim() || ctx.operator, reason });
  return { exitCode: EXIT.ok, output: `${modeLine(ctx)}\nscript ${id} rejected.`, json: { rejected: templateView(r) } };
}

/** `templates retire <id>`: it stops reaching customers at once; the row and its history stay. */
export async function templatesRetireCommand(args: { id: string }, ctx: CommandContext): Promise<CommandResult> {
  const [id] = parseIds([args.id]);
  const svc = library(ctx);
  const t = await svc.get(id);
  if (t.status === 'retired') throw new UsageError(`script ${id} is already retired`);
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\nscript ${id} (${t.status}) would be retired.`,
      json: { retired: null },
    };
  }
  const r = await svc.retire(id, ctx.operator);
  return { exitCode: EXIT.ok, output: `${modeLine(ctx)}\nscript ${id} retired.`, json: { retired: templateView(r) } };
}

/** `templates list [--status s] [--expiring 30d]`. */
export async function templatesListCommand(
  args: { status?: string; expiring?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const status = args.status ? oneOf(args.status, TEMPLATE_STATUSES, 'status') : undefined;
  let expiringBefore: number | undefined;
  if (args.expiring) {
    const m = /^(\d+)\s*d$/.exec(args.expiring.trim());
    if (!m) throw new UsageError(`--expiring "${args.expiring}" must be a number of days, like 30d`);
    expiringBefore = ctx.now() + Number(m[1]) * 86_400_000;
  }
  const rows = await library(ctx).list({ status: status ? [status] : undefined, expiringBefore });
  return {
    exitCode: EXIT.ok,
    output: rows.length ? rowsTable(rows) : 'no scripts.',
    json: rows.map(templateView),
  };
}

/**
 * `templates export [--status approved] [--format csv|json] [--out file]`: the bank library in the
 * import format (round-trips through `templates import`). CSV goes through the shared writer.
 */
export async function templatesExportCommand(
  args: { status?: string; format?: string; out?: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  const status = oneOf(args.status ?? 'approved', TEMPLATE_STATUSES, 'status');
  const format = oneOf(args.format ?? 'csv', ['csv', 'json'] as const, 'format');
  const rows = await library(ctx).list({ status: [status], owner: null });
  const inputs = rows.map(fromRow);
  let text: string;
  if (format === 'json') text = `${JSON.stringify(inputs, null, 2)}\n`;
  else {
    text = csvDocument(
      TEMPLATE_COLUMNS,
      inputs.map((i) => [
        i.title,
        i.body,
        i.category,
        i.stage ?? '',
        (i.segments ?? []).join(','),
        (i.bankTags ?? []).join(','),
        i.product,
        i.riskClass,
        i.channel,
        i.variantGroup,
        i.variant,
        i.disclaimer,
        i.attachments?.length ? JSON.stringify(i.attachments) : '',
      ]),
    );
  }
  if (args.out) {
    writeFileSync(args.out, text);
    return {
      exitCode: EXIT.ok,
      output: `${rows.length} script(s) written to ${args.out}.`,
      json: { exported: rows.length },
    };
  }
  return { exitCode: EXIT.ok, output: text, json: inputs };
}

/**
 * `compliance words import <file> [--apply]`: adds sensitive words (source operator). The file is
 * one word per line, or a CSV with the columns word[,note]. Words already listed are skipped.
 */
export async function complianceWordsImportCommand(
  args: { file: string },
  ctx: CommandContext,
): Promise<CommandResult> {
  let text: string;
  try {
    const buf = readFileSync(args.file);
    const facts = await inspectFile(args.file);
    text =
      facts.encoding === 'gbk' ? (await import('iconv-lite')).default.decode(buf, 'gb18030') : buf.toString('utf8');
  } catch (err) {
    if (err instanceof CsvInputError) throw new UsageError(err.message);
    throw new UsageError(`cannot read ${args.file}: ${(err as Error).message}`);
  }
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  const words: { word: string; note: string | null }[] = [];
  const problems: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [w, ...rest] = line.split(/[,，\t]/);
    const word = w.trim();
    if (i === 0 && (word === 'word' || word === '词')) return;
    const note = rest.join(',').trim() || null;
    if (word.length > 64) problems.push(`line ${i + 1}: longer than 64 characters`);
    else if (!/[\p{L}\p{N}]/u.test(word)) problems.push(`line ${i + 1}: "${word}" has no letters`);
    else if (!words.some((x) => x.word === word)) words.push({ word, note: note?.slice(0, 255) ?? null });
  });
  if (problems.length) {
    return {
      exitCode: EXIT.findings,
      output: `${problems.join('\n')}\nrefused: nothing was imported.`,
      json: { added: [], problems },
    };
  }
  const svc = library(ctx);
  const existing = new Set((await svc.repo.words()).map((w) => w.word));
  const fresh = words.filter((w) => !existing.has(w.word));
  if (!ctx.apply) {
    return {
      exitCode: EXIT.ok,
      output: `${modeLine(ctx)}\n${fresh.length} new word(s) would be added: ${fresh.map((w) => w.word).join('、') || '(none)'}; ${words.length - fresh.length} already listed.`,
      json: { added: [], wouldAdd: fresh.map((w) => w.word) },
    };
  }
  const added = await ctx.db.transaction(async (tx) => {
    const out = await svc.repo.addWords(tx, fresh, 'operator', ctx.operator, ctx.now());
    await audit(tx, {
      actor: ctx.operator,
      action: 'compliance.words_import',
      subject: `file:${args.file.split(/[\\/]/).pop()}`.slice(0, 128),
      detail: { added: out },
    });
    return out;
  });
  return {
    exitCode: EXIT.ok,
    output: `${modeLine(ctx)}\n${added.length} word(s) added: ${added.join('、') || '(none)'}.`,
    json: { added },
  };
}
