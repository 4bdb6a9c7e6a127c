// The CLI's V8 code cache (cli/codeCache.ts): written once, then accepted; a rejected cache is
// replaced; a cache others could write is never read; the bundle runs the same in every case.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxCacheFiles, runWithCodeCache } from '../../cli/codeCache';

describe('runWithCodeCache', () => {
  let dir: string;
  let bundle: string;
  let cacheDir: string;
  const g = globalThis as { __codeCacheRuns?: string[] };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'codecache-'));
    bundle = join(dir, 'bundle.js');
    cacheDir = join(dir, 'cache', 'v8');
    // a bundle as esbuild writes one: a #! line, CommonJS, require of a builtin, __dirname
    writeFileSync(
      bundle,
      [
        '#!/usr/bin/env node',
        'const { basename } = require("node:path");',
        'function twice(s) { return s + s; }',
        '(globalThis.__codeCacheRuns ??= []).push(twice(basename(__dirname) === require("node:path").basename(' +
          JSON.stringify(dir) +
          ') ? "ok" : "wrong dir"));',
        'module.exports.thrower = () => { throw new Error("line 5"); };',
      ].join('\n'),
    );
    g.__codeCacheRuns = [];
  });

  const cacheFiles = () => readdirSync(cacheDir).filter((f) => f.endsWith('.v8cache'));

  // V8 reuses a script compiled earlier in the same process whatever cache is offered, so whether a
  // cache is accepted or rejected is tested in fresh processes: test/integration/codeCache.test.ts

  it('saves the cache 0600 in a 0700 directory; never reads one that others may write', () => {
    const first = runWithCodeCache(bundle, cacheDir);
    assert.equal(first.status, 'absent');
    first.save();
    const [file] = cacheFiles();
    assert.ok(file, 'a cache file was written');
    assert.equal(statSync(join(cacheDir, file)).mode & 0o777, 0o600);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    chmodSync(join(cacheDir, file), 0o666);
    assert.equal(runWithCodeCache(bundle, cacheDir).status, 'untrusted');
    chmodSync(join(cacheDir, file), 0o600);
    chmodSync(cacheDir, 0o777);
    assert.equal(runWithCodeCache(bundle, cacheDir).status, 'untrusted');
    assert.deepEqual(g.__codeCacheRuns, ['okok', 'okok', 'okok']);
  });

  it('a changed bundle gets a cache of its own; no cache directory means no cache', () => {
    runWithCodeCache(bundle, cacheDir).save();
    writeFileSync(bundle, 'globalThis.__codeCacheRuns.push("v2");');
    assert.equal(runWithCodeCache(bundle, cacheDir).status, 'absent');
    assert.equal(runWithCodeCache(bundle, null).status, 'off');
    assert.deepEqual(g.__codeCacheRuns, ['okok', 'v2', 'v2']);
  });

  it('one cache per command; the newest ones kept, old temporary files removed', () => {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const old = Date.now() / 1000 - 3600;
    for (let i = 0; i < maxCacheFiles + 2; i++) {
      const f = join(cacheDir, `v0-old-${i}.v8cache`);
      writeFileSync(f, 'an older version', { mode: 0o600 });
      utimesSync(f, old + i, old + i);
    }
    writeFileSync(join(cacheDir, 'x.v8cache.123.tmp'), 'left by a crash', { mode: 0o600 });
    utimesSync(join(cacheDir, 'x.v8cache.123.tmp'), old, old);
    runWithCodeCache(bundle, cacheDir, 'run').save();
    runWithCodeCache(bundle, cacheDir, 'rollout').save();
    const files = readdirSync(cacheDir).sort();
    assert.equal(files.length, maxCacheFiles, files.join(' '));
    assert.ok(files.some((f) => f.endsWith('-run.v8cache')) && files.some((f) => f.endsWith('-rollout.v8cache')));
    // the oldest went first; no temporary file is left
    assert.ok(!files.includes('v0-old-0.v8cache') && files.includes(`v0-old-${maxCacheFiles + 1}.v8cache`));
    assert.ok(!files.some((f) => f.endsWith('.tmp')));
  });

  it('keeps line numbers: the #! line is commented out, not removed', () => {
    const { thrower } = runWithCodeCache(bundle, null).exports as { thrower: () => void };
    assert.throws(thrower, (e: Error) => e.stack!.includes(`${bundle}:5:`));
  });
});
