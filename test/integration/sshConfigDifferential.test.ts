// Fleet's reading of ssh_config against OpenSSH's own (`ssh -G`), field by field, over a corpus of
// configs: Include trees, wildcards and negations, Match blocks, repeated keys, tokens, quoting,
// ProxyJump/ProxyCommand. The configs live in a test user's ~/.ssh so relative Includes resolve as
// ssh resolves them. Every difference is a bug, or one of the deliberate limits listed at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { SshConfig, type ResolvedSsh } from '../../core/ssh/sshConfig';
import { createTestUser, type TestUser } from '../harness/testUser';

interface Case {
  name: string;
  /** files relative to ~/.ssh; `config` is the one read */
  files: Record<string, string>;
  hosts: string[];
  /** command-line user and port (`-l`, `-p`), as a target's user@ and :port would give */
  cmd?: { user?: string; port?: number };
}

const corpus: Case[] = [
  {
    name: 'Include with a glob, relative to ~/.ssh (the issue: db1 resolved to 10.1.2.3:2299 as dbadmin)',
    files: {
      config: 'Include conf.d/*.conf\nHost *\n  IdentityFile ~/.ssh/id_fleet\n',
      'conf.d/db.conf': 'Host db1\n  HostName 10.1.2.3\n  User dbadmin\n  Port 2299\n',
      'conf.d/web.conf': 'Host web*\n  User www\n',
      'conf.d/.hidden.conf': 'Host db1\n  User hidden\n',
    },
    hosts: ['db1', 'web7', 'other'],
  },
  {
    name: 'nested Includes, absolute and ~/ paths, an Include inside a Host block applies only to that host',
    files: {
      config: 'Host jumpy\n  Include inner/only-jumpy.conf\nInclude ~/.ssh/outer.conf\n',
      'inner/only-jumpy.conf': 'Port 2022\nUser inner\n',
      'outer.conf': 'Include deeper/*.conf\nHost *\n  Port 2200\n',
      'deeper/a.conf': 'Host x*\n  HostName %h.internal\n',
    },
    hosts: ['jumpy', 'xray', 'plain'],
  },
  {
    name: 'negated patterns, several patterns on a Host line, the first value wins',
    files: {
      config: [
        'Host !bastion *.prod',
        '  User produser',
        'Host bastion *.prod',
        '  User second',
        '  Port 2201',
        'Host * !*.dev',
        '  Port 2300',
        '  User third',
        'Host *',
        '  ServerAliveInterval 15',
        '  ServerAliveInterval 99',
      ].join('\n'),
    },
    hosts: ['a.prod', 'bastion', 'b.dev', 'c.test'],
  },
  {
    name: 'Match host (after HostName), originalhost, user (set so far), localuser, all, negation',
    files: {
      config: [
        'Host short',
        '  HostName long.example.com',
        'Match host long.example.com',
        '  User vialong',
        'Match originalhost short',
        '  Port 2444',
        'Match user vialong !host nothing',
        '  ConnectTimeout 7',
        'Match localuser fleetcfg',
        '  IdentityFile ~/.ssh/for_local_user',
        'Match all',
        '  IdentitiesOnly yes',
        'Match !originalhost short',
        '  ServerAliveInterval 5',
      ].join('\n'),
    },
    hosts: ['short', 'long.example.com', 'other'],
  },
  {
    name: 'the command line comes first: user@ and :port beat the config, and Match user sees them',
    files: {
      config: 'Host *\n  User cfguser\n  Port 2000\nMatch user cliuser\n  ConnectTimeout 3\n',
    },
    hosts: ['h1'],
    cmd: { user: 'cliuser', port: 2022 },
  },
  {
    name: 'IdentityFile accumulates in order without duplicates, with tokens kept for later',
    files: {
      config: [
        'Host ids',
        '  IdentityFile ~/.ssh/id_%h_%r',
        '  IdentityFile %d/keys/%n',
        '  IdentityFile ~/.ssh/id_%h_%r',
        'Host *',
        '  IdentityFile ~/.ssh/common',
      ].join('\n'),
    },
    hosts: ['ids', 'none-named'],
  },
  {
    name: 'ProxyJump and ProxyCommand share one slot: the first wins; ProxyJump none',
    files: {
      config: [
        'Host cmdfirst',
        '  ProxyCommand nc %h %p',
        '  ProxyJump j1',
        'Host jumpfirst',
        '  ProxyJump j1,j2',
        '  ProxyCommand nc %h %p',
        'Host nonefirst',
        '  ProxyJump none',
        '  ProxyCommand ssh -W %h:%p bastion',
        'Host cmdnone',
        '  ProxyCommand none',
        '  ProxyJump j3',
      ].join('\n'),
    },
    hosts: ['cmdfirst', 'jumpfirst', 'nonefirst', 'cmdnone'],
  },
  {
    name: 'quoting, key=value, case-insensitive keywords, comments',
    files: {
      config: [
        '# a comment',
        'HOST quoted',
        '  hostname=quoted.example.com',
        '  USER = "bob"',
        '  IdentityFile "/keys/with space/id"',
        '  Port=2201 # trailing comment',
        '   ',
        'Host "spaced name"',
        '  User spaced',
      ].join('\n'),
    },
    hosts: ['quoted'],
  },
  {
    name: 'HostName with %h; a host that matches nothing gets the defaults',
    files: { config: 'Host *.short\n  HostName %h.example.com\n' },
    hosts: ['a.short', 'Unmatched'],
  },
  {
    name: 'Match final: evaluated in a second pass, first values still win',
    files: {
      config: ['Match final', '  User finaluser', '  Port 2555', 'Host f', '  Port 2100'].join('\n'),
    },
    hosts: ['f', 'g'],
  },
];

type Fields = Record<string, string | string[] | undefined>;

function fromSshG(out: string): Fields {
  const f: Fields = { identityfile: [] };
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'identityfile') (f.identityfile as string[]).push(v);
    else if (
      [
        'hostname',
        'user',
        'port',
        'identitiesonly',
        'proxyjump',
        'proxycommand',
        'connecttimeout',
        'serveraliveinterval',
      ].includes(k)
    )
      f[k] = v;
  }
  return f;
}

function fromFleet(r: ResolvedSsh): Fields {
  return defined({
    hostname: r.hostname,
    user: r.user,
    port: String(r.port),
    identityfile: r.identityFiles,
    identitiesonly: r.identitiesOnly ? 'yes' : 'no',
    proxyjump: r.proxyJump,
    proxycommand: r.proxyCommand,
    connecttimeout: r.connectTimeoutSecs === undefined ? 'none' : String(r.connectTimeoutSecs),
    serveraliveinterval: String(r.serverAliveIntervalSecs),
  });
}

function defined(f: Fields): Fields {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
}

describe('ssh_config: Fleet against ssh -G (real OpenSSH)', function () {
  this.timeout(120_000);
  let u: TestUser;
  before(() => {
    u = createTestUser('fleetcfg');
  });
  after(() => u?.remove());

  for (const c of corpus) {
    it(c.name, () => {
      const ssh = join(u.home, '.ssh');
      execFileSync('rm', ['-rf', ssh]);
      mkdirSync(ssh, { mode: 0o700 });
      for (const [name, text] of Object.entries(c.files)) {
        mkdirSync(dirname(join(ssh, name)), { recursive: true });
        // the corpus names the test user by its base name; the user's name has this run's tag
        writeFileSync(join(ssh, name), text.replaceAll('fleetcfg', u.name) + '\n', { mode: 0o600 });
      }
      execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, u.home]);
      chownSync(ssh, u.uid, u.gid);
      const config = SshConfig.load(join(ssh, 'config'), { home: u.home, localUser: u.name, localHost: hostname() });
      for (const host of c.hosts) {
        const args = [
          '-u',
          u.name,
          '--',
          'ssh',
          '-G',
          '-F',
          join(ssh, 'config'),
          ...(c.cmd?.user ? ['-l', c.cmd.user] : []),
          ...(c.cmd?.port ? ['-p', String(c.cmd.port)] : []),
          host,
        ];
        const theirs = fromSshG(execFileSync('runuser', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
        const ours = fromFleet(config.resolve(host, c.cmd));
        assert.deepEqual(ours, theirs, `host ${JSON.stringify(host)}`);
      }
    });
  }

  // Deliberate limits, each shown here so they stay known:
  it('limit: Match exec is never run (ssh would run it); the block is skipped with a warning', () => {
    const config = SshConfig.parse('Match exec "true"\n  Port 5\n', 'x', {
      home: '/nonexistent',
      localUser: 'u',
      localHost: 'l',
    });
    assert.equal(config.resolve('h').port, 22);
    assert.match(config.warnings[0], /Match exec is not run by Fleet/);
  });
});
