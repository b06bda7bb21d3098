#!/usr/bin/env node
import 'reflect-metadata';
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import type { DataSource } from 'typeorm';
import { type Config, ConfigError, loadConfig } from '../server/config';
import { openDatabase } from '../server/db/data-source';
import { AppError } from '../server/errors';
import { type CommandContext, type CommandResult, EXIT, UsageError } from './commands/context';
import { silentProgress, terminalProgress } from './commands/progress';
import { registerCommands } from './commands/registry';
import { wecomFactory } from './commands/wecom-api';

/**
 * `npm run ops -- <command>` / `wecom-ops <command>`: the operator CLI. Commander parses, the
 * command functions in scripts/commands do the work (tests call them directly). The database is
 * opened from DATABASE_URL like the server; the HTTP server is never started.
 * Exit codes: 0 ok, 1 findings or partial failure, 2 usage or input error.
 */

interface GlobalOptions {
  json?: boolean;
  operator?: string;
  apply?: boolean;
}

function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export type Runner = (
  fn: (args: never, ctx: CommandContext) => Promise<CommandResult>,
  args: object,
  cmd: Command,
  opts?: { db?: boolean },
) => Promise<void>;

async function openForCli(): Promise<{ db: DataSource; config: ReturnType<typeof loadConfig> }> {
  const config = loadConfig(process.env);
  // Migrations are the server's job (`npm run migrate`): the CLI never changes the schema.
  const db = await openDatabase({ url: config.database.url, poolSize: 4 }, { migrate: false });
  if (await db.showMigrations()) {
    await db.destroy();
    throw new UsageError('the database schema is not up to date: run `npm run migrate` first');
  }
  return { db, config };
}

function print(text: string) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('wecom-ops');
  program
    .description('Operator CLI for the WeCom customer-manager server (dry run by default; --apply writes)')
    .option('--json', 'print one JSON document instead of tables')
    .option('--operator <name>', 'who runs this, recorded in audit rows (default: the OS user)')
    .option('--apply', 'really write (every write command is a dry run without it)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 findings or partial failure, 2 usage or input error.\n' +
        'The database comes from DATABASE_URL (as for the server). See scripts/commands/README.md.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  const run: Runner = async (fn, args, cmd, opts = {}) => {
    const g = cmd.optsWithGlobals() as GlobalOptions;
    let opened: { db: DataSource | null; config: Config } | null = null;
    const closers: (() => Promise<void>)[] = [];
    try {
      opened = opts.db === false ? { db: null, config: loadConfig(process.env) } : await openForCli();
      const db = opened.db as DataSource;
      const ctx: CommandContext = {
        db,
        config: opened.config,
        wecom: db
          ? wecomFactory(db, opened.config, closers, { notice: (line) => process.stderr.write(`${line}\n`) })
          : undefined,
        stdout: print,
        now: Date.now,
        operator: (g.operator ?? defaultOperator()).trim() || 'unknown',
        json: Boolean(g.json),
        apply: Boolean(g.apply),
        progress: g.json && !process.stderr.isTTY ? silentProgress : terminalProgress(process.stderr),
      };
      const result = await fn(args as never, ctx);
      if (ctx.json) print(JSON.stringify(result.json ?? null, null, 2));
      else if (result.output) print(result.output);
      exitCode = result.exitCode;
    } catch (err) {
      // Service errors about the input (unknown version, duplicate …) are usage errors, not crashes.
      const usage =
        err instanceof UsageError || err instanceof ConfigError || (err instanceof AppError && err.statusCode < 500);
      const message = err instanceof Error ? err.message : String(err);
      if (g.json) print(JSON.stringify({ error: { code: usage ? 'usage' : 'failed', message } }));
      process.stderr.write(`${usage ? 'error' : 'failed'}: ${message}\n`);
      exitCode = usage ? EXIT.usage : EXIT.findings;
    } finally {
      for (const close of closers) await close();
      await opened?.db?.destroy();
    }
  };

  registerCommands(program, run);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
      return ok ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
  return exitCode;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT.findings;
    },
  );
}
