// The agent's data dir and durable writes: write a temp file, fsync it, rename it over the
// target, fsync the directory; after a crash the file is either old or new, never half.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export class DataDir {
  constructor(readonly root: string) {}

  get socket(): string {
    return join(this.root, 'agent.sock');
  }
  get tokenFile(): string {
    return join(this.root, 'token');
  }
  get stateFile(): string {
    return join(this.root, 'state.json');
  }
  get packagesRoot(): string {
    return join(this.root, 'packages');
  }
  packageDir(name: string): string {
    return join(this.root, 'packages', name);
  }
  versionDir(name: string, version: string): string {
    return join(this.root, 'packages', name, version);
  }
  get staging(): string {
    return join(this.root, 'staging');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  pidFile(name: string): string {
    return join(this.root, 'run', `${name}.pid`);
  }
  logFile(name: string): string {
    return join(this.root, 'logs', `${name}.log`);
  }

  /** creates the layout (0700) and empties staging/ and tmp/ of an earlier, interrupted run */
  prepare(): void {
    for (const d of ['', 'packages', 'run', 'logs']) mkdirSync(join(this.root, d), { recursive: true, mode: 0o700 });
    for (const d of [this.staging, this.tmp]) {
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
  }
}

export function writeFileDurable(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(join(file, '..'));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
