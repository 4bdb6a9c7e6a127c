// `fleet agent deploy HOST…`, `fleet agent uninstall HOST…` and `fleet agent fetch-runtime`: put the
// agent (with its own Node runtime) on hosts, upgrade or roll it back, take it off again.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAgentBundle } from '../../core/agentInstall/agentBundle';
import { deploySummary, deployToHosts, type HostDeploy } from '../../core/agentInstall/fanout';
import { RuntimeSource, runtimeSourceFor } from '../../core/agentInstall/runtimeCache';
import { defaultCacheDir } from '../../core/cacheDir';
import { isRuntimeTarget, runtimePins, runtimeTargets, type RuntimeTarget } from '../../core/agentInstall/runtimePins';
import { uninstallAgent } from '../../core/agentInstall/uninstall';
import { pinAgentCertificate } from '../../core/agentInstall/tcpListener';
import { defaultKnownAgentsFile, KnownAgents } from '../../core/agentClient/knownAgents';
import { errorMessage, UsageError } from '../../core/errors';
import { megabytes as mb } from '../../core/format';
import { forHosts } from '../../core/ssh/forHosts';
import { exitOf } from '../exitCodes';
import { addSshFlags, hostKeysOf, preloadKeys, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

const runtimeDirHelp = 'take the runtime tarball from DIR (an air-gapped machine) instead of the cache';

function printDeploy(io: CliIO, r: HostDeploy, json?: boolean): void {
  if (json) {
    io.out(JSON.stringify(r.ok ? r.value : { host: r.host, error: errorMessage(r.error) }) + '\n');
    return;
  }
  if (!r.ok) return io.out(`${r.host}: failed: ${errorMessage(r.error)}\n`);
  const x = r.value;
  const sent = x.sent.runtime + x.sent.agent;
  io.out(
    `${x.host}: ${x.outcome} ${x.agent} (${x.mode}, ${x.runtime}${sent ? `, sent ${mb(sent)}${x.via === 'exec' ? ' over an exec channel: no SFTP' : ''}` : ''})${x.notes.map((n) => `; ${n}`).join('')}\n`,
  );
}

type DeployFlags = SshFlags & {
  agentJs: string;
  runtimeDir?: string;
  rollback?: boolean;
  listen?: string;
  tokenFile?: string;
  readTokenFile?: string;
  knownAgents?: string;
};

function knownAgentsOf(io: CliIO, o: { knownAgents?: string }): KnownAgents {
  return new KnownAgents(o.knownAgents ?? defaultKnownAgentsFile(io.env.HOME || undefined));
}

export function registerAgentDeploy(agent: Command, io: CliIO): void {
  addSshFlags(
    agent
      .command('pin')
      .description("read each host's agent TLS certificate over SSH and pin it for HOST:PORT (as deploy --listen does)")
      .argument('<hosts...>')
      .requiredOption('--agent-port <port>', "the agent's TCP port (its --listen)")
      .option('--address <host>', "the address clients use for the agent (default: the host's SSH address)")
      .option('--known-agents <file>', 'where to pin (default ~/.fleet/known_agents.json)'),
  ).action(async (hosts: string[], o: SshFlags & { agentPort: string; address?: string; knownAgents?: string }) => {
    const port = Number(o.agentPort);
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535))
      throw new UsageError(`--agent-port ${o.agentPort}: give a TCP port (1-65535)`);
    const ctx = sshContext(io, hosts, o);
    await preloadKeys(ctx);
    const known = knownAgentsOf(io, o);
    try {
      const outcomes = await forHosts(
        ctx.endpoints,
        (ep) =>
          pinAgentCertificate(ctx.pool, ep, port, {
            knownAgents: known,
            address: o.address,
            source: `fleet agent pin ${ep.label} (over SSH)`,
          }),
        {
          concurrency: o.concurrency,
          hostKeys: hostKeysOf(ctx),
          onOutcome: (r) =>
            io.out(
              o.json
                ? JSON.stringify(r.ok ? { host: r.host, ...r.value } : { host: r.host, error: errorMessage(r.error) }) +
                    '\n'
                : r.ok
                  ? `${r.host}: pinned ${r.value.address} SHA256 ${r.value.fingerprint}${r.value.replaced ? ` (was ${r.value.replaced})` : ''}\n`
                  : `${r.host}: failed: ${errorMessage(r.error)}\n`,
            ),
        },
      );
      io.exitCode = exitOf(outcomes);
    } finally {
      ctx.pool.close();
    }
  });

  addSshFlags(
    agent
      .command('deploy')
      .description(
        'put the agent and its Node runtime on hosts (or upgrade it), start it as a service, wait until it answers',
      )
      .argument('<hosts...>')
      .option('--agent-js <file>', 'the agent bundle to deploy', resolve(__dirname, 'agent.js'))
      .option('--runtime-dir <dir>', runtimeDirHelp)
      .option('--rollback', 'switch back to the agent build kept from the deploy before')
      .option(
        '--listen <host:port>',
        'the agent also listens on TCP there, in TLS (kept by later deploys; off removes it); deploy pins its certificate',
      )
      .option('--token-file <file>', 'with --listen: copy this full token to every host (made 0600 here if missing)')
      .option(
        '--read-token-file <file>',
        'with --listen: copy this read-only token (metrics and status, for Prometheus) to every host (made if missing)',
      )
      .option('--known-agents <file>', 'where to pin the certificates (default ~/.fleet/known_agents.json)'),
  ).action(async (hosts: string[], o: DeployFlags) => {
    if ((o.tokenFile || o.readTokenFile) && !o.listen)
      throw new UsageError(
        '--token-file and --read-token-file go with --listen HOST:PORT (the TCP listener uses them)',
      );
    const runtime = runtimeSourceFor({ runtimeDir: o.runtimeDir, env: io.env, log: (m) => io.err(`${m}\n`) });
    const bundle = loadAgentBundle(o.agentJs, defaultCacheDir(io.env));
    const ctx = sshContext(io, hosts, o);
    await preloadKeys(ctx);
    try {
      const results = await deployToHosts(ctx.pool, ctx.endpoints, bundle, {
        runtime,
        rollback: o.rollback,
        listen: o.listen ? { address: o.listen, tokenFile: o.tokenFile, readTokenFile: o.readTokenFile } : undefined,
        knownAgents: knownAgentsOf(io, o),
        concurrency: o.concurrency,
        onProgress: o.json ? undefined : (host, m) => io.err(`${host}: ${m}\n`),
        hostKeys: hostKeysOf(ctx),
        onOutcome: (r) => printDeploy(io, r, o.json),
      });
      if (!o.json) io.out(deploySummary(results) + '\n');
      io.exitCode = exitOf(results);
    } finally {
      ctx.pool.close();
    }
  });

  addSshFlags(
    agent
      .command('uninstall')
      .description('stop the agent and remove what deploy put on the hosts (installed packages stay unless --purge)')
      .argument('<hosts...>')
      .option('--purge', 'also stop every package and remove them, their state and logs'),
  ).action(async (hosts: string[], o: SshFlags & { purge?: boolean }) => {
    const ctx = sshContext(io, hosts, o);
    await preloadKeys(ctx);
    try {
      const outcomes = await forHosts(
        ctx.endpoints,
        (ep) =>
          uninstallAgent(ctx.pool, ep, {
            purge: o.purge,
            progress: o.json ? undefined : (m) => io.err(`${ep.label}: ${m}\n`),
          }),
        {
          concurrency: o.concurrency,
          hostKeys: hostKeysOf(ctx),
          onOutcome: (r) => {
            if (!r.ok)
              return io.out(
                o.json
                  ? JSON.stringify({ host: r.host, error: errorMessage(r.error) }) + '\n'
                  : `${r.host}: failed: ${errorMessage(r.error)}\n`,
              );
            const u = r.value;
            io.out(
              o.json
                ? JSON.stringify(u) + '\n'
                : u.found
                  ? `${r.host}: removed ${u.removed.join(', ')}${u.stoppedPackages.length ? `; stopped ${u.stoppedPackages.join(', ')}` : ''}${u.notes.map((n) => `; ${n}`).join('')}\n`
                  : `${r.host}: no agent there, nothing to remove\n`,
            );
          },
        },
      );
      io.exitCode = exitOf(outcomes);
    } finally {
      ctx.pool.close();
    }
  });

  agent
    .command('fetch-runtime')
    .description("fetch the agent's pinned Node runtime into the cache (or DIR), checked against its sha256")
    .option(
      '--target <target>',
      `${runtimeTargets.join(' or ')} (repeatable; default linux-x64)`,
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--runtime-dir <dir>', 'put it in DIR (to carry to an air-gapped machine) instead of the cache')
    .action(async (o: { target?: string[]; runtimeDir?: string }) => {
      const targets = o.target ?? ['linux-x64'];
      for (const t of targets)
        if (!isRuntimeTarget(t)) throw new UsageError(`--target ${t}: expected ${runtimeTargets.join(' or ')}`);
      const log = (m: string) => io.err(`${m}\n`);
      const source = o.runtimeDir
        ? new RuntimeSource({ dir: resolve(o.runtimeDir), fetch: true, env: io.env, log })
        : runtimeSourceFor({ env: io.env, log });
      for (const t of targets as RuntimeTarget[]) {
        const file = await source.tarball(t);
        io.out(`${t}: ${file} (${mb(runtimePins[t].tarballBytes)}, sha256 ${runtimePins[t].tarballSha256})\n`);
      }
    });
}
