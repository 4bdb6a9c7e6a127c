// Writes that survive a crash and a full disk, in one place: every byte written or an error (a
// short write on a nearly full disk is not silently dropped), files replaced whole (temp, fsync,
// rename, fsync the directory: after a crash the file is old or new, never half).
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** writes all of buf at the fd's position; throws (ENOSPC…) rather than write part of it silently */
export function writeAllSync(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length;) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error('write made no progress (disk full?)'), { code: 'ENOSPC' });
    off += n;
  }
}

/**
 * Replaces `file` whole: a new temp file beside it (created exclusively, never through a link), all
 * of `data`, fsync, rename over the name, fsync the folder.
 */
export function writeFileDurable(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      writeAllSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
