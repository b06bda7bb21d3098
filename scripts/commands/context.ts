import type { DataSource } from 'typeorm';
import type { Config } from '../../server/config';
import type { WecomApi } from '../../server/wecom/api-types';
import { type ProgressFactory, silentProgress } from './progress';

/**
 * Every command is a plain async function `(args, ctx) => CommandResult`, so tests call it
 * in-process against a real database; scripts/ops.ts only wires commander to these functions.
 */
export interface CommandContext {
  db: DataSource;
  config: Config;
  /** Human-readable output (tables). Machine output goes in CommandResult.json. */
  stdout: (text: string) => void;
  /** Clock for periods and audit timestamps; tests pass a fixed one. */
  now: () => number;
  /** Who runs the command, recorded in audit rows (`--operator` or the OS user). */
  operator: string;
  json: boolean;
  /** Writes happen only with --apply; everything else is a dry run. */
  apply: boolean;
  progress: ProgressFactory;
  /** The WeCom API, created on first use (only reassign needs it). */
  wecom?: () => Promise<WecomApi>;
}

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CommandResult {
  exitCode: ExitCode;
  /** Text for a terminal (printed when --json is off). */
  output?: string;
  /** Printed as one JSON document when --json is on. */
  json?: unknown;
}

/** Bad arguments or unreadable input: exit 2 with the message, never a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function makeContext(partial: Partial<CommandContext> & Pick<CommandContext, 'db' | 'config'>): CommandContext {
  return {
    stdout: () => {},
    now: Date.now,
    operator: 'test',
    json: false,
    apply: false,
    progress: silentProgress,
    ...partial,
  };
}

/** The mode line printed above every write command's output. */
export function modeLine(ctx: CommandContext): string {
  return ctx.apply ? 'mode: APPLY (写入)' : 'mode: dry run (预演) - nothing is written; add --apply to write';
}
