// The package operations: install (upload → staging → version dir → stop old → commit state →
// start new), start, stop, restart, rollback, remove. One operation per name at a time (others
// get 409); other names are never blocked. state.json is the commit point: after a crash the
// agent brings back exactly the version it names, complete, and prunes the rest. A name has at
// most one supervisor, and a supervisor whose program runs is never replaced: at most one copy of
// a package runs. A full disk fails the operation (507) and leaves the previous version running.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import type { InstallSpec, PackageStatus, VersionInfo } from '../core/protocol/agent';
import { fsyncDir } from '../core/durable';
import { listDirs, type DataDir } from './dataDir';
import { HttpError } from './httpError';
import type { StateStore } from './state';
import { Supervisor, type SupervisorOptions } from './supervisor';
import { diskError, unzipTo, type UnzipLimits } from './unzip';
import type { Upload } from './upload';

export class Packages {
  private readonly procs = new Map<string, Supervisor>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly data: DataDir,
    private readonly state: StateStore,
    private readonly supervisorOpts: SupervisorOptions,
    private readonly unzipLimits: UnzipLimits,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** after an agent (re)start: adopt programs still running, start the others that should run */
  async recover(): Promise<void> {
    for (const name of this.state.names()) {
      const rec = this.state.get(name)!;
      const sup = this.supervisor(name, rec.current);
      this.pruneVersions(name);
      if (rec.desired !== 'running') continue;
      if (sup.adopt()) this.log(`${name}: adopted running pid ${sup.pid}`);
      else {
        await sup.start().catch((e) => this.log(`${name}: cannot start: ${(e as Error).message}`));
        this.log(`${name}: started pid ${sup.pid}`);
      }
    }
    // version dirs of packages no longer in state (a crash between unpack and commit)
    for (const name of listDirs(this.data.packagesRoot)) {
      if (!this.state.get(name)) rmSync(this.data.packageDir(name), { recursive: true, force: true });
    }
  }

  /** receive() streams the body; it runs under the name's lock, so a second install gets 409 at once */
  async install(name: string, spec: InstallSpec, receive: () => Promise<Upload>): Promise<PackageStatus> {
    return this.exclusive(name, async () => {
      const binary = checkBinaryPath(spec.binary);
      const upload = await receive();
      if (spec.sha256 && spec.sha256 !== upload.sha256) {
        rmSync(upload.file, { force: true });
        throw new HttpError(
          400,
          `sha256 mismatch: the body hashes to ${upload.sha256}, the request said ${spec.sha256}`,
        );
      }
      const version = `${Date.now().toString(36)}-${upload.sha256.slice(0, 12)}`;
      const staging = resolve(this.data.staging, `${name}-${randomBytes(4).toString('hex')}`);
      try {
        await unzipTo(upload.file, staging, this.unzipLimits);
        checkExecutable(staging, binary);
        mkdirSync(this.data.packageDir(name), { recursive: true, mode: 0o700 });
        renameSync(staging, this.data.versionDir(name, version)); // same filesystem: atomic
        fsyncDir(this.data.packageDir(name));
      } catch (e) {
        rmSync(this.data.versionDir(name, version), { recursive: true, force: true });
        throw diskError(e as NodeJS.ErrnoException) ?? e;
      } finally {
        rmSync(staging, { recursive: true, force: true });
        rmSync(upload.file, { force: true });
      }
      const old = this.state.get(name);
      const info: VersionInfo = {
        id: version,
        sha256: upload.sha256,
        binary,
        args: spec.args,
        installedAt: new Date().toISOString(),
      };
      const wasRunning = this.procs.get(name)?.pid != null;
      await this.procs.get(name)?.stop();
      try {
        this.state.set(name, { current: info, previous: old?.current ?? null, desired: 'running' });
      } catch (e) {
        // not committed (a full disk): the previous version stays current; bring it back as it was
        rmSync(this.data.versionDir(name, version), { recursive: true, force: true });
        if (old && wasRunning)
          await this.supervisor(name, old.current)
            .start()
            .catch(() => undefined);
        throw (
          diskError(
            e as NodeJS.ErrnoException,
            old ? 'the previous version is running again' : 'nothing was installed',
          ) ?? e
        );
      }
      try {
        await this.supervisor(name, info).start();
      } catch (e) {
        // the new version cannot even be spawned: put the old one back, running as it was
        if (old) {
          this.state.set(name, old);
          const back = this.supervisor(name, old.current);
          if (old.desired === 'running') await back.start().catch(() => undefined);
        } else this.state.set(name, undefined);
        this.pruneVersions(name);
        throw new HttpError(
          400,
          `cannot start ${binary}: ${(e as Error).message}; ${old ? 'the previous version is running again' : 'nothing was installed'}`,
        );
      }
      this.pruneVersions(name);
      return this.status(name);
    });
  }

  /** starts a stopped or crashed package; a running one is left as it is, and the answer says so */
  start(name: string): Promise<PackageStatus> {
    return this.exclusive(name, async () => {
      const rec = this.need(name);
      const sup = this.supervisor(name, rec.current);
      if (sup.pid !== null)
        return { ...this.status(name), note: `already running (pid ${sup.pid}); nothing was started` };
      if (rec.desired !== 'running') this.state.set(name, { ...rec, desired: 'running' });
      await sup.start();
      return this.status(name);
    });
  }

  stop(name: string): Promise<PackageStatus> {
    return this.exclusive(name, async () => {
      const rec = this.need(name);
      this.state.set(name, { ...rec, desired: 'stopped' });
      await this.procs.get(name)?.stop();
      return this.status(name);
    });
  }

  restart(name: string): Promise<PackageStatus> {
    return this.exclusive(name, async () => {
      const rec = this.need(name);
      await this.procs.get(name)?.stop();
      this.state.set(name, { ...rec, desired: 'running' });
      await this.supervisor(name, rec.current).start();
      return this.status(name);
    });
  }

  rollback(name: string): Promise<PackageStatus> {
    return this.exclusive(name, async () => {
      const rec = this.need(name);
      if (!rec.previous) throw new HttpError(409, `package ${name} has no previous version to roll back to`);
      await this.procs.get(name)?.stop();
      this.state.set(name, { current: rec.previous, previous: rec.current, desired: 'running' });
      await this.supervisor(name, rec.previous).start();
      return this.status(name);
    });
  }

  remove(name: string): Promise<void> {
    return this.exclusive(name, async () => {
      this.need(name);
      await this.procs.get(name)?.stop();
      this.procs.get(name)?.detach();
      this.procs.delete(name);
      this.state.set(name, undefined);
      rmSync(this.data.packageDir(name), { recursive: true, force: true });
      rmSync(this.data.pidFile(name), { force: true });
    });
  }

  has(name: string): boolean {
    return this.state.get(name) !== undefined;
  }

  list(): PackageStatus[] {
    return this.state.names().map((n) => this.status(n));
  }

  status(name: string): PackageStatus {
    const rec = this.need(name);
    const sup = this.procs.get(name);
    return {
      name,
      binary: rec.current.binary,
      args: rec.current.args,
      state: sup?.state ?? 'stopped',
      desired: rec.desired,
      pid: sup?.pid ?? null,
      restarts: sup?.restarts ?? 0,
      startedAt: sup?.startedAt?.toISOString() ?? null,
      lastExit: sup?.lastExit ? { ...sup.lastExit, at: sup.lastExit.at.toISOString() } : null,
      sha256: rec.current.sha256,
      version: rec.current.id,
      installedAt: rec.current.installedAt,
      previous: rec.previous,
    };
  }

  /** periodic upkeep: cap every program's log */
  tick(): void {
    for (const s of this.procs.values()) s.capLog();
  }

  /** agent shutdown: programs keep running and are adopted by the next agent */
  detachAll(): void {
    for (const s of this.procs.values()) s.detach();
  }

  private need(name: string) {
    const rec = this.state.get(name);
    if (!rec) throw new HttpError(404, `no package named ${name} is installed`);
    return rec;
  }

  /**
   * The supervisor of this name and version: the existing one when it supervises that version,
   * else a new one. An existing supervisor is replaced only when its program has stopped (callers
   * stop it first): a running copy is never orphaned.
   */
  private supervisor(name: string, v: VersionInfo): Supervisor {
    const dir = this.data.versionDir(name, v.id);
    const existing = this.procs.get(name);
    if (existing && existing.spec.cwd === dir && existing.spec.args.join('\0') === v.args.join('\0')) return existing;
    if (existing?.pid != null)
      throw new HttpError(409, `package ${name} still runs pid ${existing.pid}; stop it first`);
    existing?.detach();
    const sup = new Supervisor(
      {
        name,
        cwd: dir,
        file: resolve(dir, v.binary),
        args: v.args,
        logFile: this.data.logFile(name),
        pidFile: this.data.pidFile(name),
      },
      this.supervisorOpts,
    );
    this.procs.set(name, sup);
    return sup;
  }

  private pruneVersions(name: string): void {
    const rec = this.state.get(name);
    const keep = new Set([rec?.current.id, rec?.previous?.id]);
    for (const v of listDirs(this.data.packageDir(name)))
      if (!keep.has(v)) rmSync(this.data.versionDir(name, v), { recursive: true, force: true });
  }

  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(name))
      throw new HttpError(409, `another operation on package ${name} is in progress; retry when it finishes`);
    this.busy.add(name);
    try {
      return await fn();
    } finally {
      this.busy.delete(name);
    }
  }
}

/** the binary path as given, checked to stay inside the package */
function checkBinaryPath(binary: string): string {
  const n = normalize(binary);
  if (isAbsolute(n) || n === '..' || n.startsWith('..' + sep) || n.includes('\0') || n.includes('\\')) {
    throw new HttpError(400, `binary ${JSON.stringify(binary)} must be a relative path inside the package`);
  }
  return n;
}

function checkExecutable(root: string, binary: string): void {
  let st;
  try {
    st = statSync(resolve(root, binary));
  } catch {
    throw new HttpError(400, `binary ${JSON.stringify(binary)} is not in the package`);
  }
  if (!st.isFile()) throw new HttpError(400, `binary ${JSON.stringify(binary)} is not a regular file`);
  if ((st.mode & 0o111) === 0)
    throw new HttpError(
      400,
      `binary ${JSON.stringify(binary)} is not executable; set its mode before zipping (chmod +x, zip keeps it)`,
    );
}
