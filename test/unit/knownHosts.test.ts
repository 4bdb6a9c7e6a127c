import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forHosts } from '../../core/ssh/forHosts';
import { HostKeyError, UnreachableError } from '../../core/errors';
import { Exit, exitOf } from '../../cli/exitCodes';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { fingerprint, KnownHosts, patternsMatch } from '../../core/ssh/knownHosts';
import { sshBlob } from './sshKeys';

// real SSH public key blobs (known_hosts ignores a line whose key does not parse, as ssh does)
const edA = sshBlob('ed25519');
const edB = sshBlob('ed25519');
const ecdsa = sshBlob('ecdsa');
const line = (pat: string, k: Buffer) =>
  `${pat} ${k === ecdsa ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519'} ${k.toString('base64')}`;

function hashed(name: string, salt = Buffer.alloc(20, 7)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('matches plain names, [host]:port, wildcards and negation', () => {
    assert.ok(patternsMatch('a.example,b.example', 'b.example'));
    assert.ok(patternsMatch('[10.0.0.1]:2222', '[10.0.0.1]:2222'));
    assert.ok(!patternsMatch('10.0.0.1', '[10.0.0.1]:2222'));
    assert.ok(patternsMatch('*.example', 'web.example'));
    assert.ok(!patternsMatch('*.example,!db.example', 'db.example'));
    assert.ok(patternsMatch('WEB.example', 'web.EXAMPLE'));
  });

  it('matches hashed entries by HMAC-SHA1 of the name', () => {
    assert.ok(patternsMatch(hashed('[127.0.0.5]:2222'), '[127.0.0.5]:2222'));
    assert.ok(!patternsMatch(hashed('[127.0.0.5]:2222'), '[127.0.0.6]:2222'));
  });

  it('tells known, changed and unknown keys apart', () => {
    const kh = new KnownHosts('/nonexistent', [line('host1', edA), line(hashed('host2'), edA)].join('\n'));
    assert.equal(kh.verdict('host1', edA).kind, 'known');
    assert.equal(kh.verdict('host2', edA).kind, 'known');
    const changed = kh.verdict('host1', edB);
    assert.equal(changed.kind, 'changed');
    assert.equal(kh.verdict('host3', edB).kind, 'unknown');
  });

  it('refuses a key type that was never pinned for a host that has keys of other types', () => {
    const kh = new KnownHosts('/nonexistent', line('host1', ecdsa));
    assert.equal(kh.verdict('host1', edA).kind, 'changed');
    assert.deepEqual(kh.knownTypes('host1'), ['ecdsa-sha2-nistp256']);
  });

  it('honours @revoked for any host; a host showing a plain key under a @cert-authority line is unknown, and says so', () => {
    const kh = new KnownHosts(
      '/x',
      [
        `@revoked * ssh-ed25519 ${edA.toString('base64')}`,
        `@cert-authority *.corp ssh-ed25519 ${edB.toString('base64')}`,
      ].join('\n'),
    );
    assert.equal(kh.verdict('anything', edA).kind, 'revoked');
    assert.ok(kh.hasCertAuthority('web.corp') && !kh.hasCertAuthority('web.other'));
    const v = kh.verdict('web.corp', ecdsa);
    assert.ok(v.kind === 'unknown' && v.certAuthority);
    const err = new HostKeyChecker(kh, 'strict').check('web.corp', 'web.corp', 22, ecdsa);
    assert.ok(err instanceof HostKeyError && err.kind === 'unknown');
    assert.match(
      err.message,
      /a @cert-authority line covers web\.corp, but the host showed a plain key, not a certificate/,
    );
  });

  it('ignores a line whose key ssh would not read: the host is unknown, not "changed" (issue 27)', () => {
    const ed = edA.toString('base64');
    const broken = [
      `h ssh-ed25519 ${ed.slice(0, -8)}`, // truncated
      `h ssh-ed25519 ${ed.replace(/^AAAA/, 'AA*A')}`, // not base64
      `h ecdsa-sha2-nistp256 ${ecdsa.toString('base64').replace(/=+$/, '')}`, // unpadded
      `h ecdsa-sha2-nistp256 ${ed}`, // a key of another type than the line names
      `h ecdsa-sha2-nistp256 ${ecdsa.toString('base64').slice(0, 40)}`, // a broken line of another type
      `h ssh-rsa ${Buffer.from('not a key at all').toString('base64')}`,
      `h ssh-ed25519 ${Buffer.concat([edB, Buffer.from([0])]).toString('base64')}`, // data after the key
    ];
    for (const b of broken) {
      const kh = new KnownHosts('/x', b);
      assert.deepEqual(kh.knownTypes('h'), [], b); // ssh-keygen -F still lists it: matchingLines does too
      const err = new HostKeyChecker(kh, 'strict').check('h', 'h', 22, edB);
      assert.ok(err instanceof HostKeyError && err.kind === 'unknown', `${b}: ${err?.message}`);
      assert.doesNotMatch(err.message, /changed|attack/);
    }
    // beside a good line the broken one changes nothing
    const kh = new KnownHosts('/x', [broken[3], line('h', edB)].join('\n'));
    assert.equal(kh.verdict('h', edB).kind, 'known');
    assert.deepEqual(kh.knownTypes('h'), ['ssh-ed25519']);
  });

  it('pins a key only under its own type name, as ssh does (ssh-keygen -F still lists other names)', () => {
    const rsa = sshBlob('rsa');
    assert.equal(new KnownHosts('/x', `h ssh-rsa ${rsa.toString('base64')}`).verdict('h', rsa).kind, 'known');
    for (const t of ['rsa-sha2-512', 'RSA', 'RSA-SHA2-512']) {
      const kh = new KnownHosts('/x', `h ${t} ${rsa.toString('base64')}`);
      assert.equal(kh.verdict('h', rsa).kind, 'unknown', t);
      assert.equal(kh.matchingLines('h').length, t === 'RSA-SHA2-512' ? 0 : 1, t);
    }
  });

  it('skips comments, blank lines and malformed lines', () => {
    const kh = new KnownHosts(
      '/x',
      ['# comment', '', 'only-two fields', '@bogus h ssh-ed25519 AAAA', line('h', edA)].join('\n'),
    );
    assert.equal(kh.verdict('h', edA).kind, 'known');
  });

  it('appends in OpenSSH format, creating the file 0600, and re-reads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const file = join(dir, 'sub', 'known_hosts');
    const kh = new KnownHosts(file);
    kh.append([{ name: '[127.0.0.9]:2222', key: edA }]);
    assert.equal(readFileSync(file, 'utf8'), `[127.0.0.9]:2222 ssh-ed25519 ${edA.toString('base64')}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(kh.verdict('[127.0.0.9]:2222', edA).kind, 'known');
    kh.append([{ name: 'h2', key: edB }], { hash: true });
    assert.match(readFileSync(file, 'utf8').split('\n')[1], /^\|1\|/);
    assert.equal(new KnownHosts(file).verdict('h2', edB).kind, 'known');
  });

  it('adds a newline before appending to a file that lacks one', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
    writeFileSync(file, line('a', edA));
    new KnownHosts(file).append([{ name: 'b', key: edB }]);
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 3);
  });
});

describe('host key policy', () => {
  const kh = () => new KnownHosts('/nonexistent', line('[h]:2222', edA));

  it('strict refuses unknown hosts and says how to pin them', () => {
    const err = new HostKeyChecker(kh(), 'strict').check('root@n:22', 'n', 22, edB);
    assert.ok(err instanceof HostKeyError && err.kind === 'unknown' && err.want.length === 0);
    assert.match(err.message, /unknown host key ssh-ed25519 SHA256:/);
  });

  it('a changed key names both fingerprints and the ssh-keygen -R fix', () => {
    const err = new HostKeyChecker(kh(), 'accept-new').check('root@h:2222', 'h', 2222, edB);
    assert.ok(err instanceof HostKeyError && err.kind === 'changed');
    assert.ok(err.message.includes(fingerprint(edA)) && err.message.includes(fingerprint(edB)));
    assert.match(err.message, /ssh-keygen -f \/nonexistent -R '\[h\]:2222'/);
  });

  it('ask collects unknown keys once per host for a single prompt', () => {
    const c = new HostKeyChecker(kh(), 'ask');
    c.check('x', 'n1', 22, edB);
    c.check('x', 'n1', 22, edB);
    c.check('y', 'n2', 2222, ecdsa);
    assert.deepEqual(
      c.takePending().map((k) => k.name),
      ['n1', '[n2]:2222'],
    );
    assert.deepEqual(c.takePending(), [], 'each key is handed over once');
  });

  it('forHosts asks once, pins the trusted keys, runs only those hosts again and reports each host once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
    writeFileSync(file, '');
    const c = new HostKeyChecker(new KnownHosts(file), 'ask');
    const keys: Record<string, Buffer> = { a: edB, b: ecdsa };
    const runs: string[] = [];
    const asked: string[][] = [];
    const reported: string[] = [];
    const results = await forHosts(
      [{ label: 'a' }, { label: 'b' }],
      async (e) => {
        runs.push(e.label);
        const err = c.check(e.label, e.label, 22, keys[e.label]);
        if (err) throw err;
        return `ran on ${e.label}`;
      },
      {
        concurrency: 2,
        hostKeys: { checker: c, ask: async (ks) => (asked.push(ks.map((k) => k.name)), ['a']) },
        onOutcome: (o) => reported.push(`${o.host} ${o.ok ? 'ok' : 'failed'}`),
      },
    );
    assert.deepEqual(asked, [['a', 'b']]);
    assert.deepEqual(runs, ['a', 'b', 'a']);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.value : r.error instanceof HostKeyError && r.error.kind)),
      ['ran on a', 'unknown'],
      'a runs once trusted; b stays refused',
    );
    assert.deepEqual(reported.sort(), ['a ok', 'b failed'], 'each host reported once, with its final outcome');
    assert.match(readFileSync(file, 'utf8'), /^a ssh-ed25519 /);
  });
});

describe('the fan-out: exit codes', () => {
  it('exitOf is the highest of the hosts', () => {
    const ok = { host: 'a', ok: true as const, value: 0, durationMs: 1 };
    const unreachable = { host: 'b', ok: false as const, error: new UnreachableError('b', 'refused'), durationMs: 1 };
    const failed = { host: 'c', ok: false as const, error: new Error('x'), durationMs: 1 };
    assert.equal(exitOf([ok]), Exit.ok);
    assert.equal(exitOf([ok, failed]), Exit.failed);
    assert.equal(exitOf([failed, unreachable, ok]), Exit.unreachable);
    assert.equal(
      exitOf([{ ...ok, value: 3 }], (v) => (v === 0 ? Exit.ok : Exit.failed)),
      Exit.failed,
    );
    assert.equal(exitOf([]), Exit.ok);
  });

  it('a host not started when the signal aborts fails with the abort, and is still reported once', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const out = await forHosts(
      [{ label: 'a' }, { label: 'b' }],
      async (e) => {
        ac.abort(new Error('stopped'));
        return e.label;
      },
      { concurrency: 1, signal: ac.signal, onOutcome: (o) => seen.push(o.host) },
    );
    assert.deepEqual(
      out.map((o) => o.ok),
      [true, false],
    );
    assert.deepEqual(seen, ['a', 'b']);
  });
});
