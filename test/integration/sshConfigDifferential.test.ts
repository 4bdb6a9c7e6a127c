// Fleet's reading of ssh_config against OpenSSH's own (`ssh -G`, OpenSSH 9.2), over the corpus in
// test/fixtures/sshConfig/ (its README says how a case is written): cloud-proxy snippets as their
// vendors document them, bastions and ProxyJump lists, Include trees, Match blocks, tokens, case,
// units, lists, and configs ssh refuses. Each config is a test user's ~/.ssh/config, so relative
// Includes, `~`, `%d` and `~user` resolve as they do for ssh; ssh runs as that user with the same
// environment Fleet is given (test/harness/sshConfigCase.ts). Every keyword Fleet resolves must read
// the same (`fleet ssh-config`'s lines against ssh -G's), or both must refuse the config at the same
// file and line. The only differences allowed are the deliberate limits a case names.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareCase, loadCase } from '../harness/sshConfigCase';
import { createTestUser, type TestUser } from '../harness/testUser';

const corpusDir = join(__dirname, '../fixtures/sshConfig');

describe('ssh_config: Fleet against ssh -G (real OpenSSH, the corpus in test/fixtures/sshConfig)', function () {
  this.timeout(120_000);
  let u: TestUser;
  const cases = readdirSync(corpusDir)
    .filter((f) => f.endsWith('.conf'))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .map((f) => loadCase(corpusDir, f));

  before(() => {
    try {
      execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('ssh is missing: install the Debian package openssh-client');
    }
    u = createTestUser('fleetcfg');
  });
  after(() => u?.remove());

  it('the corpus holds at least 60 configs, each naming the hosts it resolves', () => {
    assert.ok(cases.length >= 60, `${cases.length} configs`);
    for (const c of cases) assert.ok(c.hosts.length > 0, `${c.name}: no # hosts:`);
  });

  for (const c of cases) it(`${c.name}: ${c.description}`, () => compareCase(u, c));
});
