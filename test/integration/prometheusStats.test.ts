// Fleet with a real Prometheus (Debian's `prometheus`) scraping real agents over TLS (plain http
// refused by the agents) with their read-only token: `fleet prometheus config` generates the job,
// its targets and the CA file of the pinned certificates from the inventory, `fleet stats --prometheus` shows what
// Prometheus returns (three queries, whatever the fleet's size), a stopped agent shows down within
// two scrape intervals, and a host Prometheus does not scrape is asked over SSH.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultKnownAgentsFile, KnownAgents } from '../../core/agentClient/knownAgents';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { fleet, scratchHome } from '../harness/cli';
import { freePort, waitFor } from '../harness/net';
import { PrometheusProcess } from '../harness/prometheus';
import { SshFleet } from '../harness/sshFleet';

interface StatsLine {
  host: string;
  state: string;
  source: string | null;
  at: string | null;
  stats?: {
    cpuPct: number | null;
    memTotalBytes: number | null;
    load1?: number;
    uptimeSecs?: number;
    agentId?: string;
    uname: string;
  };
  error?: string;
  packages: Array<{ name: string; state: string; version: string }>;
}

describe('fleet stats from a real Prometheus scraping real agents', function () {
  this.timeout(120_000);
  const tag = `prom-web-${process.pid}`;
  let dir: string;
  let agents: AgentProcess[] = [];
  let prom: PrometheusProcess | undefined;
  let ssh: SshFleet;
  let home: string;
  let inventory: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-prom-'));
    home = scratchHome();
    // one read-only token for every agent, as Prometheus sends one credentials_file to the whole job;
    // the full token (that installs packages) never reaches Prometheus
    const token = join(dir, 'agent.token');
    const readToken = join(dir, 'agent-read.token');
    writeFileSync(token, 'f'.repeat(8) + Math.random().toString(36).slice(2).padEnd(24, 'x'), { mode: 0o600 });
    writeFileSync(readToken, 'r'.repeat(8) + Math.random().toString(36).slice(2).padEnd(24, 'x'), { mode: 0o600 });
    const ports = [await freePort(), await freePort()];
    agents = await Promise.all(
      ports.map((p) =>
        AgentProcess.start({
          listen: `127.0.0.1:${p}`,
          // TLS only: a scrape in plain http would fail
          flags: ['--token-file', token, '--read-token-file', readToken, '--plain-http', 'off'],
        }),
      ),
    );
    const zips = await buildExamples(join(dir, 'zips'));
    const webPort = await freePort();
    // what fleet agent deploy --listen (or fleet agent pin) does over SSH: pin each agent's certificate
    const known = new KnownAgents(defaultKnownAgentsFile(home));
    agents.forEach((a, i) => known.pin('127.0.0.1', ports[i], readFileSync(a.certFile, 'utf8'), 'test'));
    await agents[0].client().install('web', zips['web-v1'], {
      binary: 'web',
      args: ['--port', String(webPort), '--node', tag],
    });
    ssh = await SshFleet.start(1);
    inventory = join(dir, 'fleet.json');
    writeFileSync(
      inventory,
      JSON.stringify({
        hosts: [
          { name: 'a1', host: '127.0.0.1', groups: ['web'], agent: `https://127.0.0.1:${ports[0]}` },
          { name: 'a2', host: '127.0.0.1', groups: ['web', 'canary'], agent: `https://127.0.0.1:${ports[1]}` },
          // reached over SSH only: Prometheus does not scrape it
          {
            name: 's1',
            host: ssh.hosts[0].address,
            port: ssh.hosts[0].port,
            user: ssh.loginName,
            identityFile: ssh.clientKey,
          },
        ],
      }),
    );
    const caFile = join(dir, 'agents-ca.pem');
    const gen = await fleet(
      [
        'prometheus',
        'config',
        '--inventory',
        inventory,
        '--targets',
        join(dir, 'targets.json'),
        '--ca-file',
        caFile,
        '--read-token-file',
        readToken,
      ],
      { home },
    );
    assert.equal(gen.code, 0, gen.stderr);
    assert.ok(gen.stdout.includes(`scheme: https\n  tls_config:\n    ca_file: ${JSON.stringify(caFile)}`), gen.stdout);
    assert.match(gen.stdout, /server_name: "fleet-agent"/);
    assert.ok(gen.stdout.includes(`credentials_file: ${JSON.stringify(readToken)}`), gen.stdout);
    assert.ok(!gen.stdout.includes(token + '"'), 'the full token file is not handed out');
    assert.equal(
      readFileSync(caFile, 'utf8'),
      agents.map((a) => readFileSync(a.certFile, 'utf8')).join(''),
      'the CA file holds the pinned certificates',
    );
    assert.match(gen.stderr, /wrote .*targets\.json: 2 agent\(s\) to scrape/);
    assert.match(gen.stderr, /skipped s1: no agent TCP address/);
    const targets = JSON.parse(readFileSync(join(dir, 'targets.json'), 'utf8'));
    assert.deepEqual(targets[1], {
      targets: [`127.0.0.1:${ports[1]}`],
      labels: { host: 'a2', groups: ',web,canary,' },
    });
    assert.doesNotMatch(gen.stdout, new RegExp(readFileSync(token, 'utf8')), 'the token itself is never in the config');
    assert.doesNotMatch(gen.stdout, new RegExp(readFileSync(readToken, 'utf8')), 'nor the read-only one');
    const old = await fleet(['prometheus', 'config', '--inventory', inventory, '--token-file', token], { home });
    assert.equal(old.code, 64);
    assert.match(old.stderr, /--token-file is gone.*read-only token.*--read-token-file/);
    prom = await PrometheusProcess.startWith(gen.stdout);
    await prom.waitForTargets(2);
  });

  after(async () => {
    await prom?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    await ssh?.stop();
    killMatching(tag);
  });

  const stats = async (): Promise<StatsLine[]> => {
    const r = await fleet(
      ['stats', '--inventory', inventory, '--prometheus', prom!.url, '--known-hosts', ssh.knownHostsFile, '--json'],
      { home },
    );
    assert.equal(r.stderr, '', r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  };

  it('shows what Prometheus returns for the hosts it scrapes, and asks the others over SSH', async () => {
    // CPU needs two scrapes (irate)
    await waitFor(async () => assert.notEqual((await stats())[0].stats?.cpuPct ?? null, null), 20_000);
    const [a1, a2, s1] = await stats();
    for (const a of [a1, a2]) {
      assert.equal(a.state, 'up');
      assert.equal(a.source, 'prometheus');
      assert.ok(a.stats!.memTotalBytes! > 0);
      assert.ok(a.stats!.cpuPct! >= 0 && a.stats!.cpuPct! <= 100);
      assert.equal(typeof a.stats!.load1, 'number');
      assert.ok(a.stats!.uptimeSecs! > 0);
      assert.match(a.stats!.agentId!, /^\d+\.\d+\.\d+.*-[0-9a-f]{12}$/);
      assert.match(a.stats!.uname, /^Linux /);
    }
    assert.deepEqual(a1.packages, [{ name: 'web', state: 'running', version: a1.packages[0]?.version }]);
    assert.deepEqual(a2.packages, []);
    // the same numbers Prometheus holds
    const q = await (await fetch(`${prom!.url}/api/v1/query?query=node_memory_MemTotal_bytes{host="a1"}`)).json();
    assert.equal(
      a1.stats!.memTotalBytes,
      Number((q as { data: { result: Array<{ value: [number, string] }> } }).data.result[0].value[1]),
    );
    assert.equal(s1.state, 'up');
    assert.equal(s1.source, 'ssh', 'a host Prometheus does not scrape falls back to SSH');
    assert.ok(s1.stats!.memTotalBytes! > 0);
  });

  it('shows an agent that stops as down, dated by the scrape that found it down (Prometheus timestamps)', async () => {
    const stoppedAt = Date.now();
    await agents[1].stop();
    let down: StatsLine | undefined;
    await waitFor(async () => {
      down = (await stats()).find((s) => s.host === 'a2');
      assert.equal(down!.state, 'down');
    }, 15_000);
    assert.equal(down!.source, 'prometheus');
    assert.match(down!.error!, /up is 0/);
    // `at` is the time of a scrape Prometheus recorded with up = 0, after the stop began: the
    // scrape's own timestamp, not when `fleet stats` asked (no bound on how fast the machine is)
    const at = Date.parse(down!.at!);
    assert.ok(at >= stoppedAt - 1, `down dated ${new Date(at).toISOString()}, before the stop`);
    const range = await fetch(`${prom!.url}/api/v1/query?query=${encodeURIComponent('up{host="a2"}[5m]')}`);
    const samples = ((await range.json()) as { data: { result: Array<{ values: Array<[number, string]> }> } }).data
      .result[0].values;
    const downScrapes = samples.filter(([, v]) => v === '0').map(([t]) => Math.round(t * 1000));
    assert.ok(downScrapes.includes(at), `down dated ${at}, not a scrape with up 0 (${downScrapes.join(', ')})`);
  });
});
