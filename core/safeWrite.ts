// Writes into a folder a stranger may have filled: a repository's service.json or fleet.json folder,
// whose files and folders (symlinks included) came with a `git clone`. Nothing Fleet writes there
// follows a link: every folder on the way is checked to be a real folder (a link is refused, naming
// it), a file is written whole to a new temp file (created exclusively, never through a link) and
// renamed over its name (a link there is replaced, not followed), and a file appended to is opened
// with O_NOFOLLOW. What remains is a race with a process that swaps folders while Fleet writes:
// a repository is files, not a process (SECURITY.md).
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { fsyncDir, writeFileDurable } from './durable';
import { FleetError } from './errors';

/** a path Fleet will not write through: a link, or not what it should be */
export class UnsafePathError extends FleetError {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path}: ${why}`);
  }
}

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_RDWR, O_APPEND, O_NONBLOCK } = constants;

/**
 * The folder `parts` under `root`, each part a real folder (made, mode 0700, when missing); a link
 * or a file on the way is refused. `root` is taken by its real path: the folder that really holds
 * the service.json, wherever the path to it led.
 */
export function ownedDir(root: string, ...parts: string[]): string {
  let dir = realpathSync(root);
  for (const part of parts) {
    if (!part || part === '.' || part === '..' || part.includes('/') || part.includes(sep))
      throw new UnsafePathError(join(dir, part), 'not a plain folder name');
    dir = join(dir, part);
    let st;
    try {
      st = lstatSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(dir, { mode: 0o700 }); // not recursive: each level is checked in turn
      st = lstatSync(dir);
    }
    if (st.isSymbolicLink())
      throw new UnsafePathError(
        dir,
        'is a symbolic link; Fleet writes only into real folders here (a repository may have put the link there): remove it',
      );
    if (!st.isDirectory()) throw new UnsafePathError(dir, 'is not a folder: remove it or move it away');
  }
  return dir;
}

/** refuses a path whose own name is a symbolic link (the folder above it is checked by ownedDir) */
function refuseLink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink())
      throw new UnsafePathError(
        file,
        'is a symbolic link; Fleet does not write through links here (a repository may have put it there): remove it',
      );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** a new file in `dir` that did not exist (never a link): its fd, for writing; the caller closes it */
export function createExclusive(file: string, mode = 0o600): number {
  return openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
}

/** a new temp file beside `file`, created exclusively (never a link) */
function tempBeside(file: string, mode: number): { tmp: string; fd: number } {
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  return { tmp, fd: createExclusive(tmp, mode) };
}

/** renames the written temp file over `file`, once its folder is known to be the one checked */
function commit(tmp: string, file: string): void {
  const dir = dirname(file);
  if (relative(realpathSync(dir), dir) !== '') throw new UnsafePathError(dir, 'changed while Fleet wrote into it');
  renameSync(tmp, file);
  fsyncDir(dir);
}

/**
 * Writes `file` (in a folder from ownedDir) whole: a temp file beside it that `fill` writes into,
 * fsync, rename over the name, fsync the folder. A link at the name is refused.
 */
export async function writeWhole(
  file: string,
  fill: (fd: number) => void | Promise<void>,
  mode = 0o600,
): Promise<void> {
  refuseLink(file);
  const { tmp, fd } = tempBeside(file, mode);
  try {
    try {
      await fill(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    commit(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeWhole for data already in memory */
export function writeWholeSync(file: string, data: string | Buffer, mode = 0o600): void {
  refuseLink(file);
  const dir = dirname(file);
  if (relative(realpathSync(dir), dir) !== '') throw new UnsafePathError(dir, 'is not the folder Fleet checked');
  writeFileDurable(file, data, mode);
}

/**
 * Opens `file` to append (and read), made 0600 when missing; a link is refused (O_NOFOLLOW), and so
 * is anything but a regular file (O_NONBLOCK: a FIFO put there cannot hang the open).
 */
export function openAppend(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new UnsafePathError(file, 'is a symbolic link; Fleet does not append through links here: remove it');
    throw e;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new UnsafePathError(file, 'is not a regular file: remove it');
  }
  return fd;
}

/**
 * `file` made with `text`, whole, unless it exists: written under a temporary name, then linked into
 * place, so nobody reads half of it and two processes making it at once keep the first one's.
 * Returns whether this call made it.
 */
export function placeIfAbsent(file: string, text: string, mode = 0o600): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}
