import assert from 'node:assert/strict';
import { parseProbe } from '../../core/hosts/probe';
import { matchesFilter, parseFilter } from '../../core/fleetView/filter';
import {
  formatBytes,
  formatBytesPair,
  hostNode,
  shortUname,
  statusText,
  treeRoots,
} from '../../core/fleetView/treeModel';
import { type HostState } from '../../core/hosts/hostState';
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

  it('shows an up host at a glance (load, memory, agent, packages), the rest in its tooltip, packages under the agent', () => {
    const h: HostState = {
      name: 'web1',
      address: 'root@10.0.0.5:22',
      groups: ['web'],
      probe: { ok: true, probe: parseProbe(out), at: new Date(25_000) },
      lastSeen: new Date(0),
      packages: [pkg],
    };
    const n = hostNode(h, new Date(30_000));
    assert.equal(n.description, '50% · 1.0/2.0 GiB · agent ✓ · 1 pkg');
    assert.equal(n.contextValue, 'host.up.agent');
    assert.deepEqual(n.icon, { id: 'circle-filled', color: 'testing.iconPassed' });
    assert.match(n.tooltipMarkdown!, /^\*\*web1\*\* · `root@10\.0\.0\.5:22`/);
    assert.match(n.tooltipMarkdown!, /groups: web/);
    assert.match(n.tooltipMarkdown!, /Linux web1 6\\\.1\\\.0\\-18\\-amd64/, 'host data is Markdown-escaped');
    assert.match(n.tooltipMarkdown!, /CPU 50\.0 % · memory 1000 MiB of 2\.0 GiB \(5s ago\)/);
    assert.match(n.tooltipMarkdown!, /last seen 30s ago/);
    assert.deepEqual(
      n.children!.map((c) => [c.label, c.description]),
      [
        ['CPU', '50.0 %'],
        ['Memory', '1000 MiB / 2.0 GiB'],
        ['Agent', 'running 0.1.0'],
      ],
    );
    const agent = n.children![2];
    assert.deepEqual(
      agent.children!.map((c) => [c.label, c.description, c.contextValue]),
      [['web', 'running (pid 42)', 'package.running']],
    );
  });

  it('groups hosts into collapsible nodes with counts, down first, a host in two groups in both', () => {
    const up = (name: string, groups: string[]): HostState => ({
      name,
      address: `root@${name}:22`,
      groups,
      probe: { ok: true, probe: parseProbe(out), at: new Date() },
    });
    const down = (name: string, groups: string[]): HostState => ({
      name,
      address: `root@${name}:22`,
      groups,
      probe: { ok: false, error: 'refused', at: new Date() },
    });
    const roots = treeRoots([up('a', ['web']), down('b', ['web', 'eu']), up('c', []), up('d', ['eu'])], {
      downFirst: true,
    });
    assert.deepEqual(
      roots.map((r) => [r.label, r.description, r.contextValue]),
      [
        ['eu', '1/2 up', 'group'],
        ['web', '1/2 up', 'group'],
        ['ungrouped', '1/1 up', 'group'],
      ],
    );
    assert.deepEqual(
      roots[1].children!.map((c) => c.label),
      ['b', 'a'],
      'down first',
    );
    assert.deepEqual(roots[0].hosts, ['b', 'd']);
    assert.notEqual(roots[0].children![0].id, roots[1].children![0].id, 'unique ids for a host under two groups');
    assert.deepEqual(
      treeRoots([up('a', []), down('b', [])]).map((r) => r.label),
      ['a', 'b'],
      'no groups: the hosts, by name',
    );
  });

  it('filters by name, address, group and state; a filter that matches nothing says so', () => {
    const h = (name: string, groups: string[], ok: boolean): HostState => ({
      name,
      address: `root@10.0.0.${name.length}:22`,
      groups,
      probe: ok ? { ok: true, probe: parseProbe(out), at: new Date() } : { ok: false, error: 'x', at: new Date() },
    });
    const all = [h('web1', ['web'], true), h('web22', ['web'], false), h('db1', ['db'], true)];
    const names = (text: string) => all.filter((x) => matchesFilter(x, parseFilter(text)!)).map((x) => x.name);
    assert.deepEqual(names('web'), ['web1', 'web22']);
    assert.deepEqual(names('group:db'), ['db1']);
    assert.deepEqual(names('state:down'), ['web22']);
    assert.deepEqual(names('WEB state:up'), ['web1'], 'case does not matter; every word must match');
    assert.deepEqual(names('10.0.0.3'), ['db1'], 'the address counts');
    assert.equal(parseFilter('   '), undefined);
    const none = treeRoots(all, { filter: parseFilter('zzz') });
    assert.deepEqual(
      none.map((r) => [r.label, r.contextValue]),
      [['No host matches “zzz”', 'filter.empty']],
    );
  });

  it("formats a memory pair in the total's unit", () => {
    assert.equal(formatBytesPair(1.3 * 1024 ** 3, 24 * 1024 ** 3), '1.3/24 GiB');
    assert.equal(formatBytesPair(512 * 1024 ** 2, 2 * 1024 ** 3), '0.5/2.0 GiB');
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
    assert.equal(
      hostNode({ ...down, lastSeen: new Date(0) }, new Date(120_000)).description,
      'unreachable · seen 2m ago',
    );
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
