import { invalidateAllocationCache } from '../../server/allocation/service';
import { CsvInputError } from '../../server/imports/csv-source';
import { type OutcomeImportReport, runOutcomeImport } from '../../server/imports/outcomes';
import { type FileImportReport, type ImportReport, runImport } from '../../server/imports/service';
import type { ImportKind } from '../../server/imports/specs';
import { type CommandContext, type CommandResult, EXIT, modeLine, UsageError } from './context';
import type { Progress } from './progress';
import { renderTable } from './table';

export interface ImportArgs {
  kind: ImportKind | 'outcomes';
  file: string;
  skipInvalid?: boolean;
  /** Issues listed in table output (all are in --json up to the service's cap). */
  showIssues?: number;
}

/**
 * `import branches|managers|customers|holdings <file.csv>`. Exit 0 when every row is valid (warnings are
 * allowed), 1 when rows have errors (dry run, refused apply, or apply with --skip-invalid), 2
 * when the file itself is unusable (missing, empty, no/incomplete header, malformed CSV).
 */
export async function importCommand(args: ImportArgs, ctx: CommandContext): Promise<CommandResult> {
  if (args.kind === 'outcomes') return importOutcomesCommand(args, ctx);
  if (!['branches', 'managers', 'customers', 'holdings'].includes(args.kind)) {
    throw new UsageError(`unknown import kind "${args.kind}": branches, managers, customers, holdings or outcomes`);
  }
  const report: ImportReport = await withProgress(ctx, 'compare', (onProgress) =>
    runImport(ctx.db, {
      kind: args.kind as ImportKind,
      path: args.file,
      apply: ctx.apply,
      skipInvalid: args.skipInvalid,
      operator: ctx.operator,
      now: ctx.now(),
      phoneSalt: ctx.config.phoneHashSalt,
      onProgress,
    }),
  );
  // The server's cached index expires by itself within a minute; this process's cache goes now.
  if (report.applied && report.inserted + report.updated > 0) invalidateAllocationCache(ctx.db);
  const exitCode = report.errorRows > 0 ? EXIT.findings : EXIT.ok;
  return { exitCode, json: report, output: formatImport(report, ctx, args.showIssues ?? 50) };
}

type ImportProgress = (p: { phase: 'validate' | 'write'; bytesRead: number; totalBytes: number; rows: number }) => void;

/**
 * Runs an import with a progress bar for each of its two passes (the second named `dryRunLabel`
 * without --apply); a file the CSV reader cannot use is a usage error (exit 2).
 */
async function withProgress<R>(
  ctx: CommandContext,
  dryRunLabel: string,
  run: (onProgress: ImportProgress) => Promise<R>,
): Promise<R> {
  const bars: Partial<Record<'validate' | 'write', Progress>> = {};
  try {
    return await run((p) => {
      const label = p.phase === 'validate' ? 'validate' : ctx.apply ? 'import' : dryRunLabel;
      if (p.phase === 'write' && !bars.write) bars.validate?.stop();
      bars[p.phase] ??= ctx.progress(label, p.totalBytes, 'rows');
      bars[p.phase]!.update(p.bytesRead, { rows: p.rows });
    });
  } catch (err) {
    if (err instanceof CsvInputError) throw new UsageError(err.message);
    throw err;
  } finally {
    bars.validate?.stop();
    bars.write?.stop();
  }
}

/** The issues table (up to `showIssues`) and how many more there are; nothing when the file is clean. */
function issueLines(r: FileImportReport, showIssues: number): string[] {
  if (!r.issues.length) return [];
  const listed = r.issues.slice(0, showIssues);
  const out = [
    '',
    renderTable(
      ['line', 'key', 'column', 'level', 'reason'],
      listed.map((i) => [i.line, i.key ?? '', i.column ?? '', i.severity, i.reason]),
    ),
  ];
  const more = r.issues.length - listed.length + r.issuesNotListed;
  if (more > 0) out.push(`… and ${more} more issues (use --json for the full list)`);
  return out;
}

export function formatImport(r: ImportReport, ctx: CommandContext, showIssues: number): string {
  const out: string[] = [modeLine(ctx)];
  out.push(
    `import ${r.kind} from ${r.file} (${r.encoding}, sha256 ${r.sha256.slice(0, 12)}…): ${r.rows} rows, ` +
      `${r.errorRows} with errors, ${r.warningRows} with warnings only`,
  );
  out.push(...issueLines(r, showIssues));
  out.push('');
  const verb = r.applied ? '' : ' (would be)';
  out.push(
    renderTable(
      ['result', 'rows'],
      [
        [`inserted${verb}`, r.inserted],
        [`updated${verb}`, r.updated],
        ['unchanged', r.unchanged],
        ['skipped (invalid)', r.applied ? r.skipped : r.errorRows],
      ],
    ),
  );
  if (r.samples.length && !r.applied) {
    out.push('');
    out.push('first changes:');
    out.push(
      renderTable(
        ['key', 'action', 'columns'],
        r.samples.map((s) => [s.key, s.action, s.columns.join(',')]),
      ),
    );
  }
  out.push('');
  if (r.refused) {
    out.push(
      `REFUSED: ${r.errorRows} rows have errors, nothing was written. Fix them, or pass --skip-invalid to import the ${r.rows - r.errorRows} valid rows.`,
    );
  } else if (r.applied) {
    out.push(`written in one transaction; audit row recorded for operator ${ctx.operator}.`);
  } else if (r.errorRows > 0) {
    out.push(`${r.errorRows} rows have errors: --apply will refuse this file unless --skip-invalid is given.`);
  } else {
    out.push('no errors: run again with --apply to write.');
  }
  return out.join('\n');
}

/**
 * `import outcomes <file.csv>`: bank outcomes credited to the last send within the attribution
 * window. Exit 1 when rows have errors (the apply is refused whole), 2 when the file is unusable.
 */
async function importOutcomesCommand(args: ImportArgs, ctx: CommandContext): Promise<CommandResult> {
  if (args.skipInvalid)
    throw new UsageError('--skip-invalid is not allowed for outcomes: fix the file and import it whole');
  const report: OutcomeImportReport = await withProgress(ctx, 'attribute', (onProgress) =>
    runOutcomeImport(ctx.db, {
      path: args.file,
      apply: ctx.apply,
      operator: ctx.operator,
      now: ctx.now(),
      windowDays: ctx.config.learning?.attributionWindowDays,
      onProgress,
    }),
  );
  const exitCode = report.errorRows > 0 ? EXIT.findings : EXIT.ok;
  return { exitCode, json: report, output: formatOutcomes(report, ctx, args.showIssues ?? 50) };
}

export function formatOutcomes(r: OutcomeImportReport, ctx: CommandContext, showIssues: number): string {
  const out: string[] = [modeLine(ctx)];
  out.push(
    `import outcomes from ${r.file} (${r.encoding}, sha256 ${r.sha256.slice(0, 12)}…): ${r.rows} rows, ` +
      `${r.errorRows} with errors, ${r.warningRows} with warnings only; attribution window ${r.windowDays} days`,
  );
  out.push(...issueLines(r, showIssues));
  out.push('');
  if (r.refused) {
    out.push(`REFUSED: ${r.errorRows} rows have errors, nothing was written. Fix them and import the file again.`);
    return out.join('\n');
  }
  const verb = r.applied ? '' : ' (would be)';
  out.push(
    renderTable(
      ['result', 'rows'],
      [
        [`new outcomes${verb}`, r.inserted],
        ['  credited to a send', r.attributed],
        ['  no send in the window', r.unattributed],
        ['already imported', r.alreadyImported],
        ...Object.entries(r.byEvent).map(([e, n]): [string, number] => [`  event ${e}`, n]),
      ],
    ),
  );
  out.push('');
  if (r.applied) out.push(`written in one transaction; audit row recorded for operator ${ctx.operator}.`);
  else if (r.errorRows > 0) out.push(`${r.errorRows} rows have errors: --apply will refuse this file.`);
  else out.push('no errors: run again with --apply to write.');
  return out.join('\n');
}
