import assert from 'node:assert/strict';
import { parseProbe } from '../../core/fleetView/probe';
import { formatBytes, hostNode, shortUname, statusText, type HostState } from '../../core/fleetView/treeModel';
import type { PackageStatus } from '../../core/protocol/agent';

const out = [
  'Linux web1 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64 GNU/Linux',
  '@@',
  'cpu  100 0 100 700 100 0 0 0 0 0',
  'cpu  150 0 150 750 150 0 0 0 0 0',
  '@@',
  'MemTotal:        2048000 kB',
  'MemAvailable:    1024000 kB',
  '@@',
  'agent',
  '@@',
  '0.1.0-0123456789ab',
  '',
].join('\n');

const pkg: PackageStatus = {
  name: 'web',
  binary: 'web',
  args: ['--port', '9092'],
  state: 'running',
  desired: 'running',
  pid: 42,
  restarts: 0,
  startedAt: null,
  lastExit: null,
  sha256: 'a'.repeat(64),
  version: 'v-1',
  installedAt: '',
  previous: null,
};

describe('Fleet view model', () => {
  it('parses the probe: uname, CPU % from two /proc/stat samples, memory, agent socket', () => {
    const p = parseProbe(out);
    assert.equal(p.uname.split(' ')[1], 'web1');
    assert.equal(p.cpuPct, 50); // 100 busy of 200 ticks (idle 50, iowait 50)
    assert.equal(p.memTotalBytes, 2048000 * 1024);
    assert.equal(p.memUsedBytes, 1024000 * 1024);
    assert.equal(p.agentSocket, true);
    assert.equal(p.agentId, '0.1.0-0123456789ab', 'the build current points at');
    assert.equal(
      parseProbe(out.replace('0.1.0-0123456789ab', '../../etc')).agentId,
      undefined,
      'a link that is no build id',
    );
  });

  it('survives a truncated probe', () => {
    const p = parseProbe('Linux x 1\n');
    assert.equal(p.cpuPct, null);
    assert.equal(p.memTotalBytes, null);
    assert.equal(p.agentSocket, false);
  });

  it('shows an up host with its short uname, stats, agent and packages', () => {
    const h: HostState = {
      name: 'web1',
      address: 'root@10.0.0.5:22',
      groups: [],
      probe: { ok: true, probe: parseProbe(out), at: new Date(0) },
      lastSeen: new Date(0),
      packages: [pkg],
    };
    const n = hostNode(h, new Date(30_000));
    assert.equal(n.description, 'Linux web1 6.1.0-18-amd64');
    assert.equal(n.contextValue, 'host.up.agent');
    assert.deepEqual(n.icon, { id: 'circle-filled', color: 'testing.iconPassed' });
    assert.match(n.tooltip!, /PREEMPT_DYNAMIC[\s\S]*last seen 30s ago/);
    assert.deepEqual(
      n.children!.map((c) => [c.label, c.description]),
      [
        ['CPU', '50.0 %'],
        ['Memory', '1000 MiB / 2.0 GiB'],
        ['Agent', 'running 0.1.0'],
        ['web', 'running (pid 42)'],
      ],
    );
    assert.equal(n.children![3].contextValue, 'package.running');
  });

  it('shows a down host with the reason, and counts it in the status text', () => {
    const down: HostState = {
      name: 'db1',
      address: 'root@10.0.0.6:22',
      groups: [],
      probe: { ok: false, error: 'host db1: cannot connect (ECONNREFUSED)', at: new Date() },
    };
    const n = hostNode(down);
    assert.equal(n.contextValue, 'host.down');
    assert.equal(n.description, 'unreachable');
    assert.match(n.children![0].description!, /ECONNREFUSED/);
    assert.equal(
      statusText([
        down,
        { name: 'x', address: '', groups: [], probe: { ok: true, probe: parseProbe(out), at: new Date() } },
      ]),
      'Fleet: 1/2 up',
    );
  });

  it('shows a host with an unknown key as waiting for trust, not as down', () => {
    const h: HostState = {
      name: 'n',
      address: '',
      groups: [],
      probe: { ok: false, error: 'host n: unknown host key', hostKey: 'unknown', at: new Date() },
    };
    const n = hostNode(h);
    assert.equal(n.contextValue, 'host.unknown');
    assert.equal(n.description, 'host key not trusted yet');
    assert.equal(
      hostNode({ ...h, probe: { ...h.probe!, hostKey: 'changed' } as never }).description,
      'HOST KEY CHANGED: refused',
    );
  });

  it('formats sizes and unames', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(shortUname('Linux a b c d'), 'Linux a b');
  });
});
