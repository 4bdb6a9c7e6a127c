// The agent's `serve` command, shared by dist/agent.js (agent/bin.ts) and `fleet agent serve`.
import { Command } from 'commander';
import { defaultAgentOptions } from './options';

export function agentServeCommand(name = 'serve'): Command {
  const d = defaultAgentOptions();
  return new Command(name)
    .description('run the Fleet agent: installs zip packages, supervises them, reports stats')
    .option('--data-dir <dir>', 'where packages, state and the socket live', d.dataDir)
    .option('--socket <path>', 'unix socket (default <data-dir>/agent.sock)')
    .option('--listen <host:port>', 'also listen on TCP (needs a bearer token)')
    .option('--token-file <file>', 'bearer token file for --listen (created 0600 if missing; default <data-dir>/token)')
    .option(
      '--runtime-bin <dir>',
      "put DIR at the front of the programs' PATH (deploy passes the runtime's bin/, so #!/usr/bin/env node works)",
    )
    .option('--stats-interval <secs>', 'CPU and memory sampling interval', (v) => Number(v), d.statsIntervalSecs)
    .option('--max-package-bytes <n>', 'largest package accepted', (v) => Number(v), d.maxPackageBytes)
    .option(
      '--restart-backoff-ms <ms>',
      'first restart delay after a crash (doubles each time)',
      (v) => Number(v),
      d.supervisor.backoffBaseMs,
    )
    .option(
      '--max-restarts <n>',
      'quick crashes in a row before a package is left crashed',
      (v) => Number(v),
      d.supervisor.maxRestarts,
    )
    .option(
      '--grace-ms <ms>',
      'SIGTERM to SIGKILL grace when stopping a program',
      (v) => Number(v),
      d.supervisor.graceMs,
    )
    .action(async (o) => {
      for (const [flag, v] of [
        ['--stats-interval', o.statsInterval],
        ['--max-package-bytes', o.maxPackageBytes],
        ['--max-restarts', o.maxRestarts],
      ] as const) {
        if (!(Number.isFinite(v) && v > 0)) throw new Error(`${flag} must be a positive number`);
      }
      // loaded when the agent runs: every other `fleet` command starts without Express
      const { serveAgent } = await import('./serve');
      const agent = await serveAgent({
        ...d,
        dataDir: o.dataDir,
        socket: o.socket,
        listen: o.listen,
        tokenFile: o.tokenFile,
        statsIntervalSecs: o.statsInterval,
        maxPackageBytes: o.maxPackageBytes,
        supervisor: {
          ...d.supervisor,
          backoffBaseMs: o.restartBackoffMs,
          maxRestarts: o.maxRestarts,
          graceMs: o.graceMs,
          programPathPrefix: o.runtimeBin,
        },
      });
      if (agent.tokenFile) process.stdout.write(`token file: ${agent.tokenFile}\n`);
      const shutdown = () => {
        agent.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
