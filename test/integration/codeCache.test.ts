// The built `fleet` command and its V8 code cache, each run a fresh process (as a user runs it):
// written by the first run, accepted by the next, replaced when V8 rejects it, never read when
// others could have written it, off with FLEET_CODE_CACHE=0. The command's answer never changes.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet } from '../harness/cli';

describe('fleet and its V8 code cache (the built CLI)', function () {
  this.timeout(60_000);

  it('absent, then accepted; garbage rejected and replaced; a writable-by-others cache unread; off', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'fleet-cc-'));
    const v8 = join(cacheDir, 'v8');
    const version = async (env: NodeJS.ProcessEnv = {}) => {
      const r = await fleet(['--version'], { env: { FLEET_CACHE_DIR: cacheDir, FLEET_DEBUG_CODE_CACHE: '1', ...env } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
      return /fleet: code cache (\w+)/.exec(r.stderr)?.[1];
    };
    assert.equal(await version(), 'absent');
    const files = readdirSync(v8);
    assert.equal(files.length, 1, files.join(' '));
    const file = join(v8, files[0]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await version(), 'accepted');

    writeFileSync(file, 'not a code cache', { mode: 0o600 });
    assert.equal(await version(), 'rejected');
    assert.equal(await version(), 'accepted');

    chmodSync(file, 0o666);
    assert.equal(await version(), 'untrusted');
    chmodSync(file, 0o600);
    assert.equal(await version({ FLEET_CODE_CACHE: '0' }), 'off');
    assert.deepEqual(readdirSync(v8), files, 'no temporary file left behind');
  });
});
