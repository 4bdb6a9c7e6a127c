// Entry point of dist/agent.js: `node dist/agent.js serve [flags]`.
import { Command } from 'commander';
import { agentServeCommand } from './serveCommand';

const program = new Command('fleet-agent').addCommand(agentServeCommand());
program.parseAsync(process.argv).catch((e) => {
  process.stderr.write(`fleet-agent: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
