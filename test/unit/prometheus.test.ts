import assert from 'node:assert/strict';
import { foldStats, statsQueries } from '../../core/hosts/promStats';
import type { Sample } from '../../core/prometheus/client';
import { PrometheusClient } from '../../core/prometheus/client';
import { scrapeConfig } from '../../core/prometheus/scrapeConfig';
import { prometheusText } from '../../agent/metrics';
import { makeSelfSigned } from '../../agent/selfSignedCert';
import { KnownAgents } from '../../core/agentClient/knownAgents';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const at = Date.parse('2026-11-26T10:00:00Z');
const s = (name: string, labels: Record<string, string>, value: number): Sample => ({
  labels: { __name__: name, job: 'fleet-agents', ...labels },
  value,
  at,
});

describe('Prometheus: scrape config, host stats, agent metrics', () => {
  it('generates a TLS job, file_sd targets and a CA file of the pinned certificates; skips hosts with no TCP agent, no pin, or plain http elsewhere', () => {
    const known = new KnownAgents(join(mkdtempSync(join(tmpdir(), 'known-')), 'known_agents.json'));
    const certs = ['10.0.0.1', 'fd00::1', '10.0.0.9', '10.0.0.2'].map(() => makeSelfSigned(['fleet-agent']).certPem);
    known.pin('10.0.0.1', 9100, certs[0], 'test');
    known.pin('fd00::1', 9100, certs[1], 'test');
    known.pin('10.0.0.9', 7000, certs[2], 'test');
    known.pin('10.0.0.2', 9100, certs[3], 'test');
    const c = scrapeConfig(
      [
        { name: 'web1', host: '10.0.0.1', groups: ['web', 'eu'] },
        { name: 'db1', host: 'fd00::1', groups: [] },
        { name: 'lb1', host: '10.0.0.9', groups: [], agent: 'https://10.0.0.9:7000' },
        { name: 'x1', host: '10.0.0.2', groups: [], agent: 'ssh://root@10.0.0.2' },
        { name: 'nopin', host: '10.0.0.3', groups: [] },
        { name: 'old', host: '10.0.0.4', groups: [], agent: 'http://10.0.0.4:9100' },
        { name: 'oldok', host: '10.0.0.5', groups: [], agent: 'http://10.0.0.5:9100' },
        { name: 'local', host: '127.0.0.1', groups: [], agent: 'http://127.0.0.1:9101' },
      ],
      {
        job: 'fleet-agents',
        tokenFile: '/etc/prometheus/t',
        targetsFile: '/srv/targets.json',
        caFile: '/srv/ca.pem',
        agentPort: 9100,
        knownAgents: known,
        insecureHttp: ['10.0.0.5'],
      },
    );
    assert.deepEqual(c.targets, [
      { targets: ['10.0.0.1:9100'], labels: { host: 'web1', groups: ',web,eu,' } },
      { targets: ['[fd00::1]:9100'], labels: { host: 'db1' } },
      { targets: ['10.0.0.9:7000'], labels: { host: 'lb1' } },
      { targets: ['10.0.0.2:9100'], labels: { host: 'x1' } },
      { targets: ['10.0.0.5:9100'], labels: { host: 'oldok', __scheme__: 'http' } },
      { targets: ['127.0.0.1:9101'], labels: { host: 'local', __scheme__: 'http' } },
    ]);
    assert.equal(c.caPem, certs.join(''));
    assert.deepEqual(
      c.skipped.map((x) => x.host),
      ['nopin', 'old'],
    );
    assert.match(c.skipped[0].why, /no TLS certificate is pinned for 10\.0\.0\.3:9100: run fleet agent deploy nopin/);
    assert.match(c.skipped[1].why, /plain http to another machine.*--insecure-http 10\.0\.0\.4/);
    assert.ok(
      c.yaml.includes(`scheme: https\n  tls_config:\n    ca_file: "/srv/ca.pem"\n    server_name: "fleet-agent"`),
      c.yaml,
    );
    assert.match(c.yaml, /credentials_file: "\/etc\/prometheus\/t"/);
    assert.match(c.yaml, /files: \["\/srv\/targets\.json"\]/);
    const none = scrapeConfig([{ name: 'x1', host: 'h', groups: [], agent: 'ssh://root@h' }], {
      job: 'j',
      tokenFile: 't',
      targetsFile: 'f',
    });
    assert.deepEqual(none.targets, []);
    assert.match(none.skipped[0].why, /reached over ssh; give --agent-port/);
    assert.throws(() => scrapeConfig([], { job: 'a"} or vector(1)', tokenFile: 't', targetsFile: 'f' }), /job name/);
  });

  it('folds the three queries into host stats; a host Prometheus cannot scrape is down, an unknown one absent', () => {
    const raw = [
      s('up', { host: 'web1' }, 1),
      s('node_memory_MemTotal_bytes', { host: 'web1' }, 8 * 2 ** 30),
      s('node_memory_MemAvailable_bytes', { host: 'web1' }, 6 * 2 ** 30),
      s('node_load1', { host: 'web1' }, 0.5),
      s('node_boot_time_seconds', { host: 'web1' }, 1000),
      s('node_time_seconds', { host: 'web1' }, 4600),
      s(
        'node_uname_info',
        { host: 'web1', sysname: 'Linux', nodename: 'web1', release: '6.1', version: '#1', machine: 'x86_64' },
        1,
      ),
      s('fleet_agent_info', { host: 'web1', version: '0.2.0', build: 'abcdef123456' }, 1),
      s('fleet_package_state', { host: 'web1', package: 'web', state: 'running' }, 1),
      s('fleet_package_state', { host: 'web1', package: 'web', state: 'stopped' }, 0),
      s('fleet_package_restarts_total', { host: 'web1', package: 'web' }, 2),
      s('fleet_package_info', { host: 'web1', package: 'web', version: 'v2', sha256: 'ab' }, 1),
      s('up', { host: 'web2' }, 0),
      s('up', {}, 1), // a target without the host label is not ours to show
    ];
    const cpu = [
      { labels: { host: 'web1', mode: 'idle' }, value: 0.75, at },
      { labels: { host: 'web1', mode: 'iowait' }, value: 0.05, at },
    ];
    const scraped = [{ labels: { host: 'web1' }, value: at / 1000 - 3, at }];
    const m = foldStats(raw, cpu, scraped);
    assert.deepEqual([...m.keys()].sort(), ['web1', 'web2']);
    const w = m.get('web1')!;
    assert.ok(w.probe.ok);
    assert.equal(w.probe.source, 'prometheus');
    assert.equal(w.probe.at.getTime(), at - 3000, 'the age is that of the last scrape');
    assert.deepEqual(
      { ...w.probe.probe },
      {
        uname: 'Linux web1 6.1 #1 x86_64',
        cpuPct: 25,
        iowaitPct: 5,
        memTotalBytes: 8 * 2 ** 30,
        memUsedBytes: 2 * 2 ** 30,
        agentSocket: true,
        agentId: '0.2.0-abcdef123456',
        load1: 0.5,
        uptimeSecs: 3600,
      },
    );
    assert.deepEqual(
      w.packages!.map((p) => [p.name, p.state, p.restarts, p.version]),
      [['web', 'running', 2, 'v2']],
    );
    const d = m.get('web2')!.probe;
    assert.ok(!d.ok && /up is 0/.test(d.error));
    assert.match(statsQueries('fleet-agents').raw, /^\{job="fleet-agents",__name__=~"up\|/);
  });

  it('refuses credentials in the URL and schemes other than http(s)', () => {
    assert.throws(() => new PrometheusClient('http://u:p@prom:9090'), /not in the URL/);
    assert.throws(() => new PrometheusClient('file:///etc/passwd'), /http/);
    assert.throws(() => new PrometheusClient('prom:9090'), /http/);
  });

  it("the agent's metrics carry node_exporter's names, with HELP and TYPE, and escape label values", () => {
    const text = prometheusText(
      { 'system-cpu': null, 'system-mem': { ResolutionSecs: 1, UnixTimeNano: 0, Total: 100, Free: 10, Avail: 50 } },
      [],
      { version: '0.2.0', build: 'abcdef123456', node: 'v20"x\n', pid: 1, startedAt: '', runtimeBin: null },
    );
    for (const name of [
      'node_cpu_seconds_total',
      'node_memory_MemTotal_bytes',
      'node_load1',
      'node_boot_time_seconds',
      'node_uname_info',
      'fleet_agent_info',
    ])
      assert.match(text, new RegExp(`^# HELP ${name} .+\\n# TYPE ${name} (gauge|counter)$`, 'm'), name);
    assert.match(text, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} [\d.]+$/m);
    assert.match(text, /^fleet_agent_info\{version="0\.2\.0",build="abcdef123456",node="v20\\"x\\n"\} 1$/m);
  });
});
