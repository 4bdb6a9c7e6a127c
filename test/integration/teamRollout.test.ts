// A fleet run by a team: several controllers (each its own HOME and its own clone of the service's
// folder) against one local fleet of real agents behind the built-in LB. Two controllers racing
// for a rollout (exactly one wins, the other names it); kill -9 of the holder mid-rollout, takeover
// once its lease expired, and --resume from the second controller with no failed request through
// the LB; a change by hand during a rollout refused (and forced, recorded); the rollout another
// machine runs, seen from this one.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadService } from '../../core/rollout/config';
import { agentClients } from '../../core/rollout/deps';
import { agentsOf, FleetLease, RolloutHeldError } from '../../core/rollout/leases';
import { readFleetPanel } from '../../core/rollout/fleetPanel';
import type { Actor } from '../../core/protocol/agentRecords';
import { fleet, scratchHome } from '../harness/cli';
import { startLoad } from '../harness/load';
import { waitFor } from '../harness/net';
import { rolloutFleet } from '../harness/rolloutFleet';
import { addrs, cloneServiceFolder, controller, stopFleet } from './teamFleet';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** a file that holds every starting step while it exists (FLEET_ROLLOUT_STEP_HOLD), listing `only` when given */
function holdFile(only: string[] = []): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hold-')), 'hold');
  writeFileSync(file, only.map((a) => `${a}\n`).join(''));
  return file;
}

describe('a fleet run by a team (real agents, built-in LB)', function () {
  this.timeout(240_000);

  it('two controllers start the same rollout at once: exactly one wins, the other is refused naming it and keeps nothing', async () => {
    const f = await rolloutFleet(3, { LeaseSecs: 60 });
    const clone = cloneServiceFolder(f);
    const hold = holdFile();
    try {
      const env = { FLEET_ROLLOUT_STEP_HOLD: hold };
      const a = controller(['rollout', f.serviceFile], env);
      const b = controller(['rollout', clone], env);
      // the loser exits while the winner is held at its first step
      const first = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
      const [loser, winner] = first === a ? [a, b] : [b, a];
      assert.equal(await loser.exited, 3, loser.stderr());
      assert.match(
        loser.stderr(),
        new RegExp(`is being rolled out by \\S+@\\S+ \\(the fleet CLI, pid ${winner.proc.pid}\\), rollout \\S+ of `),
      );
      assert.match(loser.stderr(), /nothing was changed/);
      // the loser left no journal behind and holds no lease: every agent is held by the winner
      const loserDir = join(dirname(first === a ? f.serviceFile : clone), '.fleet', 'rollouts');
      assert.deepEqual(existsSync(loserDir) ? readdirSync(loserDir).filter((n) => n.endsWith('.jsonl')) : [], []);
      const held = await Promise.all(f.agents.map((x) => x.client.lease('web')));
      assert.equal(new Set(held.map((l) => l?.holder.pid)).size, 1);
      assert.equal(held[0]?.holder.pid, winner.proc.pid);
      rmSync(hold);
      assert.equal(await winner.exited, 0, winner.stdout() + winner.stderr());
      // what the loser took (if anything) it gave back: each of its lease entries has a release
      for (const x of f.agents) {
        const h = (await x.client.history('web')).entries;
        const loserId = h.find((e) => e.action === 'lease' && e.outcome === 'refused')?.rolloutId;
        const took = h.filter((e) => e.action === 'lease' && e.outcome === 'ok' && e.rolloutId === loserId).length;
        const gave = h.filter((e) => e.action === 'release' && e.rolloutId === loserId).length;
        assert.equal(took, gave, JSON.stringify(h));
      }
    } finally {
      rmSync(hold, { force: true });
      await stopFleet(f);
    }
  });

  it('leases taken from two controllers at once, 20 times: exactly one wins each time (the first agent in address order decides)', async () => {
    const f = await rolloutFleet(4, { LeaseSecs: 60 });
    try {
      const svc = await loadService(f.serviceFile);
      const who = (user: string): Actor => ({ user, machine: 'm', tool: 'cli', pid: 1 });
      for (let round = 0; round < 20; round++) {
        // two controllers: each its own clients (its own connections), the same agents
        const [x, y] = [agentsOf(svc, agentClients(svc)), agentsOf(svc, agentClients(svc))];
        const results = await Promise.allSettled([
          FleetLease.acquire(svc, x, { actor: who('x'), rolloutId: `x-${round}`, ttlSecs: 60 }),
          FleetLease.acquire(svc, y, { actor: who('y'), rolloutId: `y-${round}`, ttlSecs: 60 }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
        const reason = (lost[0] as PromiseRejectedResult).reason;
        assert.ok(reason instanceof RolloutHeldError, String(reason));
        const winner = (won[0] as PromiseFulfilledResult<FleetLease>).value;
        assert.equal(reason.lease?.rolloutId, winner.terms.rolloutId);
        const leases = await Promise.all(f.agents.map((a) => a.client.lease('web')));
        assert.ok(
          leases.every((l) => l?.rolloutId === winner.terms.rolloutId),
          `round ${round}: every agent held by the winner`,
        );
        await winner.release('ESSuccess');
      }
    } finally {
      await stopFleet(f);
    }
  });

  it('kill -9 of the holder mid-rollout; another controller takes over after expiry and --resume ends ESSuccess, no failed request', async () => {
    const f = await rolloutFleet(4, { LeaseSecs: 3, CanaryNum: 1, Concurrency: 2, SoakSecs: 0.5 });
    const [b0, b1, b2, b3] = addrs(f);
    const clone = cloneServiceFolder(f);
    const hold = holdFile([b2, b3]);
    const load = startLoad(f.proxyUrl, { workers: 4, paceMs: 5, maxMs: 200_000 });
    try {
      const a = controller(['rollout', f.serviceFile], { FLEET_ROLLOUT_STEP_HOLD: hold });
      // held mid-rollout: the canary and b1 upgraded, b2 in its first step, each as its own agent recorded it
      const recorded = async (i: number) => (await f.agents[i].client.rolloutRecord('web'))?.events ?? [];
      await waitFor(async () => {
        const doneB1 = (await recorded(1)).some((e) => (e.event as { t: string }).t === 'backend');
        const startB2 = (await recorded(2)).some((e) => (e.event as { t: string; phase?: string }).phase === 'start');
        assert.ok(doneB1 && startB2, 'not there yet');
      }, 120_000);
      process.kill(a.proc.pid!, 'SIGKILL');
      await a.exited;
      const rolloutId = (await f.agents[2].client.lease('web'))!.rolloutId;

      // another person, another clone, no journal: resumes from the agents once the dead lease expired
      const b = controller(['rollout', clone, '--resume', '--lease-wait', '120']);
      assert.equal(await b.exited, 0, b.stdout() + b.stderr());
      assert.match(b.stderr(), new RegExp(`resuming rollout ${rolloutId} from its agents' records`));
      assert.match(b.stdout(), /resuming from the journal/);
      assert.match(
        b.stdout(),
        new RegExp(
          `lease taken on 4 agent\\(s\\).*took over the expired lease of \\S+ \\(pid \\d+, rollout ${rolloutId}\\)`,
        ),
      );
      assert.match(b.stdout(), /end state: ESSuccess/);
      // what was done stays done: the canary and b1 are not touched again, b2 starts where it stopped
      assert.doesNotMatch(b.stdout(), new RegExp(`${b0.replace(/\./g, '\\.')} +\\w+ +start`));
      assert.doesNotMatch(b.stdout(), new RegExp(`${b1.replace(/\./g, '\\.')} +\\w+ +start`));
      assert.match(
        b
          .stdout()
          .split('\n')
          .find((l) => l.includes(b2) && / start$/.test(l)) ?? '',
        /findApp +start$/,
      );

      const r = await load.stop();
      assert.equal(r.non2xx + r.errors, 0, `failed requests through the LB: ${r.failures.join(', ')}`);
      assert.ok(r.ok > 0 && (r.byVersion.get('v2') ?? 0) > 0, 'traffic flowed, and reached v2');
      const v1 = sha(join(f.dir, 'dist', 'web-v1.zip'));
      const v2 = sha(join(f.dir, 'dist', 'web-v2.zip'));
      for (const x of f.agents) {
        const s = await x.client.status('web');
        assert.deepEqual([s.sha256, s.previous?.sha256, s.state], [v2, v1, 'running'], `${x.endpoint}: installed once`);
      }
      const all = (await f.agents[2].client.history('web')).entries.filter((e) => e.rolloutId === rolloutId);
      // b may ask before the dead lease expired (how soon it starts is the machine's speed): each such
      // ask is refused and recorded, then b waits (--lease-wait) and asks again
      const refused = all.filter((e) => e.action === 'lease' && e.outcome === 'refused');
      const h2 = all.filter((e) => !refused.includes(e));
      assert.deepEqual(
        h2.map((e) => `${e.action} ${e.outcome}`),
        ['lease ok', 'lease ok', 'stop ok', 'install ok', 'release ESSuccess'],
      );
      assert.notEqual(h2[0].by?.pid, h2[1].by?.pid, 'the second lease is the other controller');
      for (const r of refused) {
        assert.equal(r.by?.pid, h2[1].by?.pid, 'only the waiting controller was refused');
        assert.ok(
          all.indexOf(r) > all.indexOf(h2[0]) && all.indexOf(r) < all.indexOf(h2[1]),
          'refused while it waited',
        );
      }
    } finally {
      await load.stop();
      rmSync(hold, { force: true });
      await stopFleet(f);
    }
  });

  it('a change by hand during a rollout is refused naming the holder; --force goes through and is recorded; status elsewhere shows the rollout', async () => {
    const f = await rolloutFleet(2, { LeaseSecs: 60 });
    const [, b1] = addrs(f);
    const port = b1.split(':')[1];
    const hold = holdFile();
    const token = join(f.dir, 'agent-token');
    try {
      const a = controller(['rollout', f.serviceFile], { FLEET_ROLLOUT_STEP_HOLD: hold });
      await waitFor(async () => assert.ok(await f.agents[1].client.lease('web')), 60_000);
      const home = scratchHome();
      const install = (extra: string[]) =>
        fleet(
          [
            'agent',
            'install',
            f.agents[1].endpoint,
            'web',
            join(f.dir, 'dist', 'web-v1.zip'),
            'web',
            '--token-file',
            token,
            ...extra,
            '--',
            '--port',
            port,
            '--node',
            `node-${port}`,
          ],
          { home },
        );
      const refused = await install([]);
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(refused.stderr, new RegExp(`held by \\S+ \\(the fleet CLI, pid ${a.proc.pid}\\), rollout `));
      assert.match(refused.stderr, /repeat with --force REASON/);
      const stop = await fleet(['agent', 'stop', f.agents[1].endpoint, 'web', '--token-file', token], { home });
      assert.equal(stop.code, 3, stop.stderr);
      assert.equal((await f.agents[1].client.status('web')).state, 'running', 'nothing was stopped');

      // another machine sees the rollout this one runs, and who holds it
      const st = await fleet(['status', cloneServiceFolder(f)], { home });
      assert.equal(st.code, 0, st.stderr);
      assert.match(
        st.stdout,
        new RegExp(`rollout \\S+: running, 0/2 upgraded, held by \\S+ \\(the fleet CLI, pid ${a.proc.pid}\\)`),
      );
      // and so does the rollout panel of any window (what it reads: core/rollout/fleetPanel.ts)
      const svc = await loadService(cloneServiceFolder(f));
      const panel = await readFleetPanel(svc, agentsOf(svc, agentClients(svc)));
      assert.equal(panel.rollout?.state, 'running');
      assert.match(panel.rollout?.holder ?? '', new RegExp(`\\(the fleet CLI, pid ${a.proc.pid}\\)`));
      assert.equal(panel.rollout?.progress.rows.length, 2);
      assert.ok(panel.history.some((h) => h.action === 'lease' && h.origin === `rollout ${panel.rollout?.id}`));

      const forced = await install(['--force', 'hotfix INC-9']);
      assert.equal(forced.code, 0, forced.stderr);
      const last = (await f.agents[1].client.history('web')).entries.at(-1)!;
      assert.deepEqual([last.action, last.outcome, last.forced, last.rolloutId], ['install', 'ok', true, null]);
      assert.match(last.detail ?? '', /forced \(hotfix INC-9\) while held by /);
      assert.equal(last.by?.tool, 'cli');
      const refusedEntries = (await f.agents[1].client.history('web')).entries.filter((e) => e.outcome === 'refused');
      assert.deepEqual(
        refusedEntries.map((e) => e.action),
        ['install', 'stop'],
      );

      // the rollout goes on and still ends with every backend on its package
      rmSync(hold);
      assert.equal(await a.exited, 0, a.stdout() + a.stderr());
      assert.equal((await f.agents[1].client.status('web')).sha256, sha(join(f.dir, 'dist', 'web-v2.zip')));
    } finally {
      rmSync(hold, { force: true });
      await stopFleet(f);
    }
  });
});
