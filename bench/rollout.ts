// Benchmark: a rollout of 8 backends at concurrency 2 behind the built-in LB, against the waits it
// cannot avoid: the canary soak, and each backend's own time to serve again after its restart
// (the health check's interval). Overhead = what the orchestrator adds on top, in percent.
import { loadService } from '../core/rollout/config';
import { rolloutDeps } from '../core/rollout/deps';
import { latestJournal, readJournal, type JournalEvent } from '../core/rollout/journal';
import { Rollout } from '../core/rollout/workflow';
import { rolloutFleet } from '../test/harness/rolloutFleet';
import { median, table } from './util';

export async function benchRollout(): Promise<string> {
  const soak = 5;
  const f = await rolloutFleet(8, { Concurrency: 2, CanaryNum: 1, SoakSecs: soak, MaxFailures: 0 });
  try {
    const svc = await loadService(f.serviceFile);
    const t0 = performance.now();
    const end = await new Rollout(svc, rolloutDeps(svc)).run();
    const wall = (performance.now() - t0) / 1000;
    if (end !== 'ESSuccess') throw new Error(`rollout ended ${end}`);
    const ev = readJournal(latestJournal(f.serviceFile)!);
    const at = (e: JournalEvent) => Date.parse(e.at);
    // per step, per backend: how long it took (start -> done)
    const perStep = new Map<string, number[]>();
    const starts = new Map<string, number>();
    for (const e of ev) {
      if (e.t !== 'step') continue;
      const k = `${e.backend} ${e.step}`;
      if (e.phase === 'start') starts.set(k, at(e));
      if (e.phase === 'done') perStep.set(e.step, [...(perStep.get(e.step) ?? []), at(e) - starts.get(k)!]);
    }
    // unavoidable: the soak, plus the health wait (reachable) on the critical path: the canary's,
    // then one per round of Concurrency backends
    const reachable = perStep.get('reachable') ?? [];
    const rounds = Math.ceil((svc.backends.length - 1) / svc.config.Concurrency);
    const unavoidable = soak + (median(reachable) / 1000) * (1 + rounds);
    const overhead = ((wall - unavoidable) / unavoidable) * 100;
    return [
      `### Rollout: 8 backends, concurrency 2, 1 canary, ${soak} s soak (built-in LB, agents over loopback TCP)`,
      '',
      table(
        ['measure', 'value'],
        [
          ['wall time', `${wall.toFixed(2)} s`],
          ['unavoidable waits (soak + health waits on the critical path)', `${unavoidable.toFixed(2)} s`],
          ['overhead', `${overhead.toFixed(1)} %`],
          ...[...perStep.entries()].map(([s, v]) => [`step ${s}, median of ${v.length}`, `${median(v).toFixed(0)} ms`]),
        ],
      ),
    ].join('\n');
  } finally {
    await f.stop();
  }
}
