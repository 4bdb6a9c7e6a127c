// One rollout of a service file at a time: the process running it holds
// `.fleet/rollouts/<file>.lock` (written whole to a temp file, then linked into place, which fails
// when the lock exists: no reader ever sees half a lock; pid, host and process start time inside), and
// every other process, front end or window sees who holds it. A lock whose process is gone (kill -9,
// a reloaded editor window) is stale and taken over; a lock of another host is never guessed at.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, lstatSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FleetError } from '../errors';
import { processStartTime } from '../local/procfs';
import { writeAllSync } from '../durable';
import { createExclusive, ownedDir } from '../safeWrite';
import { Journal } from './journal';

export interface LockHolder {
  pid: number;
  host: string;
  /** /proc start time of the holder (Linux), so a reused pid is not taken for the holder */
  startTime: number | null;
  since: string;
  /** who runs it: `fleet rollout`, `VS Code`… */
  by: string;
}

export class RolloutBusyError extends FleetError {
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    lockFile: string,
  ) {
    super(
      holder.host === hostname()
        ? `${file} is being rolled out by ${holder.by} (pid ${holder.pid}) since ${holder.since}; wait for it, or pause it there`
        : `${file} is being rolled out by ${holder.by} on host ${holder.host} (pid ${holder.pid}) since ${holder.since}; if that host is gone, delete ${lockFile}`,
    );
  }
}

export function lockFileFor(serviceFile: string): string {
  return join(Journal.dirFor(dirname(serviceFile)), `${basename(serviceFile)}.lock`);
}

/** the live holder of the service file's lock, or null (none, or a stale one) */
export function lockHolder(serviceFile: string): LockHolder | null {
  const h = readHolder(lockFileFor(serviceFile));
  return h && alive(h) ? h : null;
}

/** takes the lock or throws RolloutBusyError; the returned function releases it */
export function acquireRolloutLock(serviceFile: string, by: string): () => void {
  // the folder is made without following a link a repository put there (core/safeWrite.ts)
  const file = join(ownedDir(dirname(serviceFile), '.fleet', 'rollouts'), `${basename(serviceFile)}.lock`);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startTime: processStartTime(process.pid),
    since: new Date().toISOString(),
    by,
  };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = createExclusive(tmp);
  try {
    writeAllSync(fd, Buffer.from(JSON.stringify(me) + '\n'));
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = readHolder(file);
        if (holder && alive(holder)) throw new RolloutBusyError(serviceFile, holder, file);
        takeOverStale(file);
        continue;
      }
      return release;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new RolloutBusyError(serviceFile, readHolder(file) ?? me, file);

  function release(): void {
    const h = readHolder(file);
    if (h && h.pid === me.pid && h.host === me.host) rmSync(file, { force: true });
  }
}

/**
 * Moves a stale lock aside. The rename is atomic, so of two processes taking over the same stale
 * lock only one moves it; one that moved a live lock (taken between its read and its rename)
 * puts it back.
 */
function takeOverStale(file: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // another process moved it first
  }
  const moved = readHolder(aside);
  if (moved && alive(moved)) {
    try {
      linkSync(aside, file);
    } catch {
      // a third process holds the lock now; it stays theirs
    }
  }
  rmSync(aside, { force: true });
}

function readHolder(file: string): LockHolder | null {
  try {
    // a link a repository put in place of the lock is not read: nobody holds it (it is moved aside)
    if (lstatSync(file).isSymbolicLink()) return null;
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    return null; // none, or a torn write: nobody holds it
  }
}

function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // cannot tell: assume it runs
  if (h.startTime !== null) return processStartTime(h.pid) === h.startTime;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
