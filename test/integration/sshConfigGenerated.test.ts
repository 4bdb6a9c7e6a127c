// Property: for ssh_config files put together at random from the pieces real ones are made of (Host and
// Match lines with case and negation, the keywords Fleet resolves with good and bad values, `=` and
// quotes, comments, an unknown keyword, IgnoreUnknown), Fleet and `ssh -G` agree on every keyword Fleet
// resolves, or both refuse the file at the same line (test/harness/sshConfigCase.ts compares). A short
// seeded run in npm test; `npm run fuzz` (FLEET_FUZZ=1) runs long from fresh seeds, and a seed that
// finds a difference becomes a corpus case.
import fc from 'fast-check';
import { compareCase, type Case } from '../harness/sshConfigCase';
import { fuzzing, fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { createTestUser, type TestUser } from '../harness/testUser';

const hosts = ['a', 'A', 'b1', 'web1', 'WEB1', 'c.example.com'];

const pattern = fc.constantFrom('a', 'A', 'b*', '!c*', '*', '?eb1', 'web1', '*.example.com', '!a');
const hostLine = fc.array(pattern, { minLength: 1, maxLength: 3 }).map((ps) => `Host ${ps.join(' ')}`);
const matchLine = fc
  .constantFrom(
    'all',
    'host a',
    'host A*,!b*',
    '!host web*',
    'originalhost WEB*',
    'user root',
    'localuser fleetgen*',
    'final',
    'canonical',
    'final host *.example.com',
    'host', // refused: no criteria
    'all host a', // refused
  )
  .map((m) => `Match ${m}`);

const values: Record<string, string[]> = {
  HostName: ['%h.example.com', 'Upper.Example.COM', '10.0.0.1', '127.1', '%h', 'x%%y', '%p'],
  User: ['deploy', '"with space"', 'a@b', 'root'],
  Port: ['22', '2222', 'ssh', '0', '70000', 'http', 'x'],
  IdentityFile: ['~/.ssh/id_%h', '%d/k/%r', 'none', '"/k/with space"', '~root/.ssh/x'],
  CertificateFile: ['~/.ssh/%r-cert.pub', '/etc/ssh/c.pub'],
  ProxyJump: ['j1', 'u@j1:2222,j2', 'ssh://u@j3:23', 'none', 'j1, j2', 'j:0', 'a@b@j4'],
  ProxyCommand: ['nc %h %p', 'sh -c "exec nc %h \'%p\'"', 'none', 'ssh -W %h:%p bastion'],
  ConnectTimeout: ['10', '1m', '1h30m', 'none', '0', '1x', '-1'],
  ServerAliveInterval: ['30s', '15', '2M', 'bad'],
  ServerAliveCountMax: ['3', '10', 'x'],
  ConnectionAttempts: ['1', '3', '0'],
  HostKeyAlias: ['MixedAlias', 'alias'],
  StrictHostKeyChecking: ['yes', 'no', 'accept-new', 'ask', 'off', 'maybe'],
  IdentitiesOnly: ['yes', 'No', 'TRUE', 'sure'],
  UserKnownHostsFile: ['~/.ssh/kh %d/kh2', '/dev/null', 'none', '~/.ssh/%h'],
  GlobalKnownHostsFile: ['none', '/etc/ssh/other'],
  IdentityAgent: ['none', 'SSH_AUTH_SOCK', '~/agent.sock'],
  Frobnicate: ['yes'],
  IgnoreUnknown: ['Frob*', 'UseKeychain'],
  UseKeychain: ['yes'],
};
const setting = fc
  .tuple(
    fc.constantFrom(...Object.keys(values)),
    fc.constantFrom('lower', 'as is', 'upper'),
    fc.constantFrom(' ', '=', ' = ', '\t'),
    fc.nat(),
    fc.constantFrom('', '', ' # a comment', '  '),
  )
  .map(([k, kase, sep, i, tail]) => {
    const key = kase === 'lower' ? k.toLowerCase() : kase === 'upper' ? k.toUpperCase() : k;
    const vs = values[k];
    return `  ${key}${sep}${vs[i % vs.length]}${tail}`;
  });

const config = fc
  .array(
    fc.oneof(
      { weight: 1, arbitrary: hostLine },
      { weight: 1, arbitrary: matchLine },
      { weight: 5, arbitrary: setting },
    ),
    {
      minLength: 1,
      maxLength: 14,
    },
  )
  .map((lines) => lines.join('\n') + '\n');

describe('ssh_config: Fleet against ssh -G on generated configs (property)', function () {
  this.timeout(fuzzing ? 6 * 3600_000 : 120_000);
  let u: TestUser;
  before(() => (u = createTestUser('fleetgen')));
  after(() => u?.remove());

  it('agrees with ssh -G on every keyword Fleet resolves, or refuses at the same line', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.subarray(hosts, { minLength: 1 }), async (text, hs) => {
        const c: Case = {
          name: 'generated',
          description: text,
          files: { config: text },
          hosts: hs,
          args: [],
          env: {},
          modes: [],
        };
        await compareCase(u, c);
      }),
      { seed: fuzzSeed(20261202), numRuns: fuzzRuns(40, 2000) },
    );
  });
});
