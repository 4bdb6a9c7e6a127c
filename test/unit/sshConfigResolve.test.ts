// From ssh_config to an SshEndpoint (core/targets/resolve.ts): jump lists followed as `ssh -J` follows
// them, ProxyCommand's tokens and how it is run, identity and certificate files expanded, the values
// the connection acts on carried only where the config sets them, what Fleet says and refuses; and the
// reader holds up to any text. (What the values are is checked against ssh -G in the integration test.)
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ValidationError } from '../../core/errors';
import { proxyArgv } from '../../core/ssh/proxyCommand';
import { SshConfig, type LocalContext } from '../../core/ssh/sshConfig';
import { resolveTarget } from '../../core/targets/resolve';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

const local: LocalContext = {
  home: '/home/ann',
  localUser: 'ann',
  localHost: 'box.example.org',
  uid: 1000,
  env: { KEYS: '/srv/keys' },
  homeOf: (u) => (u === 'ops' ? '/srv/ops' : undefined),
};
const config = (text: string) => SshConfig.parse(text, '/home/ann/.ssh/config', local);
const resolve = (text: string, host: string, defaults = {}) => resolveTarget(host, config(text), defaults, 0, local);

describe('ssh_config to endpoints', () => {
  describe('ProxyJump lists, as ssh -J follows them', () => {
    const cfg = [
      'Host t',
      '  ProxyJump a,b',
      'Host a',
      '  HostName A.Example',
      '  ProxyJump y',
      'Host b',
      '  User bee',
      '  ProxyJump nowhere',
      'Host y',
      '  Port 2200',
      'Host t2',
      '  ProxyJump a2,b',
      'Host a2',
      '  ProxyCommand nc %h %p',
    ].join('\n');

    it("the first hop's own ProxyJump is followed, a later hop's is not", () => {
      const e = resolve(cfg, 't');
      assert.deepEqual(
        e.jump.map((j) => `${j.label}=${j.user}@${j.host}:${j.port}`),
        ['y=ann@y:2200', 'a=ann@a.example:22', 'b=bee@b:22'],
      );
      assert.ok(e.jump.every((j) => j.jump.length === 0));
    });

    it("the first hop's own ProxyCommand is how it is reached; the target's is not used", () => {
      const e = resolve(cfg, 't2');
      assert.deepEqual(
        e.jump.map((j) => [j.label, j.proxyCommand]),
        [
          ['a2', 'nc a2 22'],
          ['b', undefined],
        ],
      );
      assert.equal(e.proxyCommand, undefined);
    });

    it('--jump comes before the config, as ssh -J does; a user with @ and ssh:// URIs are hops', () => {
      const e = resolve(cfg, 't', { jump: 'ssh://ops@bastion.example:2200,alice@corp.example@inner' });
      assert.deepEqual(
        e.jump.map((j) => `${j.user}@${j.host}:${j.port}`),
        ['ops@bastion.example:2200', 'alice@corp.example@inner:22'],
      );
    });

    it('a loop through the first hops is refused', () => {
      assert.throws(
        () => resolve('Host x\n  ProxyJump y\nHost y\n  ProxyJump x\n', 'x'),
        /config: line \d: proxyjump: ProxyJump through more than 4 levels/,
      );
    });
  });

  describe('ProxyCommand', () => {
    it('keeps the line as written and expands %h (lower-cased), %k, %n, %p, %r and %%', () => {
      const e = resolve(
        [
          'Host t',
          '  HostName Mixed.Example',
          '  HostKeyAlias KA',
          '  User u',
          '  Port 2222',
          `  ProxyCommand sh -c "go %h %k %n --parameters 'portNumber=%p' %r 100%%"`,
        ].join('\n'),
        't',
      );
      assert.equal(e.proxyCommand, `sh -c "go mixed.example ka t --parameters 'portNumber=2222' u 100%"`);
    });

    it('an unknown token is refused with the file and line', () => {
      assert.throws(
        () => resolve('Host t\n  ProxyCommand nc %h %x\n', 't'),
        (e: unknown) =>
          e instanceof ValidationError && e.file === '/home/ann/.ssh/config' && /^line 2: proxycommand/.test(e.field),
      );
    });

    it("runs as ssh runs it: the user's shell, exec in front; cmd.exe on Windows", () => {
      assert.deepEqual(proxyArgv('nc x 22', 'linux', { SHELL: '/bin/zsh' }), ['/bin/zsh', ['-c', 'exec nc x 22']]);
      assert.deepEqual(proxyArgv('nc x 22', 'darwin', {}), ['/bin/sh', ['-c', 'exec nc x 22']]);
      assert.deepEqual(proxyArgv('nc x 22', 'win32', { ComSpec: 'C:\\cmd.exe' }), [
        'C:\\cmd.exe',
        ['/d', '/s', '/c', 'nc x 22'],
      ]);
    });
  });

  describe('identity and certificate files', () => {
    it('are expanded as ssh expands them: ~, ~user, % tokens (%k too), ${VAR}; none leaves nothing', () => {
      const e = resolve(
        [
          'Host t',
          '  HostKeyAlias Alias',
          '  IdentityFile ~/.ssh/%h_%r',
          '  IdentityFile ~ops/key',
          '  IdentityFile ${KEYS}/%k',
          '  IdentityFile none',
          '  CertificateFile ~/.ssh/%u-cert.pub',
        ].join('\n'),
        'deploy@t',
      );
      assert.deepEqual(e.optionalIdentityFiles, ['/home/ann/.ssh/t_deploy', '/srv/ops/key', '/srv/keys/alias']);
      assert.deepEqual(e.certificateFiles, ['/home/ann/.ssh/ann-cert.pub']);
    });

    it('a ${VAR} that is not set, or ~user of no user, is refused with the file and line', () => {
      for (const line of ['IdentityFile ${NOT_SET}/k', 'IdentityFile ~nobody-here/k', 'CertificateFile %z']) {
        assert.throws(
          () => resolve(`Host t\n  ${line}\n`, 't'),
          (e: unknown) => e instanceof ValidationError && /^line 2: (identityfile|certificatefile)/.test(e.field),
          line,
        );
      }
    });
  });

  it('carries the values the connection acts on only where the config sets them', () => {
    const plain = resolve('Host t\n  User u\n', 't');
    for (const k of ['certificateFiles', 'keepaliveCountMax', 'connectionAttempts', 'strictHostKeyChecking'])
      assert.ok(!(k in plain), k);
    const e = resolve(
      [
        'Host t',
        '  ServerAliveCountMax 10',
        '  ConnectionAttempts 3',
        '  StrictHostKeyChecking off',
        '  UserKnownHostsFile ~/.ssh/kh/%h /dev/null',
        '  GlobalKnownHostsFile none',
        '  IdentityAgent ~/agent.sock',
        '  ConnectTimeout 1m',
        '  ServerAliveInterval 30s',
      ].join('\n'),
      't',
    );
    assert.equal(e.keepaliveCountMax, 10);
    assert.equal(e.connectionAttempts, 3);
    assert.equal(e.strictHostKeyChecking, 'no');
    assert.deepEqual(e.userKnownHostsFiles, ['/home/ann/.ssh/kh/t', '/dev/null']);
    assert.deepEqual(e.globalKnownHostsFiles, []);
    assert.equal(e.identityAgent, '/home/ann/agent.sock');
    assert.equal(e.connectTimeoutMs, 60_000);
    assert.equal(e.keepaliveMs, 30_000);
  });

  it('the known-hosts, agent and retry values are acted on, so nothing is said of them (issue 27)', () => {
    const c = config(
      [
        'Host t',
        '  StrictHostKeyChecking yes',
        '  UserKnownHostsFile /dev/null',
        '  IdentityAgent none',
        '  ConnectionAttempts 3',
        '  ServerAliveCountMax 10',
        '  GlobalKnownHostsFile /etc/ssh/other',
      ].join('\n'),
    );
    resolveTarget('t', c, {}, 0, local);
    assert.deepEqual(c.warnings, []);
  });

  it('a keyword Fleet cannot honour for a host is refused there, with the file and line', () => {
    for (const [line, why] of [
      ['BindAddress 10.0.0.5', /local address/],
      ['CanonicalizeHostname yes', /canonicalize/],
      ['Ciphers aes256-ctr', /restrict it to aes256-ctr/],
      ['HostKeyAlgorithms -ssh-rsa', /remove ssh-rsa/],
      ['KnownHostsCommand /bin/fetch %H', /KnownHostsCommand/],
      ['RefuseConnection yes', /refuses connections/],
    ] as const) {
      assert.throws(
        () => resolve(`Host t\n  ${line}\nHost *\n  ${line}\n`, 't'),
        (e: unknown) => e instanceof ValidationError && /^line 2: /.test(e.field) && why.test(e.message),
        line,
      );
      assert.doesNotThrow(() => resolve(`Host t\n  ${line}\n`, 'other'), line);
    }
  });

  it('says once that a Match exec block is skipped, naming the file and line', () => {
    const c = config('Host t\n  User u\nMatch exec "true"\n  Port 5\n');
    assert.equal(resolveTarget('t', c, {}, 0, local).port, 22);
    resolveTarget('t', c, {}, 0, local);
    assert.deepEqual(c.warnings, [
      '/home/ann/.ssh/config line 3: Match exec is not run by Fleet (it would execute a command from the config); that block is skipped',
    ]);
  });

  it("reads ~/.ssh/config, then the system's ssh_config; refuses a config others can write", () => {
    const home = mkdtempSync(join(tmpdir(), 'sshcfg-home-'));
    mkdirSync(join(home, '.ssh'));
    const system = join(home, 'system_config');
    writeFileSync(join(home, '.ssh', 'config'), 'Host t\n  User from-user\n', { mode: 0o600 });
    writeFileSync(system, 'Host *\n  User from-system\n  Port 2200\n');
    const ctx = { ...local, home, uid: process.getuid?.() ?? 0 };
    const r = SshConfig.load(undefined, ctx, system).resolve('t');
    assert.deepEqual([r.user, r.port], ['from-user', 2200]);
    chmodSync(join(home, '.ssh', 'config'), 0o666);
    assert.throws(() => SshConfig.load(undefined, ctx, system).resolve('t'), /bad owner or permissions/);
  });

  it('property: any text gives settings or a ValidationError naming the file, never another exception', () => {
    const piece = fc.constantFrom(
      'Host ',
      'Match ',
      'host ',
      'exec ',
      'all ',
      'final',
      'ProxyJump ',
      'ProxyCommand ',
      'IdentityFile ',
      'Port ',
      'HostName ',
      'Include ',
      '%h',
      '%',
      '${',
      '}',
      '"',
      "'",
      '\\',
      '=',
      '#',
      ',',
      '@',
      ':',
      '[',
      ']',
      ' ',
      '\t',
      '\n',
      '\r\n',
      'none',
      'ssh://',
      '*',
      '!',
      'a',
      '0',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        try {
          const c = SshConfig.parse(text, '/nonexistent/config', { ...local, home: '/nonexistent' });
          resolveTarget('a', c, {}, 0, { ...local, home: '/nonexistent' });
        } catch (e) {
          if (e instanceof ValidationError) return;
          throw e;
        }
      }),
      { seed: fuzzSeed(20261204), numRuns: fuzzRuns(500) },
    );
  });
});
