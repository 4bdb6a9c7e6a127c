// A host's ssh_config in the host-key check (issue 27): StrictHostKeyChecking against the run's policy
// (the user's choice is only made stricter; Fleet's default gives way), the host's known_hosts files
// read as one (a @revoked line in any refuses, a key of the same type in any makes a change), new keys
// pinned in the first user file only, and never a key that cannot be pinned or that changed. The
// precedence is also a property over every combination (fast-check, seeded).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { HostKeyError } from '../../core/errors';
import { HostKeyChecker, type HostKeyHop, type HostKeyPolicy } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { sshBlob } from './sshKeys';

const edA = sshBlob('ed25519');
const edB = sshBlob('ed25519');
const line = (pat: string, k: Buffer) => `${pat} ssh-ed25519 ${k.toString('base64')}\n`;
const policies: HostKeyPolicy[] = ['strict', 'ask', 'accept-new'];
const configValues = ['yes', 'ask', 'accept-new', 'no'] as const;
const rank = { 'accept-new': 0, ask: 1, strict: 2 };

describe('host key policy and files from a host ssh_config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hk-config-'));
  let n = 0;
  const file = (text = '') => {
    const f = join(dir, `kh${n++}`);
    writeFileSync(f, text);
    return f;
  };
  const hop = (o: Partial<HostKeyHop> = {}): HostKeyHop => ({ label: 'h', host: 'h', port: 22, ...o });

  it("the user's policy is made stricter by the config, never looser; Fleet's default gives way", () => {
    const run = new HostKeyChecker(new KnownHosts(file()), 'accept-new', { policyGiven: true });
    assert.equal(run.policyFor(hop({ strictHostKeyChecking: 'yes' })).policy, 'strict');
    assert.equal(run.policyFor(hop({ strictHostKeyChecking: 'ask' })).policy, 'ask');
    const strict = new HostKeyChecker(new KnownHosts(file()), 'strict', { policyGiven: true });
    assert.equal(strict.policyFor(hop({ strictHostKeyChecking: 'accept-new' })).policy, 'strict');
    assert.equal(strict.policyFor(hop({ strictHostKeyChecking: 'no' })).policy, 'strict');
    const byDefault = new HostKeyChecker(new KnownHosts(file()), 'strict');
    assert.equal(byDefault.policyFor(hop({ strictHostKeyChecking: 'accept-new' })).policy, 'accept-new');
    assert.equal(byDefault.policyFor(hop({ strictHostKeyChecking: 'no' })).policy, 'accept-new', 'no: as accept-new');
    assert.equal(byDefault.policyFor(hop()).policy, 'strict');
  });

  it('property: whatever the run and the config say, the policy is the stricter of a given one and the config', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...policies),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.constantFrom(...configValues), { nil: undefined }),
        (policy, policyGiven, canAsk, said) => {
          const c = new HostKeyChecker(new KnownHosts(join(dir, 'none')), policy, { policyGiven, canAsk });
          const got = c.policyFor(hop({ strictHostKeyChecking: said })).policy;
          const cfg =
            said && ({ yes: 'strict', ask: 'ask', 'accept-new': 'accept-new', no: 'accept-new' } as const)[said];
          let want: HostKeyPolicy = cfg ? (policyGiven && rank[policy] > rank[cfg] ? policy : cfg) : policy;
          if (want === 'ask' && !canAsk) want = 'strict';
          assert.equal(got, want);
          if (policyGiven) assert.ok(rank[got] >= rank[policy], 'never looser than the user chose');
        },
      ),
      { seed: fuzzSeed(27), numRuns: fuzzRuns(200) },
    );
  });

  it('property: a changed or revoked key is refused under every policy and StrictHostKeyChecking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...policies),
        fc.boolean(),
        fc.option(fc.constantFrom(...configValues), { nil: undefined }),
        fc.boolean(),
        (policy, policyGiven, said, inGlobal) => {
          const pinned = file(line('h', edA));
          const user = inGlobal ? [file()] : [pinned];
          const c = new HostKeyChecker(new KnownHosts(join(dir, 'unused')), policy, { policyGiven });
          const h = hop({ strictHostKeyChecking: said, userKnownHostsFiles: user, globalKnownHostsFiles: [pinned] });
          const err = c.checkHop(h, edB);
          assert.ok(err instanceof HostKeyError && err.kind === 'changed', String(err));
          assert.match(err.message, new RegExp(`ssh-keygen -f ${pinned} -R 'h'`));
          assert.equal(readFileSync(user[0], 'utf8'), inGlobal ? '' : line('h', edA), 'nothing pinned');
        },
      ),
      { seed: fuzzSeed(2727), numRuns: fuzzRuns(40) },
    );
    const revoked = file(`@revoked * ssh-ed25519 ${edB.toString('base64')}\n`);
    const c = new HostKeyChecker(new KnownHosts(file(line('h', edB))), 'accept-new');
    const err = c.checkHop(hop({ globalKnownHostsFiles: [revoked] }), edB);
    assert.ok(err instanceof HostKeyError && err.kind === 'revoked');
    assert.match(err.message, new RegExp(`marked @revoked in ${revoked} line 1`));
  });

  it('a key in any of the files is known; new keys are pinned in the first user file only', () => {
    const [first, second, global] = [file(), file(line('other', edA)), file(line('g', edA))];
    const c = new HostKeyChecker(new KnownHosts(file()), 'strict');
    const h = (o: Partial<HostKeyHop>) =>
      hop({ userKnownHostsFiles: [first, second], globalKnownHostsFiles: [global], ...o });
    assert.equal(c.checkHop(h({ host: 'other', label: 'other' }), edA), null);
    assert.equal(c.checkHop(h({ host: 'g', label: 'g' }), edA), null);
    assert.equal(c.checkHop(h({ strictHostKeyChecking: 'accept-new' }), edB), null);
    assert.equal(readFileSync(first, 'utf8'), line('h', edB));
    assert.equal(readFileSync(second, 'utf8'), line('other', edA));
    assert.equal(readFileSync(global, 'utf8'), line('g', edA));
    assert.equal(c.checkHop(h({ strictHostKeyChecking: 'yes' }), edB), null, 'the pin is read at once');
  });

  it('--known-hosts given replaces the config user files; the global files still count', () => {
    const given = file();
    const c = new HostKeyChecker(new KnownHosts(given), 'accept-new', { knownHostsGiven: true });
    const mine = file(line('h', edA));
    assert.ok(c.checkHop(hop({ userKnownHostsFiles: [mine] }), edB) === null);
    assert.equal(readFileSync(given, 'utf8'), line('h', edB), 'pinned in the file given');
    assert.equal(readFileSync(mine, 'utf8'), line('h', edA));
    assert.equal(c.knownHostsFor(hop({ userKnownHostsFiles: [mine] }))?.file, given);
    const err = c.checkHop(hop({ host: 'x', label: 'x', globalKnownHostsFiles: [file(line('x', edA))] }), edB);
    assert.ok(err instanceof HostKeyError && err.kind === 'changed');
  });

  it('a key that cannot be pinned is never trusted: UserKnownHostsFile none, /dev/null, a directory', () => {
    for (const [files, why] of [
      [[], /UserKnownHostsFile is none/],
      [['/dev/null'], /\/dev\/null is not a regular file/],
      [[dir], /is not a regular file/],
    ] as const) {
      for (const policy of ['accept-new', 'ask'] as const) {
        const c = new HostKeyChecker(new KnownHosts(file()), policy);
        const err = c.checkHop(hop({ userKnownHostsFiles: [...files] }), edA);
        assert.ok(err instanceof HostKeyError && err.kind === 'unknown', `${files} ${policy}`);
        assert.match(err.message, why);
        assert.deepEqual(c.takePending(), [], 'never asked about: the answer could not be kept');
      }
    }
    const unwritable = join(dir, 'no-such-dir', 'kh');
    writeFileSync(join(dir, 'no-such-dir'), ''); // a file where its directory should be
    const err = new HostKeyChecker(new KnownHosts(file()), 'accept-new').checkHop(
      hop({ userKnownHostsFiles: [unwritable] }),
      edA,
    );
    assert.ok(
      err instanceof HostKeyError && /no-such-dir\/kh .*Fleet trusts no key it cannot pin/.test(err.message),
      String(err),
    );
    assert.ok(!existsSync(unwritable));
  });

  it('ask collects the key with the file it goes to; pin writes it there', () => {
    const target = file();
    const c = new HostKeyChecker(new KnownHosts(file()), 'strict', { policyGiven: false });
    const err = c.checkHop(hop({ strictHostKeyChecking: 'ask', userKnownHostsFiles: [target] }), edA);
    assert.ok(err instanceof HostKeyError && err.kind === 'unknown');
    const pending = c.takePending();
    assert.deepEqual(
      pending.map((k) => [k.name, k.file]),
      [['h', target]],
    );
    c.pin(pending);
    assert.equal(readFileSync(target, 'utf8'), line('h', edA));
  });

  it('refusals say which setting refused and what to do', () => {
    const strictByConfig = new HostKeyChecker(new KnownHosts(file()), 'accept-new', { policyGiven: true });
    assert.match(
      String(strictByConfig.checkHop(hop({ strictHostKeyChecking: 'yes' }), edA)),
      /unknown host key .*its ssh_config sets StrictHostKeyChecking yes, which .* does not loosen/,
    );
    const noTerminal = new HostKeyChecker(new KnownHosts(file()), 'strict', { canAsk: false });
    assert.match(
      String(noTerminal.checkHop(hop({ strictHostKeyChecking: 'ask' }), edA)),
      /StrictHostKeyChecking ask and there is no terminal to ask on/,
    );
    assert.match(String(noTerminal.checkHop(hop(), edA)), /rerun with --host-key-policy accept-new/);
  });
});
