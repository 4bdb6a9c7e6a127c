// The agent install's pure parts: what a host's facts say, which runtime a host gets (or why it
// gets none), the unit files, the summary line, version comparison; and the host-side shell
// scripts (switch, prune) run for real against a scratch directory with dash and busybox sh.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentAge, compareVersions } from '../../core/agentInstall/agentVersion';
import { chooseRuntime } from '../../core/agentInstall/chooseRuntime';
import { pruneScript, switchScript } from '../../core/agentInstall/deploy';
import { deploySummary, type HostDeploy } from '../../core/agentInstall/fanout';
import { parseFacts, type HostFacts } from '../../core/agentInstall/hostFacts';
import { agentLayout } from '../../core/agentInstall/layout';
import { defaultCacheDir } from '../../core/cacheDir';
import { aliveFunction, serviceModeOf, systemdWord, unitText } from '../../core/agentInstall/service';
import { hostNode } from '../../core/fleetView/treeModel';
import { type HostState } from '../../core/hosts/hostState';

const factsText = [
  'home=/home/ann',
  'uid=1000',
  'user=ann',
  'os=Linux',
  'machine=x86_64',
  'libc=glibc 2.36',
  'systemd=user',
  'linger=no',
  'current=0.1.0-aaaaaaaaaaaa',
  'previous=../../etc',
  'agent=0.1.0-aaaaaaaaaaaa',
  'agent=current',
  'agent=..',
  'runtime=node-20.20.2-linux-x64',
  'pid=4242',
  '',
].join('\n');

function facts(over: Partial<HostFacts> = {}): HostFacts {
  return { ...parseFacts(factsText), ...over };
}

describe('agent install: host facts', () => {
  it('parses what the probe printed; ids that are not plain names are dropped', () => {
    const f = parseFacts(factsText);
    assert.equal(f.home, '/home/ann');
    assert.equal(f.uid, 1000);
    assert.equal(f.libc, 'glibc 2.36');
    assert.equal(f.systemdUser, true);
    assert.equal(f.systemdSystem, false);
    assert.equal(f.linger, false);
    assert.equal(f.current, '0.1.0-aaaaaaaaaaaa');
    assert.equal(f.previous, undefined, 'a link to ../../etc is not an agent build');
    assert.deepEqual(f.agents, ['0.1.0-aaaaaaaaaaaa']);
    assert.deepEqual(f.runtimes, ['node-20.20.2-linux-x64']);
    assert.equal(f.detachedPid, 4242);
  });

  it('refuses output without an absolute home', () => {
    assert.throws(() => parseFacts('uid=0\n'), /cannot learn the home directory/);
    assert.throws(() => parseFacts('home=relative\n'), /cannot learn the home directory/);
  });
});

describe('agent install: which runtime', () => {
  it('x86_64 and aarch64 with glibc >= 2.28 get the pinned runtime', () => {
    assert.deepEqual(chooseRuntime(facts()), {
      ok: true,
      runtime: { kind: 'bundled', target: 'linux-x64', id: 'node-20.20.2-linux-x64' },
    });
    const arm = chooseRuntime(facts({ machine: 'aarch64', libc: 'glibc 2.28' }));
    assert.ok(arm.ok && arm.runtime.kind === 'bundled' && arm.runtime.target === 'linux-arm64');
  });

  it('musl, other machines and old glibc use a host node >= 20, and say why', () => {
    const node = { path: '/usr/bin/node', version: 'v22.3.0' };
    for (const [over, why] of [
      [{ libc: 'musl' }, /C library is musl/],
      [{ machine: 'armv7l' }, /machine is armv7l/],
      [{ libc: 'glibc 2.27' }, /glibc is 2\.27, .*needs glibc >= 2\.28/],
    ] as const) {
      const c = chooseRuntime(facts({ ...over, hostNode: node }));
      assert.ok(c.ok && c.runtime.kind === 'host', JSON.stringify(c));
      assert.match(c.runtime.why, why);
    }
  });

  it('refuses with the machine, the C library and what to do when nothing can run the agent', () => {
    const c = chooseRuntime(facts({ libc: 'musl', hostNode: { path: '/usr/bin/node', version: 'v18.19.0' } }));
    assert.equal(c.ok, false);
    assert.match(!c.ok ? c.problem : '', /C library is musl.*its own node is v18\.19\.0 \(< 20\).*apk add nodejs/);
    const d = chooseRuntime(facts({ machine: 'riscv64' }));
    assert.match(!d.ok ? d.problem : '', /machine is riscv64 \(uname -m\).*and it has no node/);
    const e = chooseRuntime(facts({ os: 'FreeBSD' }));
    assert.match(!e.ok ? e.problem : '', /runs on Linux; this host's uname -s is FreeBSD/);
    const g = chooseRuntime(facts({ missingTools: ['gzip'] }));
    assert.match(!g.ok ? g.problem : '', /lacks gzip/);
  });
});

describe('agent install: service', () => {
  it('root on systemd gets a system unit, a user with a manager a user unit, the rest a pid file', () => {
    assert.equal(serviceModeOf({ uid: 0, systemdSystem: true, systemdUser: false }), 'system');
    assert.equal(serviceModeOf({ uid: 1000, systemdSystem: true, systemdUser: true }), 'user');
    assert.equal(serviceModeOf({ uid: 1000, systemdSystem: true, systemdUser: false }), 'detached');
    assert.equal(serviceModeOf({ uid: 0, systemdSystem: false, systemdUser: true }), 'detached');
  });

  it('the units restart on failure, kill only the agent, and run it through current', () => {
    const l = agentLayout('/root');
    const sys = unitText('system', l, '/root');
    assert.match(sys, /^Restart=on-failure$/m);
    assert.match(sys, /^KillMode=process$/m);
    assert.match(sys, /^WantedBy=multi-user\.target$/m);
    assert.match(
      sys,
      /^ExecStart=\/usr\/bin\/env \/root\/\.fleet\/agent\/current\/bin\/node --max-semi-space-size=1 \/root\/\.fleet\/agent\/current\/agent\.js serve --data-dir \/root\/\.fleet-agent --runtime-bin \/root\/\.fleet\/agent\/current\/bin$/m,
    );
    assert.match(unitText('user', agentLayout('/home/a'), '/home/a'), /^WantedBy=default\.target$/m);
  });

  it('quotes and escapes words for systemd: spaces, %, $, quotes; refuses a line break', () => {
    assert.equal(systemdWord('/home/a/x'), '/home/a/x');
    assert.equal(systemdWord('/home/a b'), '"/home/a b"');
    assert.equal(systemdWord('/h/100%'), '"/h/100%%"');
    assert.equal(systemdWord('/h/$HOME'), '"/h/$$HOME"');
    assert.equal(systemdWord('HOME=/h/$x', 'environment'), '"HOME=/h/$x"', 'Environment= expands no $');
    assert.equal(systemdWord('/h/"q"\\'), '"/h/\\"q\\"\\\\"');
    assert.throws(() => systemdWord('/h/a\nb'), /line break/);
  });
});

describe('agent install: summary and versions', () => {
  it('counts each outcome in one line', () => {
    const ok = (outcome: string) => ({ host: 'h', ok: true, value: { outcome } }) as unknown as HostDeploy;
    const results = [
      ok('installed'),
      ok('installed'),
      ok('up to date'),
      { host: 'x', ok: false, error: new Error('e') },
    ];
    assert.equal(deploySummary(results as HostDeploy[]), 'agent deploy: 2 installed, 1 up to date, 1 failed (4 hosts)');
  });

  it('orders versions as semver and tells older, rebuilt and newer agents apart', () => {
    assert.ok(compareVersions('0.9.0', '0.10.0') < 0);
    assert.ok(compareVersions('1.0.0-rc.1', '1.0.0') < 0);
    assert.equal(agentAge('0.1.0-aaaaaaaaaaaa', '0.1.0-aaaaaaaaaaaa'), 'current');
    assert.equal(agentAge('0.1.0-aaaaaaaaaaaa', '0.2.0-bbbbbbbbbbbb'), 'older');
    assert.equal(agentAge('0.1.0-aaaaaaaaaaaa', '0.1.0-bbbbbbbbbbbb'), 'rebuilt');
    assert.equal(agentAge('0.3.0-aaaaaaaaaaaa', '0.2.0-bbbbbbbbbbbb'), 'newer');
    assert.equal(agentAge(undefined, '0.2.0-bbbbbbbbbbbb'), 'older', 'an agent from before build ids');
  });

  it('the Hosts view marks an older agent for Update Agent and says which version runs', () => {
    const h: HostState = {
      name: 'web1',
      address: 'root@web1:22',
      groups: [],
      probe: {
        ok: true,
        at: new Date(),
        probe: {
          uname: 'Linux web1 6.1',
          cpuPct: 1,
          memTotalBytes: 1,
          memUsedBytes: 1,
          agentSocket: true,
          agentId: '0.1.0-aaaaaaaaaaaa',
        },
      },
      packages: [],
    };
    const old = hostNode(h, new Date(), '0.2.0-bbbbbbbbbbbb');
    assert.equal(old.contextValue, 'host.up.agent.outdated');
    const agent = old.children!.find((c) => c.label === 'Agent')!;
    assert.equal(agent.description, 'running 0.1.0, update available (0.2.0)');
    const same = hostNode(h, new Date(), '0.1.0-aaaaaaaaaaaa');
    assert.equal(same.contextValue, 'host.up.agent');
    assert.equal(same.children!.find((c) => c.label === 'Agent')!.description, 'running 0.1.0');
  });
});

describe('agent install: cache directory', () => {
  it('FLEET_CACHE_DIR, else XDG_CACHE_HOME/fleet, else ~/.cache/fleet (and the macOS and Windows places)', () => {
    assert.equal(defaultCacheDir({ FLEET_CACHE_DIR: '/c' }, 'linux', '/h'), '/c');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux', '/h'), '/x/fleet');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: 'rel' }, 'linux', '/h'), '/h/.cache/fleet');
    assert.equal(defaultCacheDir({}, 'darwin', '/h'), '/h/Library/Caches/fleet');
    assert.equal(defaultCacheDir({ LOCALAPPDATA: 'C:\\L' }, 'win32', 'C:\\h'), join('C:\\L', 'fleet', 'Cache'));
  });
});

// the scripts run on hosts with whatever sh they have: dash (Debian) and busybox ash (Alpine, routers)
const shells = [['dash'], ['busybox', 'sh']].filter(([p]) => existsSync(`/usr/bin/${p}`) || existsSync(`/bin/${p}`));

describe('agent install: host scripts, run with dash and busybox sh', () => {
  before(() => {
    if (shells.length < 2) throw new Error('dash and busybox are needed: apt-get install -y dash busybox');
  });

  for (const sh of shells) {
    it(`${sh.join(' ')}: switching current twice keeps the one before as previous; prune keeps current, previous and their runtimes`, () => {
      const home = mkdtempSync(join(tmpdir(), 'prune-'));
      const l = agentLayout(home);
      const runSh = (script: string) => execFileSync(sh[0], [...sh.slice(1), '-c', script], { encoding: 'utf8' });
      for (const r of ['node-1-linux-x64', 'node-2-linux-x64', 'node-3-linux-x64']) {
        mkdirSync(join(l.runtimesDir, r, 'bin'), { recursive: true });
        writeFileSync(join(l.runtimesDir, r, 'bin', 'node'), '');
      }
      const build = (id: string, runtime: string) => {
        mkdirSync(join(l.agentsDir, id, 'bin'), { recursive: true });
        symlinkSync(`../../../runtime/${runtime}/bin/node`, join(l.agentsDir, id, 'bin', 'node'));
      };
      build('0.1.0-aaaaaaaaaaaa', 'node-1-linux-x64');
      build('0.2.0-bbbbbbbbbbbb', 'node-2-linux-x64');
      build('0.3.0-cccccccccccc', 'node-2-linux-x64');
      mkdirSync(join(l.agentsDir, '.0.4.0-dddddddddddd.partial'));
      writeFileSync(join(l.agentsDir, '..0.4.0-dddddddddddd.js.gz.fleet-1234abcd'), 'torn upload');
      writeFileSync(join(l.runtimesDir, '.node-9-linux-x64.tgz'), 'torn upload');

      runSh(switchScript(l, '0.2.0-bbbbbbbbbbbb', undefined));
      runSh(switchScript(l, '0.3.0-cccccccccccc', '0.2.0-bbbbbbbbbbbb'));
      assert.equal(readlinkSync(l.current), '0.3.0-cccccccccccc');
      assert.equal(readlinkSync(l.previous), '0.2.0-bbbbbbbbbbbb');
      runSh(pruneScript(l));
      assert.deepEqual(readdirSync(l.agentsDir).sort(), [
        '0.2.0-bbbbbbbbbbbb',
        '0.3.0-cccccccccccc',
        'current',
        'previous',
      ]);
      assert.deepEqual(readdirSync(l.runtimesDir), ['node-2-linux-x64'], 'runtimes nobody uses are gone');
      assert.ok(existsSync(join(l.currentBin, 'node')), 'current/bin/node resolves to the kept runtime');
    });

    it(`${sh.join(' ')}: fleet_alive says no for a zombie (a late-reaping PID 1) and a gone pid, yes for a live one`, async () => {
      // sleep never reaps: its exited child stays a zombie while sleep lives
      const parent = spawn('sh', ['-c', 'sh -c "exit 0" & exec sleep 5'], { stdio: 'ignore' });
      try {
        let zombie = 0;
        for (let i = 0; i < 100 && !zombie; i++) {
          await new Promise((r) => setTimeout(r, 20));
          const kids = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim();
          if (kids && readFileSync(`/proc/${kids}/stat`, 'utf8').includes(') Z ')) zombie = Number(kids);
        }
        assert.ok(zombie, 'a zombie child appeared');
        const alive = (pid: number) =>
          execFileSync(sh[0], [...sh.slice(1), '-c', `${aliveFunction}; fleet_alive ${pid} && echo yes || echo no`], {
            encoding: 'utf8',
          }).trim();
        assert.equal(alive(parent.pid!), 'yes');
        assert.equal(alive(zombie), 'no');
        assert.equal(alive(2 ** 22 + 1), 'no');
      } finally {
        parent.kill('SIGKILL');
      }
    });
  }
});
