// `fleet prometheus config --inventory fleet.json`: the scrape job for the fleet's agents (printed,
// for prometheus.yml's scrape_configs), its file_sd targets file and the agents' pinned certificates
// as its CA file (both written), from the inventory. Prometheus gets the read-only token only.
import { writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { insecureHttpFromEnv } from '../../core/agentClient/endpoint';
import { defaultKnownAgentsFile, KnownAgents } from '../../core/agentClient/knownAgents';
import { UsageError } from '../../core/errors';
import { defaultJob } from '../../core/hosts/promStats';
import { inventoryHosts, loadInventory } from '../../core/inventory/fleetFile';
import { scrapeConfig } from '../../core/prometheus/scrapeConfig';
import type { CliIO } from '../io';

interface Flags {
  inventory?: string;
  group?: string;
  targets: string;
  caFile: string;
  readTokenFile: string;
  tokenFile?: string;
  knownAgents?: string;
  insecureHttp?: string[];
  agentPort?: string;
  job: string;
  scrapeInterval?: string;
}

export function registerPrometheus(program: Command, io: CliIO): void {
  const prom = program.command('prometheus').description('Fleet with a Prometheus that scrapes the agents');
  prom
    .command('config')
    .description("print a scrape job for the inventory's agents and write its file_sd targets")
    .option('--inventory <file>', 'the fleet.json to take hosts from')
    .option('--group <name>', 'only this group')
    .option('--targets <file>', 'the file_sd targets file to write (Prometheus must read it)', 'fleet-targets.json')
    .option(
      '--ca-file <file>',
      "the CA file to write: the agents' pinned TLS certificates (Prometheus must read it)",
      'fleet-agents-ca.pem',
    )
    .option(
      '--read-token-file <file>',
      "the agents' READ-ONLY token, as a file on the Prometheus machine (a copy of an agent's ~/.fleet-agent/read-token, or deploy --read-token-file)",
      '/etc/prometheus/fleet-agent-read.token',
    )
    .option('--token-file <file>', '(gone: Prometheus gets the read-only token, --read-token-file)')
    .option('--known-agents <file>', "the agents' pinned certificates (default ~/.fleet/known_agents.json)")
    .option(
      '--insecure-http <host>',
      'scrape this http:// agent in plain http (an agent from before TLS); repeatable',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--agent-port <port>', "the agents' TCP port (their --listen) for hosts with no agent: http://… entry")
    .option('--job <name>', 'the scrape job name (fleet.prometheus.job, fleet stats --prometheus-job)', defaultJob)
    .option('--scrape-interval <duration>', "the job's scrape interval (default: Prometheus' global one)")
    .action((o: Flags) => {
      if (!o.inventory) throw new UsageError('give the hosts: --inventory fleet.json');
      if (o.tokenFile)
        throw new UsageError(
          "--token-file is gone: Prometheus gets only the agents' read-only token (metrics and status), --read-token-file FILE; never give it an agent's full token",
        );
      const hosts = inventoryHosts(loadInventory(o.inventory), o.group);
      const port = o.agentPort === undefined ? undefined : Number(o.agentPort);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
        throw new UsageError(`--agent-port ${o.agentPort}: give a TCP port (1-65535)`);
      let c;
      try {
        c = scrapeConfig(hosts, {
          job: o.job,
          tokenFile: o.readTokenFile,
          targetsFile: resolve(o.targets),
          caFile: resolve(o.caFile),
          knownAgents: new KnownAgents(o.knownAgents ?? defaultKnownAgentsFile(io.env.HOME || undefined)),
          insecureHttp: [...(o.insecureHttp ?? []), ...insecureHttpFromEnv(io.env)],
          agentPort: port,
          scrapeInterval: o.scrapeInterval,
        });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      // written whole, then renamed: Prometheus re-reads the file when it changes, never half of it
      const place = (file: string, text: string) => {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, text, { mode: 0o644 });
        renameSync(tmp, file);
      };
      if (c.caPem) place(o.caFile, c.caPem);
      place(o.targets, JSON.stringify(c.targets, null, 2) + '\n');
      io.out(c.yaml);
      io.err(`fleet: wrote ${o.targets}: ${c.targets.length} agent(s) to scrape\n`);
      if (c.caPem) io.err(`fleet: wrote ${o.caFile}: the agents' pinned TLS certificates\n`);
      for (const s of c.skipped) io.err(`fleet: skipped ${s.host}: ${s.why}\n`);
      if (!c.targets.length) throw new UsageError('no host has an agent Prometheus can scrape; see the lines above');
    });
}
