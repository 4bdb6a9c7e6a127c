// The agent's `serve` command, shared by dist/agent.js (agent/bin.ts) and `fleet agent serve`.
import { Command } from 'commander';
import { defaultAgentOptions } from './options';

export function agentServeCommand(name = 'serve'): Command {
  const d = defaultAgentOptions();
  return new Command(name)
    .description('run the Fleet agent: installs zip packages, supervises them, reports stats')
    .option('--data-dir <dir>', 'where packages, state and the socket live', d.dataDir)
    .option('--socket <path>', 'unix socket (default <data-dir>/agent.sock)')
    .option(
      '--listen <host:port>',
      'also listen on TCP, in TLS, with bearer tokens (default: the HOST:PORT in <data-dir>/listen, which deploy --listen writes)',
    )
    .option(
      '--token-file <file>',
      'the full bearer token for --listen: every route (created 0600 if missing; default <data-dir>/token)',
    )
    .option(
      '--read-token-file <file>',
      'the read-only bearer token for --listen: metrics and status, for Prometheus (created 0600 if missing; default <data-dir>/read-token)',
    )
    .option(
      '--plain-http <who>',
      'plain http on the --listen port: loopback (peers on this machine) or off (TLS only)',
      d.plainHttp,
    )
    .option(
      '--max-connections <n>',
      `TCP connections at once (${d.limits.maxConnectionsPerAddress} per peer address)`,
      (v) => Number(v),
      d.limits.maxConnections,
    )
    .option(
      '--head-timeout-ms <ms>',
      'TCP: time to finish the TLS handshake and send a request head',
      (v) => Number(v),
      d.limits.headTimeoutMs,
    )
    .option(
      '--body-timeout-ms <ms>',
      'longest silence while a request body arrives (then 408)',
      (v) => Number(v),
      d.bodyIdleTimeoutMs,
    )
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
        ['--max-connections', o.maxConnections],
        ['--head-timeout-ms', o.headTimeoutMs],
        ['--body-timeout-ms', o.bodyTimeoutMs],
      ] as const) {
        if (!(Number.isFinite(v) && v > 0)) throw new Error(`${flag} must be a positive number`);
      }
      if (o.plainHttp !== 'loopback' && o.plainHttp !== 'off')
        throw new Error(`--plain-http ${o.plainHttp}: expected loopback or off`);
      // loaded when the agent runs: every other `fleet` command starts without Express
      const { serveAgent } = await import('./serve');
      const agent = await serveAgent({
        ...d,
        dataDir: o.dataDir,
        socket: o.socket,
        listen: o.listen,
        tokenFile: o.tokenFile,
        readTokenFile: o.readTokenFile,
        plainHttp: o.plainHttp,
        limits: {
          ...d.limits,
          maxConnections: o.maxConnections,
          maxConnectionsPerAddress: Math.min(d.limits.maxConnectionsPerAddress, o.maxConnections),
          headTimeoutMs: o.headTimeoutMs,
        },
        bodyIdleTimeoutMs: o.bodyTimeoutMs,
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
      if (agent.tokenFile)
        process.stdout.write(
          `token file: ${agent.tokenFile}\nread-only token file: ${agent.readTokenFile}\nTLS certificate SHA256: ${agent.tlsFingerprint}\n`,
        );
      const shutdown = () => {
        agent.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
