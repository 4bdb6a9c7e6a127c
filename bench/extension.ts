// Benchmark of the Fleet view's engine (core/fleetView, what the extension runs): a refresh of 50
// real sshd hosts on warm SSH connections, and the longest event-loop block while 1,000 simulated
// hosts refresh and their tree rows are built.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FleetModel, type FleetHost } from '../core/hosts/fleetModel';
import type { HostProbe } from '../core/hosts/probe';
import { hostNode } from '../core/fleetView/treeModel';
import { KeyStore } from '../core/ssh/auth';
import { resolveTarget } from '../core/targets/resolve';
import { HostKeyChecker } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool } from '../core/ssh/pool';
import { SshFleet } from '../test/harness/sshFleet';
import { median, table } from './util';

export async function benchExtension(): Promise<string> {
  const f = await SshFleet.start(50);
  const pool = new SshPool({
    hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
    keys: new KeyStore({ agentSocket: '' }),
    maxHandshakes: 50,
  });
  try {
    const hosts = (n: number): FleetHost[] =>
      Array.from({ length: n }, (_, i) => ({
        name: `h${i}`,
        groups: [],
        endpoint: { ...resolveTarget(f.hosts[i % 50].target, null, { identityFiles: [f.clientKey] }), label: `h${i}` },
      }));
    let rows = 0;
    const model = new FleetModel(pool, (h) => {
      hostNode(h); // what the tree does for a changed host
      rows++;
    });
    model.setHosts(hosts(50));
    const cold0 = performance.now();
    await model.refresh();
    const cold = performance.now() - cold0;
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await model.refresh();
      warm.push(performance.now() - t);
    }
    const down = [...model.states.values()].filter((s) => !s.probe?.ok).length;
    if (down) throw new Error(`${down} hosts did not answer`);

    // 1,000 simulated hosts: each answers a real probe's output after 0-300 ms, so what is measured
    // is our own work (state updates, tree rows), not 1,000 sshd sessions on 2 cores
    const sample = (model.states.get('h0')!.probe as { ok: true; probe: HostProbe }).probe;
    const simulated = new FleetModel(
      pool,
      (st) => {
        hostNode(st);
        rows++;
      },
      async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 300));
        return { ok: true, probe: sample, at: new Date() };
      },
    );
    simulated.setHosts(hosts(1000));
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t1 = performance.now();
    await simulated.refresh({ concurrency: 1000 });
    const all = [...simulated.states.values()].map((s) => hostNode(s));
    const big = performance.now() - t1;
    h.disable();
    if (all.length !== 1000) throw new Error('rows missing');
    return [
      '### Fleet view engine (core/fleetView over core/ssh, 50 sshd hosts)',
      '',
      table(
        ['measure', 'value', 'goal'],
        [
          ['first refresh of 50 hosts (new connections)', `${cold.toFixed(0)} ms`, ''],
          ['refresh of 50 hosts on warm connections, median of 5', `${median(warm).toFixed(0)} ms`, ''],
          ['refresh of 1,000 simulated hosts + 1,000 tree rows', `${big.toFixed(0)} ms`, ''],
          [
            'longest event-loop block during it (monitorEventLoopDelay max)',
            `${(h.max / 1e6).toFixed(1)} ms`,
            '< 50 ms',
          ],
          ['event-loop delay p99 during it', `${(h.percentile(99) / 1e6).toFixed(1)} ms`, ''],
        ],
      ),
      '',
      `Each probe runs one command per host (uname, two /proc/stat samples 0.2 s apart, meminfo, agent socket check): the 0.2 s sample is part of every refresh. ${rows} rows were rebuilt.`,
    ].join('\n');
  } finally {
    pool.close();
    await f.stop();
  }
}
