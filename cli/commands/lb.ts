// `fleet lb serve` and the seed's LB verbs: add-pool, remove-pool, add-backend, remove-backend, pool-health.
import type { Command } from 'commander';
import { LbControlClient } from '../../core/lb/controlClient';
import type { PoolHealthReport } from '../../core/protocol/lb';
import { serveLb } from '../../lb/server';
import { positiveInt } from '../sshOptions';
import type { CliIO } from '../io';

const controlFlag = ['--control <host:port>', 'the LB control API', '127.0.0.1:9091'] as const;

export function printPoolHealth(h: PoolHealthReport): string {
  const rows = [`Pool\tStatus`, `${h.pattern}\t${h.status}`, ``, `Backend\tStatus`];
  for (const b of h.backends) rows.push(`${b.backend}\t${b.status}${b.draining ? ' (draining)' : ''}`);
  return rows.join('\n') + '\n';
}

export function registerLb(program: Command, io: CliIO): void {
  const lb = program.command('lb').description("the built-in load balancer and the seed's LB verbs");
  lb.command('serve')
    .description('run the built-in LB: proxy on --http, control API on --control')
    .option('--http <host:port>', 'proxy listener', '127.0.0.1:9090')
    .option(...controlFlag)
    .action(async (o: { http: string; control: string }) => {
      const running = await serveLb({ http: o.http, control: o.control });
      io.err(`fleet lb: proxy on http://${o.http}, control API on http://${o.control}\n`);
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  lb.command('add-pool')
    .argument('<pattern>', 'URL path prefix, e.g. /')
    .option(...controlFlag)
    .option('--health-path <path>', 'health check path (omit for no health checks)')
    .option('--healthy-values <values>', 'comma-separated bodies that mean healthy', 'ok')
    .option('--interval <secs>', 'health check interval', positiveInt('--interval'), 1)
    .action(
      async (pattern: string, o: { control: string; healthPath?: string; healthyValues: string; interval: number }) => {
        const health = o.healthPath
          ? { path: o.healthPath, healthyValues: o.healthyValues.split(',').filter(Boolean), intervalSecs: o.interval }
          : undefined;
        await new LbControlClient(o.control).addPool(pattern, health);
      },
    );
  lb.command('remove-pool')
    .argument('<pattern>')
    .option(...controlFlag)
    .action(async (pattern: string, o: { control: string }) => {
      await new LbControlClient(o.control).removePool(pattern);
    });
  lb.command('add-backend')
    .description('add a backend once it passes the pool health check')
    .argument('<pattern>')
    .argument('<backend>', 'IP:PORT')
    .option(...controlFlag)
    .action(async (pattern: string, backend: string, o: { control: string }) => {
      await new LbControlClient(o.control).addBackend(pattern, backend);
    });
  lb.command('remove-backend')
    .description('drain a backend: no new requests, returns when its in-flight requests are done')
    .argument('<pattern>')
    .argument('<backend>', 'IP:PORT')
    .option(...controlFlag)
    .option(
      '--drain-timeout <secs>',
      'give up waiting for in-flight requests after this long',
      positiveInt('--drain-timeout'),
      30,
    )
    .action(async (pattern: string, backend: string, o: { control: string; drainTimeout: number }) => {
      const r = await new LbControlClient(o.control).removeBackend(pattern, backend, o.drainTimeout);
      if (!r.drained) {
        io.err(
          `fleet lb: ${backend} is out of rotation but ${r.inflight} request(s) were still in flight after ${o.drainTimeout}s\n`,
        );
        io.exitCode = 1;
      }
    });
  lb.command('pool-health')
    .argument('<pattern>')
    .option(...controlFlag)
    .option('--json', 'print the JSON report')
    .action(async (pattern: string, o: { control: string; json?: boolean }) => {
      const h = await new LbControlClient(o.control).poolHealth(pattern);
      io.out(o.json ? JSON.stringify(h) + '\n' : printPoolHealth(h));
    });
}
