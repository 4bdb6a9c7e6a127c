// `fleet agent …`: run an agent (serve), drive one (install, list, status, start, stop, restart,
// rollback, remove, logs, stats, info), or put one on hosts (deploy, uninstall, fetch-runtime).
import { accessSync, constants } from 'node:fs';
import { Command } from 'commander';
import { agentServeCommand } from '../../agent/serveCommand';
import { AgentClient, LeaseHeldError, type ChangeOptions } from '../../core/agentClient/client';
import { controllerIdentity } from '../../core/rollout/controller';
import { insecureHttpFromEnv, parseAgentEndpoint } from '../../core/agentClient/endpoint';
import { defaultKnownAgentsFile, KnownAgents } from '../../core/agentClient/knownAgents';
import { loadToken } from '../../core/token';
import { UsageError, ValidationError } from '../../core/errors';
import type { PackageStatus } from '../../core/protocol/agent';
import { addSshFlags, sshContext, type SshFlags } from '../sshOptions';
import { registerAgentDeploy } from './agentDeploy';
import type { CliIO } from '../io';

type ClientFlags = SshFlags & { tokenFile?: string; knownAgents?: string; insecureHttp?: string[]; force?: string };

/** a change of a package: refused while a rollout holds it, unless --force (recorded on the agent) */
function withForceFlag(cmd: Command): Command {
  return cmd.option(
    '--force <reason>',
    "change the package even while a rollout holds it (the agent records the change, the reason and who made it in the package's history)",
  );
}

/** the change's options; a refusal says how to force it */
async function change<T>(o: ClientFlags, fn: (opts: ChangeOptions) => Promise<T>): Promise<T> {
  try {
    return await fn(o.force !== undefined ? { force: o.force } : {});
  } catch (e) {
    if (e instanceof LeaseHeldError)
      e.message += `; to change it anyway, repeat with --force REASON (recorded in the package's history)`;
    throw e;
  }
}

function withClientFlags(cmd: Command): Command {
  return addSshFlags(
    cmd
      .option(
        '--token-file <file>',
        "the agent's bearer token for https:// endpoints (or FLEET_AGENT_TOKEN); its read-only token suffices for list, status, stats and info",
      )
      .option('--known-agents <file>', "the agents' pinned TLS certificates (default ~/.fleet/known_agents.json)")
      .option(
        '--insecure-http <host>',
        'allow plain http:// to this agent host (an agent from before TLS, on a network you trust); repeatable',
        (v: string, acc: string[] = []) => [...acc, v],
      ),
  );
}

/** builds a client and runs fn, closing SSH connections afterwards */
async function withAgent<T>(
  io: CliIO,
  endpointText: string,
  o: ClientFlags,
  fn: (c: AgentClient) => Promise<T>,
): Promise<T> {
  const ep = parseAgentEndpoint(endpointText);
  const actor = controllerIdentity('cli', io.env);
  if (ep.kind === 'ssh') {
    const ctx = sshContext(io, [ep.target], o);
    try {
      return await fn(new AgentClient(ep, { pool: ctx.pool, sshEndpoint: ctx.endpoints[0], actor }));
    } finally {
      ctx.pool.close();
    }
  }
  let token: string | undefined;
  if (ep.kind === 'http' || ep.kind === 'https') {
    token = loadToken(o.tokenFile, 'FLEET_AGENT_TOKEN', io.env);
    if (!token) throw new UsageError(`${ep.text} needs the agent's token: --token-file FILE or FLEET_AGENT_TOKEN`);
  }
  const knownAgents = new KnownAgents(o.knownAgents ?? defaultKnownAgentsFile(io.env.HOME || undefined));
  const insecureHttp = [...(o.insecureHttp ?? []), ...insecureHttpFromEnv(io.env)];
  return fn(new AgentClient(ep, { token, knownAgents, insecureHttp, actor }));
}

function printStatus(io: CliIO, s: PackageStatus, json?: boolean): void {
  io.out(
    json
      ? JSON.stringify(s) + '\n'
      : `${s.name}: ${s.state} (pid ${s.pid ?? '-'}, restarts ${s.restarts}, version ${s.version}, sha256 ${s.sha256.slice(0, 12)})${s.note ? `: ${s.note}` : ''}\n`,
  );
}

export function registerAgent(program: Command, io: CliIO): void {
  const agent = program.command('agent').description('the on-host agent: serve, install and manage packages, deploy');
  agent.addCommand(agentServeCommand());

  withClientFlags(
    withForceFlag(agent.command('install'))
      .description(
        'install a zip package and start BINARY with ARGS (after --); the previous version is kept for rollback',
      )
      .argument('<endpoint>', 'https://HOST:PORT, ssh://user@host[:port] or unix:/path')
      .argument('<name>')
      .argument('<zip>')
      .argument('<binary>', 'path of the program inside the zip')
      .argument('[args...]'),
  ).action(async (endpoint: string, name: string, zip: string, binary: string, args: string[], o: ClientFlags) => {
    const raw = io.argv;
    const dash = raw.indexOf('--');
    const programArgs = dash >= 0 ? raw.slice(dash + 1) : args;
    try {
      accessSync(zip, constants.R_OK);
    } catch (e) {
      throw new ValidationError(zip, '', `cannot read the zip file: ${(e as NodeJS.ErrnoException).code}`);
    }
    await withAgent(io, endpoint, o, async (c) =>
      printStatus(io, await change(o, (f) => c.install(name, zip, { binary, args: programArgs }, f)), o.json),
    );
  });

  withClientFlags(
    agent.command('list').description('installed packages and their state').argument('<endpoint>'),
  ).action(async (endpoint: string, o: ClientFlags) => {
    await withAgent(io, endpoint, o, async (c) => {
      const list = await c.list();
      if (o.json) return list.forEach((s) => printStatus(io, s, true));
      io.out(`${'NAME'.padEnd(20)} ${'STATE'.padEnd(9)} ${'PID'.padEnd(8)} RESTARTS  VERSION\n`);
      for (const s of list)
        io.out(
          `${s.name.padEnd(20)} ${s.state.padEnd(9)} ${String(s.pid ?? '-').padEnd(8)} ${String(s.restarts).padEnd(9)} ${s.version}\n`,
        );
    });
  });

  withClientFlags(agent.command('status').argument('<endpoint>').argument('<name>')).action(
    async (endpoint: string, name: string, o: ClientFlags) => {
      await withAgent(io, endpoint, o, async (c) => printStatus(io, await c.status(name), o.json));
    },
  );
  for (const op of ['start', 'stop', 'restart', 'rollback'] as const) {
    withClientFlags(
      withForceFlag(agent.command(op).description(`${op} a package`).argument('<endpoint>').argument('<name>')),
    ).action(async (endpoint: string, name: string, o: ClientFlags) => {
      await withAgent(io, endpoint, o, async (c) =>
        printStatus(io, await change(o, (f) => c.action(name, op, f)), o.json),
      );
    });
  }
  withClientFlags(
    withForceFlag(
      agent.command('remove').description('stop a package and delete it').argument('<endpoint>').argument('<name>'),
    ),
  ).action(async (endpoint: string, name: string, o: ClientFlags) => {
    await withAgent(io, endpoint, o, (c) => change(o, (f) => c.remove(name, f)));
  });
  withClientFlags(
    agent
      .command('logs')
      .argument('<endpoint>')
      .argument('<name>')
      .option('--tail <n>', 'lines', (v) => Number(v), 100),
  ).action(async (endpoint: string, name: string, o: ClientFlags & { tail: number }) => {
    await withAgent(io, endpoint, o, async (c) => io.out(await c.logs(name, o.tail)));
  });
  withClientFlags(
    agent.command('stats').description("the host's CPU and memory (/debug/vars)").argument('<endpoint>'),
  ).action(async (endpoint: string, o: ClientFlags) => {
    await withAgent(io, endpoint, o, async (c) =>
      io.out(JSON.stringify(await c.stats(), null, o.json ? undefined : 2) + '\n'),
    );
  });
  withClientFlags(
    agent.command('info').description('which agent answers: version, build, node, pid').argument('<endpoint>'),
  ).action(async (endpoint: string, o: ClientFlags) => {
    await withAgent(io, endpoint, o, async (c) => {
      const i = await c.info();
      io.out(
        o.json
          ? JSON.stringify(i) + '\n'
          : `agent ${i.version}-${i.build} on node ${i.node}, pid ${i.pid}, since ${i.startedAt}${i.runtimeBin ? `; programs get ${i.runtimeBin} first in PATH` : ''}\n`,
      );
    });
  });
  registerAgentDeploy(agent, io);
}
