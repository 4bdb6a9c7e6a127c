// The `fleet` command: parse, call core, print. Exit codes come from cli/exitCodes.ts.
import { Command, CommanderError } from 'commander';
import { errorMessage } from '../core/errors';
import { registerAgent } from './commands/agent';
import { registerDemo } from './commands/demo';
import { registerExpect } from './commands/expect';
import { registerHistory } from './commands/history';
import { registerHostkeys } from './commands/hostkeys';
import { registerLb } from './commands/lb';
import { registerPing } from './commands/ping';
import { registerPrometheus } from './commands/prometheus';
import { registerPush } from './commands/push';
import { registerRollout } from './commands/rollout';
import { registerRun } from './commands/run';
import { registerScan } from './commands/scan';
import { registerSshConfig } from './commands/sshConfig';
import { registerStats } from './commands/stats';
import { registerStatus } from './commands/status';
import { Exit, exitCodeOf } from './exitCodes';
import { processIO, type CliIO } from './io';

export function buildProgram(io: CliIO): Command {
  const program = new Command('fleet')
    .description(
      'automate a fleet of Linux machines: ping, scan, run and push over SSH, expect, agents, a load balancer, canaried rollouts',
    )
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(s) });
  registerPing(program, io);
  registerScan(program, io);
  registerRun(program, io);
  registerExpect(program, io);
  registerPush(program, io);
  registerHostkeys(program, io);
  registerAgent(program, io);
  registerLb(program, io);
  registerRollout(program, io);
  registerHistory(program, io);
  registerStatus(program, io);
  registerDemo(program, io);
  registerStats(program, io);
  registerPrometheus(program, io);
  registerSshConfig(program, io);
  return program;
}

/** runs one `fleet` command line; resolves with its exit code (the process, or a test, decides what to do with it) */
export async function main(io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...io.argv]);
    return io.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return Exit.ok;
      return Exit.usage; // commander already printed what was wrong
    }
    io.err(`fleet: ${errorMessage(err)}\n`);
    return exitCodeOf(err);
  }
}
