// The `fleet` command: parse, call core, print. Exit codes come from cli/exitCodes.ts.
import { Command, CommanderError } from 'commander';
import { errorMessage } from '../core/errors';
import { registerAgent } from './commands/agent';
import { registerDemo } from './commands/demo';
import { registerExpect } from './commands/expect';
import { registerHostkeys } from './commands/hostkeys';
import { registerLb } from './commands/lb';
import { registerPing } from './commands/ping';
import { registerPush } from './commands/push';
import { registerRollout } from './commands/rollout';
import { registerRun } from './commands/run';
import { registerScan } from './commands/scan';
import { Exit, exitCodeOf } from './exitCodes';

export function buildProgram(argv: readonly string[] = process.argv): Command {
  const program = new Command('fleet')
    .description('automate a fleet of Linux machines: ping, scan, run and push over SSH, expect, agents, a load balancer, canaried rollouts')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerPing(program);
  registerScan(program);
  registerRun(program, () => argv);
  registerExpect(program);
  registerPush(program);
  registerHostkeys(program);
  registerAgent(program, () => argv);
  registerLb(program);
  registerRollout(program);
  registerDemo(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : Exit.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return Exit.ok;
      return Exit.usage; // commander already printed what was wrong
    }
    process.stderr.write(`fleet: ${errorMessage(err)}\n`);
    return exitCodeOf(err);
  }
}
