// Fleet's reading of known_hosts against OpenSSH's (`ssh-keygen -F NAME -f FILE`): which lines match
// a host name, with their markers, for plain and hashed entries, [host]:port, wildcards, negation,
// @revoked and @cert-authority, odd and broken lines. Then random names against random patterns
// (fast-check). Then the verdict itself against `ssh` logging into a real sshd, for a file of each
// kind: known, changed, revoked, unknown, and lines whose key ssh cannot read (ignored: unknown).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { HostKeyError } from '../../core/errors';
import { KeyStore } from '../../core/ssh/auth';
import { connect } from '../../core/ssh/connect';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { keygen, SshFleet } from '../harness/sshFleet';

/** what ssh-keygen -F reports: "line N" plus its marker, for each matching line */
function theirs(file: string, name: string): string[] {
  let out = '';
  try {
    out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? ''; // exit 1: no match
  }
  return [...out.matchAll(/^# Host .* found: line (\d+) ?(REVOKED|CA)?/gm)].map((m) => `${m[1]} ${m[2] ?? ''}`.trim());
}

function ours(file: string, name: string): string[] {
  const marker = { '': '', '@revoked': 'REVOKED', '@cert-authority': 'CA' } as const;
  return new KnownHosts(file).matchingLines(name).map((l) => `${l.lineNo} ${marker[l.marker]}`.trim());
}

describe('known_hosts: Fleet against ssh-keygen -F (real OpenSSH)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'kh-diff-'));
  keygen(join(dir, 'k'), 'k');
  const key = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const b64 = key.split(' ')[1];
  // lines ssh-keygen -F lists though their key is broken (ssh itself ignores them), and type names
  const broken = [
    `broken1.example.com ssh-ed25519 ${b64.slice(0, 40)}`,
    `broken2.example.com ssh-ed25519 AA*A${b64.slice(4)}`,
    `broken3.example.com ecdsa-sha2-nistp256 ${b64}`,
    `broken4.example.com ssh-rsa ${Buffer.from('no key').toString('base64')}`,
    `broken5.example.com foo-type ${b64}`,
    `broken6.example.com ED25519 ${b64}`,
    `broken7.example.com RSA-SHA2-512 ${b64}`,
  ];
  const lines = [
    '# a comment',
    `a.example.com,b.example.com ${key}`,
    `*.example.com ${key}`,
    `!bad.example.com,*.example.com,10.0.0.? ${key}`,
    `@revoked a.example.com ${key}`,
    `@cert-authority *.corp ${key}`,
    `[a.example.com]:2222 ${key}`,
    `[*.example.com]:2200 ${key}`,
    `UPPER.Example.com ${key}`,
    '',
    `@unknown-marker x.example.com ${key}`,
    `truncated-line`,
    `10.0.0.1 ${key}`,
    `[10.0.0.1]:22 ${key}`,
    `::1 ${key}`,
    `[::1]:2222 ${key}`,
    ...broken,
  ];
  const plain = join(dir, 'plain');
  writeFileSync(plain, lines.join('\n') + '\n');
  // the same names hashed (ssh-keygen -H, as many distributions write them; it refuses a file with
  // invalid lines, and leaves wildcard lines as they are)
  const hashed = join(dir, 'hashed');
  writeFileSync(hashed, lines.filter((l) => !/^@unknown|^truncated|^broken/.test(l)).join('\n') + '\n');
  execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
  assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/m);
  const names = [
    'a.example.com',
    'b.example.com',
    'c.example.com',
    'bad.example.com',
    'A.EXAMPLE.COM',
    'upper.example.com',
    '[a.example.com]:2222',
    '[c.example.com]:2200',
    '[a.example.com]:2200',
    'x.corp',
    'x.example.com',
    '10.0.0.1',
    '10.0.0.12',
    '[10.0.0.1]:22',
    '::1',
    '[::1]:2222',
    'nothing.at.all',
    ...broken.map((_, i) => `broken${i + 1}.example.com`),
  ];

  for (const [what, file] of [
    ['plain', plain],
    ['hashed', hashed],
  ] as const) {
    it(`the ${what} file: the same lines match every name`, () => {
      for (const n of names) assert.deepEqual(ours(file, n), theirs(file, n), `${what}: ${n}`);
    });
  }

  it('property: random host names against random patterns agree', async () => {
    const label = fc.stringMatching(/^[a-c0-9-]{1,3}$/);
    const hostName = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('.'));
    const pattern = fc
      .array(fc.oneof(label, fc.constantFrom('*', '?', 'a*', '*b', '?c')), { minLength: 1, maxLength: 3 })
      .map((ls) => ls.join('.'));
    const entry = fc.tuple(fc.boolean(), pattern).map(([neg, p]) => (neg ? `!${p}` : p));
    await fc.assert(
      fc.property(
        fc.array(fc.array(entry, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.array(hostName, { minLength: 1, maxLength: 4 }),
        (fileLines, queries) => {
          const file = join(dir, 'random');
          writeFileSync(file, fileLines.map((l) => `${l.join(',')} ${key}`).join('\n') + '\n');
          for (const q of queries)
            assert.deepEqual(
              ours(file, q),
              theirs(file, q),
              `${q} in ${fileLines.map((l) => l.join(',')).join(' | ')}`,
            );
        },
      ),
      { seed: fuzzSeed(20261130), numRuns: fuzzRuns(40, 2000), endOnFailure: true },
    );
  });
});

/** how ssh ended a login: known (logged in), changed, revoked or unknown (strict checking) */
function sshVerdict(stderr: string | null): string {
  if (stderr === null) return 'known';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return 'changed';
  if (/REVOKED HOST KEY/.test(stderr)) return 'revoked';
  if (/No \S+ host key is known|Host key verification failed/.test(stderr)) return 'unknown';
  return `other: ${stderr}`;
}

describe('known_hosts verdicts: Fleet against ssh logging into a real sshd', function () {
  this.timeout(120_000);
  let f: SshFleet;
  before(async () => {
    f = await SshFleet.start(1);
  });
  after(async () => f?.stop());

  it('known, changed, revoked and unknown agree for files of every kind, broken lines ignored as ssh ignores them', async () => {
    const h = f.hosts[0];
    const dir = mkdtempSync(join(tmpdir(), 'kh-verdict-'));
    const name = `[${h.address}]:${h.port}`;
    const [, type, b64] = h.knownHostsLine.split(' ');
    keygen(join(dir, 'other'), 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'ecdsa')]);
    const other = readFileSync(join(dir, 'other.pub'), 'utf8').split(' ')[1];
    const ecdsa = readFileSync(join(dir, 'ecdsa.pub'), 'utf8').split(' ')[1];
    const hashedLine = () => {
      const file = join(dir, 'to-hash');
      writeFileSync(file, `${name} ${type} ${b64}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      return readFileSync(file, 'utf8').trim();
    };
    // [file lines, what Fleet says where it differs from ssh on purpose]
    const cases: Array<[string, string[], string?]> = [
      ['pinned', [`${name} ${type} ${b64}`]],
      ['hashed', [hashedLine()]],
      ['wildcard', [`[${h.address.replace(/\d+$/, '*')}]:${h.port} ${type} ${b64}`]],
      ['negated', [`!${name},[*]:${h.port} ${type} ${b64}`]],
      ['short type name', [`${name} ED25519 ${b64}`]],
      ['another key', [`${name} ${type} ${other}`]],
      ['revoked', [`${name} ${type} ${b64}`, `@revoked * ${type} ${b64}`]],
      ['no line', [`elsewhere ${type} ${b64}`]],
      ['truncated key', [`${name} ${type} ${b64.slice(0, 40)}`]],
      ['bad base64', [`${name} ${type} AA*A${b64.slice(4)}`]],
      ['unpadded', [`${name} ecdsa-sha2-nistp256 ${ecdsa.replace(/=+$/, '')}`]],
      ['its key named as another type', [`${name} ecdsa-sha2-nistp256 ${b64}`]],
      ['a broken line of another type', [`${name} ecdsa-sha2-nistp256 ${ecdsa.slice(0, 60)}`]],
      ['another key, broken', [`${name} ${type} ${other.slice(0, 40)}`]],
      ['pinned beside a broken line', [`${name} ecdsa-sha2-nistp256 ${b64}`, `${name} ${type} ${b64}`]],
      ['an unknown type name', [`${name} foo-type ${b64}`]],
      ['a @cert-authority line and no certificate', [`@cert-authority [*]:${h.port} ${type} ${other}`]],
      // Fleet refuses a key type never pinned where another type is: ssh would ask (strict: unknown)
      ['only another type pinned', [`${name} ecdsa-sha2-nistp256 ${ecdsa}`], 'changed'],
    ];
    for (const [what, lines, fleetSays] of cases) {
      const kh = join(dir, `kh-${what.replace(/\W+/g, '-')}`);
      writeFileSync(kh, lines.join('\n') + '\n');
      let ssh: string | null = null;
      try {
        execFileSync(
          'ssh',
          [
            '-F',
            '/dev/null',
            '-o',
            `UserKnownHostsFile=${kh}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'IdentityAgent=none',
            '-i',
            f.clientKey,
            '-p',
            String(h.port),
            `${f.loginName}@${h.address}`,
            'true',
          ],
          { stdio: 'pipe' },
        );
      } catch (e) {
        ssh = String((e as { stderr?: Buffer }).stderr);
      }
      let ours = 'known';
      try {
        const ep = {
          label: what,
          host: h.address,
          port: h.port,
          user: f.loginName,
          identityFiles: [f.clientKey],
          jump: [],
        };
        const checker = new HostKeyChecker(new KnownHosts(kh), 'strict');
        (await connect(ep, { hostKeys: checker, keys: new KeyStore({ agentSocket: '' }) })).end();
      } catch (e) {
        ours = e instanceof HostKeyError ? e.kind : `other: ${e}`;
      }
      assert.equal(ours, fleetSays ?? sshVerdict(ssh), `${what}: ssh said ${sshVerdict(ssh)}`);
    }
  });
});
