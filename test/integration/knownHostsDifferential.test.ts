// Fleet's reading of known_hosts against OpenSSH's (`ssh-keygen -F NAME -f FILE`): which lines match
// a host name, with their markers, for plain and hashed entries, [host]:port, wildcards, negation,
// @revoked and @cert-authority, odd lines. Then random names against random patterns (fast-check).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { keygen } from '../harness/sshFleet';

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
  ];
  const plain = join(dir, 'plain');
  writeFileSync(plain, lines.join('\n') + '\n');
  // the same names hashed (ssh-keygen -H, as many distributions write them; it refuses a file with
  // invalid lines, and leaves wildcard lines as they are)
  const hashed = join(dir, 'hashed');
  writeFileSync(hashed, lines.filter((l) => !/^@unknown|^truncated/.test(l)).join('\n') + '\n');
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
