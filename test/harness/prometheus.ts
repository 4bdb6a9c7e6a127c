// A real Prometheus (Debian's `prometheus`) for the tests: scrapes the given targets every second
// into a scratch TSDB on a free loopback port, and answers instant queries.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './net';
import { spawnTracked, stopTracked } from './processes';

const bin = '/usr/bin/prometheus';

export class PrometheusProcess {
  private constructor(
    readonly url: string,
    private readonly proc: ChildProcess,
    private readonly log: () => string,
  ) {}

  static async start(targets: string[]): Promise<PrometheusProcess> {
    return PrometheusProcess.startWith(
      [
        '  - job_name: fleet',
        '    static_configs:',
        `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      ].join('\n'),
    );
  }

  /** with these scrape_configs items (YAML, as `fleet prometheus config` prints them), every 1 s unless they say */
  static async startWith(scrapeConfigs: string, scrapeInterval = '1s'): Promise<PrometheusProcess> {
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: install the Debian package prometheus (apt-get install -y prometheus)`);
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${scrapeInterval}`,
        `  evaluation_interval: ${scrapeInterval}`,
        'scrape_configs:',
        scrapeConfigs,
        '',
      ].join('\n'),
    );
    const proc = spawnTracked(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    proc.stderr!.on('data', (d) => (err = (err + d).slice(-5000)));
    const url = `http://127.0.0.1:${port}`;
    const p = new PrometheusProcess(url, proc, () => err);
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited: ${err}`);
      const r = await fetch(`${url}/-/ready`);
      if (!r.ok) throw new Error(`not ready: ${r.status}`);
    }, 30_000);
    return p;
  }

  /** waits until every target has been scraped successfully once */
  async waitForTargets(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      const r = (await (await fetch(`${this.url}/api/v1/query?query=up`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      const up = r.data.result.filter((x) => x.value[1] === '1').length;
      if (up < n) throw new Error(`${up} of ${n} targets up; prometheus log: ${this.log()}`);
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    await stopTracked(this.proc);
  }
}
