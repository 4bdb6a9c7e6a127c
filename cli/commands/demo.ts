// `fleet demo` (npm run demo): the talk's demo on this machine. Built-in LB on 127.0.0.1:9090/9091,
// 8 sample web v1 backends on 9092-9099 each under its own agent, the canaried rollout to v2 from
// examples/service.json under steady traffic through the LB (its canary is judged by that traffic),
// then a few requests through the LB. `--flaky` rolls out a build that fails every 4th request: the
// canary analysis stops it. Ctrl-C or the end stops all it started.
import { mkdtempSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import { Rollout } from '../../core/rollout/workflow';
import { startDemoLoad } from '../../demo/load';
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
    .option(
      '--flaky',
      'roll out web v2-flaky instead: healthy, but every 4th answer is a 500; the canary analysis stops it (exit 4)',
    )
    .action(async (o: { service: string; flaky?: boolean }) => {
      const out = (s: string) => io.out(s + '\n');
      const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'fleet-zips-')), resolve(__dirname, '../examples'));
      // loaded when the demo runs (it starts the LB in this process): other commands start without it
      const { LocalFleet } = await import('../../demo/localFleet');
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
        const svc = await loadService(
          local.serviceFile,
          o.flaky ? { src: join(local.dir, 'dist', 'web-v2-flaky.zip') } : {},
        );
        if (o.flaky) out('demo: rolling out web v2-flaky: /healthz answers ok, but every 4th request fails');
        // traffic through the LB for the whole rollout: what the canary analysis judges
        const load = startDemoLoad(local.proxyUrl);
        rollout = new Rollout(svc, rolloutDeps(svc), { onEvent: (e) => out(formatEvent(e)) });
        if (stopping) rollout.abort();
        const result = await rollout.run().finally(async () => {
          const l = await load.stop();
          out(`demo: ${l.requests} requests went through the LB during the rollout, ${l.failed} failed`);
        });
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
