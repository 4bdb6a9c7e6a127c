// `fleet prometheus config --inventory fleet.json`: the scrape job for the fleet's agents (printed,
// for prometheus.yml's scrape_configs) and its file_sd targets file (written), from the inventory.
import { writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { defaultJob } from '../../core/fleetView/promStats';
import { inventoryHosts, loadInventory } from '../../core/inventory/fleetFile';
import { scrapeConfig } from '../../core/prometheus/scrapeConfig';
import type { CliIO } from '../io';

interface Flags {
  inventory?: string;
  group?: string;
  targets: string;
  tokenFile: string;
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
      '--token-file <file>',
      "the agents' bearer token, as a file on the Prometheus machine",
      '/etc/prometheus/fleet-agent.token',
    )
    .option('--agent-port <port>', "the agents' TCP port (their --listen) for hosts with no agent: http://… entry")
    .option('--job <name>', 'the scrape job name (fleet.prometheus.job, fleet stats --prometheus-job)', defaultJob)
    .option('--scrape-interval <duration>', "the job's scrape interval (default: Prometheus' global one)")
    .action((o: Flags) => {
      if (!o.inventory) throw new UsageError('give the hosts: --inventory fleet.json');
      const hosts = inventoryHosts(loadInventory(o.inventory), o.group);
      const port = o.agentPort === undefined ? undefined : Number(o.agentPort);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
        throw new UsageError(`--agent-port ${o.agentPort}: give a TCP port (1-65535)`);
      let c;
      try {
        c = scrapeConfig(hosts, {
          job: o.job,
          tokenFile: o.tokenFile,
          targetsFile: resolve(o.targets),
          agentPort: port,
          scrapeInterval: o.scrapeInterval,
        });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      // written whole, then renamed: Prometheus re-reads the file when it changes, never half of it
      const tmp = `${o.targets}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(c.targets, null, 2) + '\n', { mode: 0o644 });
      renameSync(tmp, o.targets);
      io.out(c.yaml);
      io.err(`fleet: wrote ${o.targets}: ${c.targets.length} agent(s) to scrape\n`);
      for (const s of c.skipped) io.err(`fleet: skipped ${s.host}: ${s.why}\n`);
      if (!c.targets.length) throw new UsageError('no host has an agent Prometheus can scrape; see the lines above');
    });
}
