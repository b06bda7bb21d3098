import type { Command } from 'commander';
import type { Runner } from '../ops';
import {
  sopApplyCommand,
  sopListCommand,
  sopRunCommand,
  sopStatusChange,
  sopStatusCommand,
  sopValidateCommand,
} from './sop';

/** `ops sop …`: SOP plans (server/sop). */
export function registerSopCommands(program: Command, run: Runner): void {
  const sop = program
    .command('sop')
    .description('head-office SOP plans → WeCom mass-send / moment tasks for group owners and managers');
  sop
    .command('validate')
    .description('check a plan file (JSON or YAML): every problem with its path; exit 1 when there are any')
    .argument('<file>', 'plan file')
    .action((file: string, _o: object, cmd: Command) => run(sopValidateCommand, { file }, cmd));
  sop
    .command('apply')
    .description('create the plan or a new version of it, with the diff against the running version')
    .argument('<file>', 'plan file')
    .action((file: string, _o: object, cmd: Command) => run(sopApplyCommand, { file }, cmd));
  sop
    .command('list')
    .description('plans with their status, version and latest occurrence')
    .action((_o: object, cmd: Command) => run(sopListCommand, {}, cmd));
  for (const [name, status, what] of [
    ['pause', 'paused', 'no new occurrences or WeCom tasks until resumed (open tasks are still followed)'],
    ['resume', 'active', 'run the plan again'],
    ['cancel', 'cancelled', 'stop for good: pending tasks dropped, open WeCom tasks cancelled (cancel_groupmsg_send)'],
  ] as const) {
    sop
      .command(name)
      .description(what)
      .argument('<id>', 'plan id')
      .action((id: string, _o: object, cmd: Command) => run(sopStatusChange(status), { id }, cmd));
  }
  sop
    .command('run')
    .description('run the current occurrence now (dry run: the audience it would reach); a rerun repeats nothing')
    .argument('<id>', 'plan id')
    .option(
      '--lease-seconds <n>',
      'how long a WeCom task this run claims is held before another run may take it over (a killed run)',
      '120',
    )
    .action((id: string, o: { leaseSeconds?: string }, cmd: Command) =>
      run(sopRunCommand, { id, leaseSeconds: o.leaseSeconds }, cmd),
    );
  sop
    .command('status')
    .description('the latest occurrence per branch and sender: tasks, sent, not sent, over the cap')
    .argument('<id>', 'plan id')
    .option('--occurrence <n>', 'another occurrence (its number)')
    .action((id: string, opts: { occurrence?: string }, cmd: Command) =>
      run(sopStatusCommand, { id, occurrence: opts.occurrence }, cmd),
    );
}
