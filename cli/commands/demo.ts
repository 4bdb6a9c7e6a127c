// `fleet demo` (npm run demo): the talk's demo on this machine. Built-in LB on 127.0.0.1:9090/9091,
// 8 sample web v1 backends on 9092-9099 each under its own agent, the canaried rollout to v2 from
// examples/service.json, then a few requests through the LB. Ctrl-C or the end stops all it started.
import { mkdtempSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { LocalFleet } from '../../demo/localFleet';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import { Rollout } from '../../core/rollout/workflow';
import { buildExamples } from '../../examples/build';
import { printPoolHealth } from './lb';
import { exitOfEndState, formatEvent } from './rollout';
import type { CliIO } from '../io';

export function registerDemo(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description(
      'start a local fleet (built-in LB, 8 web backends under agents) and run the canaried rollout of examples/service.json',
    )
    .option('--service <file>', 'service.json to roll out', resolve(__dirname, '../examples/service.json'))
    .action(async (o: { service: string }) => {
      const out = (s: string) => io.out(s + '\n');
      const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'fleet-zips-')), resolve(__dirname, '../examples'));
      const local = new LocalFleet({
        serviceJson: o.service,
        zips,
        agentJs: resolve(__dirname, 'agent.js'),
        log: (m) => out(`demo: ${m}`),
      });
      let rollout: Rollout | undefined;
      let stopping = false;
      const onSigint = () => {
        if (stopping) return;
        stopping = true;
        out('demo: interrupted; aborting the rollout and stopping everything');
        rollout?.abort();
      };
      const offInterrupt = io.onInterrupt(onSigint);
      try {
        await local.start();
        out(`demo: before the rollout: ${(await fetchText(local.proxyUrl)).trim()}`);
        const svc = await loadService(local.serviceFile);
        rollout = new Rollout(svc, rolloutDeps(svc), { onEvent: (e) => out(formatEvent(e)) });
        if (stopping) rollout.abort();
        const result = await rollout.run();
        out('');
        out(printPoolHealth(await local.lbClient().poolHealth(svc.config.Pattern)).trimEnd());
        out('');
        for (let i = 0; i < 4; i++) out(`GET ${local.proxyUrl}/ -> ${(await fetchText(local.proxyUrl)).trim()}`);
        io.exitCode = exitOfEndState[result];
      } finally {
        offInterrupt();
        await local.stop();
        out('demo: stopped the LB, the agents and their programs');
      }
    });
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}
