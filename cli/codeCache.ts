// Runs a CommonJS bundle with a V8 code cache: the first run compiles it and, at exit, saves what V8
// compiled; later runs start from that instead of parsing and compiling the 4.5 MB bundle again
// (`fleet --version`: 222-239 ms -> 154-157 ms here, Node alone 86 ms; BENCHMARKS.md). Node 22 has
// module.enableCompileCache() for this; Node 20, which Fleet supports, does not.
//
// A code cache is code, so it is only read from a file this user owns that nobody else may write,
// in a directory of the same kind (made 0700), and written through a 0600 temporary file renamed
// into place (two commands finishing at once never leave half a file). V8 checks the cache against
// the source, its own version and its flags, and rejects one that does not fit: the bundle then
// compiles as without a cache, and the cache is written anew. One cache per command (each holds
// what its first run compiled); the newest 8 are kept. FLEET_CODE_CACHE=0 turns it off.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

export type CacheStatus = 'accepted' | 'rejected' | 'absent' | 'untrusted' | 'off';

export interface CodeCacheRun {
  status: CacheStatus;
  /** what the bundle exported */
  exports: unknown;
  /** writes the cache when there was none (or V8 rejected it); a no-op otherwise; never throws */
  save(): void;
}

/** caches kept in the directory (other commands, other Fleet versions): the newest, the rest removed */
export const maxCacheFiles = 8;

/**
 * Runs `file` (a CommonJS bundle, its `#!` line allowed) as the main module, with a cache under
 * `cacheDir`. `flavour` names what this run will do (the CLI's command): V8 caches what the run
 * that wrote the cache compiled, so `fleet run` starts best from a cache that `fleet run` wrote.
 */
export function runWithCodeCache(file: string, cacheDir: string | null, flavour = ''): CodeCacheRun {
  // one open for the bytes and the size and time that name the cache: they describe the same file
  const fd = openSync(file, 'r');
  let bytes: Buffer;
  let st: { size: number; mtimeMs: number };
  try {
    st = fstatSync(fd);
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  // the build makes bundles ASCII-only (esbuild.mjs): read so, a copy instead of a 4.5 MB UTF-8 decode (~20 ms)
  let source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  if (source.startsWith('#!')) source = '//' + source.slice(2); // keeps every line and column where it was
  const cacheFile = cacheDir ? join(cacheDir, cacheName(file, st, flavour)) : null;
  const cached = cacheFile ? readTrusted(cacheFile) : 'off';
  const script = new Script(Module.wrap(source), {
    filename: file,
    cachedData: Buffer.isBuffer(cached) ? cached : undefined,
  });
  const status: CacheStatus = Buffer.isBuffer(cached) ? (script.cachedDataRejected ? 'rejected' : 'accepted') : cached;
  const m = new Module(file, undefined);
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  const req = Object.assign((id: string) => m.require(id), {
    resolve: (id: string) =>
      (Module as unknown as { _resolveFilename(id: string, m: Module): string })._resolveFilename(id, m),
    main: m,
    cache: require.cache,
    extensions: require.extensions,
  });
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(m.exports, m.exports, req, m, file, dirname(file));
  return {
    status,
    exports: m.exports,
    save: () => {
      if (!cacheFile || (status !== 'absent' && status !== 'rejected')) return;
      try {
        mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o700 });
        if (!trusted(statSync(dirname(cacheFile)))) return;
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cacheFile);
        prune(dirname(cacheFile));
      } catch {
        // a cache that cannot be written costs the next run its compile time, nothing else
      }
    },
  };
}

/**
 * One cache per bundle, Node version and architecture, and flavour. The bundle is told apart by path,
 * size and time (hashing its 4.5 MB cost ~7 ms per start); V8 checks the source itself and rejects a
 * cache made for other text, so a bundle rewritten in the same second at the same size costs one
 * compile, nothing worse.
 */
function cacheName(file: string, st: { size: number; mtimeMs: number }, flavour: string): string {
  const h = createHash('sha256').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  const f = /^[a-z][a-z0-9-]{0,23}$/.test(flavour) ? `-${flavour}` : '';
  return `${process.version}-${process.arch}-${h}${f}.v8cache`;
}

/** keeps the newest maxCacheFiles caches (an upgrade leaves the old version's behind) and no old temporary file */
function prune(dir: string): void {
  const now = Date.now();
  const caches: Array<{ path: string; mtime: number }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const mtime = statSync(path).mtimeMs;
    if (name.endsWith('.v8cache')) caches.push({ path, mtime });
    else if (name.endsWith('.tmp') && now - mtime > 10 * 60_000) rmSync(path, { force: true });
  }
  caches.sort((a, b) => b.mtime - a.mtime);
  for (const c of caches.slice(maxCacheFiles)) rmSync(c.path, { force: true });
}

/** the cache's bytes; 'absent' when there is none, 'untrusted' when someone else could have written it */
function readTrusted(file: string): Buffer | 'absent' | 'untrusted' {
  let fd: number;
  try {
    if (!trusted(statSync(dirname(file)))) return 'untrusted';
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'absent' : 'untrusted';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !trusted(st)) return 'untrusted';
    return readFileSync(fd);
  } catch {
    return 'absent';
  } finally {
    closeSync(fd);
  }
}

/** owned by this user, writable by nobody else (on Windows: no uid, the profile directory's ACL decides) */
function trusted(st: { uid: number; mode: number }): boolean {
  if (typeof process.getuid !== 'function') return true;
  return st.uid === process.getuid() && (st.mode & 0o022) === 0;
}
