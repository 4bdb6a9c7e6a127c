// `fleet stats [TARGETS] [--inventory F] [--prometheus URL]`: each host's liveness, CPU, memory,
// load, agent and packages, the table the Hosts view shows. With --prometheus the hosts it scrapes
// come from three queries, and only the others are asked over SSH; the SOURCE column says which.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { FleetModel, type FleetHost } from '../../core/hosts/fleetModel';
import { defaultJob } from '../../core/hosts/promStats';
import { checkJobName } from '../../core/prometheus/jobName';
import { ago, formatBytesPair, formatUptime } from '../../core/fleetView/treeModel';
import { liveness, type HostState } from '../../core/hosts/hostState';
import { inventoryHosts, loadInventory } from '../../core/inventory/fleetFile';
import { PrometheusClient, type PrometheusAuth } from '../../core/prometheus/client';
import { readPrivateFile, readTokenFile } from '../../core/token';
import { addSshFlags, sshContext, type SshFlags } from '../sshOptions';
import { formatColumns } from '../columns';
import type { CliIO } from '../io';

interface Flags extends SshFlags {
  prometheus?: string;
  prometheusJob: string;
  prometheusTokenFile?: string;
  prometheusUser?: string;
  prometheusPasswordFile?: string;
}

export function registerStats(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('stats')
      .description(
        "hosts' liveness, CPU, memory, load, agent and packages: from Prometheus where it scrapes them, else SSH",
      )
      .argument('[targets...]', 'user@host:port or ~/.ssh/config names (or --inventory FILE)')
      .option('--prometheus <url>', 'a Prometheus scraping the agents (fleet prometheus config)')
      .option('--prometheus-job <name>', 'their scrape job', defaultJob)
      .option('--prometheus-token-file <file>', 'a 0600 file with a bearer token for Prometheus')
      .option('--prometheus-user <user>', 'basic auth user for Prometheus (password: --prometheus-password-file)')
      .option('--prometheus-password-file <file>', 'a 0600 file with the basic auth password'),
  ).action(async (targets: string[], o: Flags) => {
    if (targets.length === 0 && !o.inventory)
      throw new UsageError('no targets given: name hosts or use --inventory FILE');
    const ctx = sshContext(io, targets, o);
    const groups = new Map<string, string[]>();
    if (o.inventory) for (const h of inventoryHosts(loadInventory(o.inventory), o.group)) groups.set(h.name, h.groups);
    const hosts: FleetHost[] = ctx.endpoints.map((e) => ({
      name: e.label,
      groups: groups.get(e.label) ?? [],
      endpoint: e,
    }));
    const model = new FleetModel(ctx.pool, () => undefined);
    model.setHosts(hosts);
    if (o.prometheus)
      model.prometheus = {
        client: new PrometheusClient(o.prometheus, { auth: promAuth(o), timeoutMs: 10_000 }),
        job: jobName(o.prometheusJob),
      };
    try {
      await model.refresh({ concurrency: o.concurrency, timeoutMs: (o.timeout ?? 10) * 1000 });
    } finally {
      ctx.pool.close();
    }
    if (model.prometheusError)
      io.err(`fleet: Prometheus not used: ${model.prometheusError}; asked every host over SSH\n`);
    const states = hosts.map((h) => model.states.get(h.name)!);
    if (o.json) for (const s of states) io.out(JSON.stringify(jsonOf(s)) + '\n');
    else io.out(table(states, new Date()));
    io.exitCode = states.some((s) => liveness(s) !== 'up') ? 2 : 0;
  });
}

function jobName(job: string): string {
  try {
    return checkJobName(job);
  } catch (e) {
    throw new UsageError(`--prometheus-job: ${(e as Error).message}`);
  }
}

function promAuth(o: Flags): PrometheusAuth {
  if (o.prometheusTokenFile && o.prometheusUser)
    throw new UsageError('--prometheus-token-file and --prometheus-user: choose one way to authenticate');
  if (o.prometheusTokenFile) return { kind: 'bearer', token: readTokenFile(o.prometheusTokenFile) };
  if (o.prometheusUser) {
    if (!o.prometheusPasswordFile) throw new UsageError('--prometheus-user needs --prometheus-password-file FILE');
    return {
      kind: 'basic',
      user: o.prometheusUser,
      password: readPrivateFile(o.prometheusPasswordFile, 'password file').replace(/\r?\n$/, ''),
    };
  }
  return { kind: 'none' };
}

function jsonOf(s: HostState) {
  const p = s.probe;
  return {
    host: s.name,
    state: liveness(s),
    source: p?.source ?? null,
    at: p?.at.toISOString() ?? null,
    ...(p?.ok ? { stats: p.probe } : { error: p?.error ?? null }),
    packages: Array.isArray(s.packages)
      ? s.packages.map((k) => ({ name: k.name, state: k.state, version: k.version }))
      : [],
  };
}

function table(states: HostState[], now: Date): string {
  const rows = states.map((s) => {
    const p = s.probe?.ok ? s.probe.probe : undefined;
    const pk = Array.isArray(s.packages) ? s.packages : [];
    return [
      s.name,
      liveness(s),
      p?.cpuPct != null ? `${Math.round(p.cpuPct)}%` : '',
      p?.memUsedBytes != null && p.memTotalBytes != null ? formatBytesPair(p.memUsedBytes, p.memTotalBytes) : '',
      p?.load1 !== undefined ? p.load1.toFixed(2) : '',
      p?.uptimeSecs !== undefined ? formatUptime(p.uptimeSecs) : '',
      p ? (p.agentSocket ? (p.agentId ?? 'yes') : 'no') : '',
      pk.map((k) => `${k.name}:${k.state}`).join(',') || (p?.agentSocket ? '-' : ''),
      s.probe ? `${s.probe.source ?? 'ssh'} ${ago(s.probe.at, now)}` : '',
      s.probe && !s.probe.ok ? s.probe.error : '',
    ];
  });
  const head = ['HOST', 'STATE', 'CPU', 'MEM', 'LOAD', 'UPTIME', 'AGENT', 'PACKAGES', 'SOURCE', 'ERROR'];
  return formatColumns(head, rows).join('\n') + '\n';
}
