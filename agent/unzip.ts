// Extracts a package zip into a fresh staging dir with yauzl, refusing what the talk's agent let
// through: absolute paths, `..`, backslashes, symlinks and every other non-regular entry, too many
// entries, too many bytes, and zip bombs: the whole archive's unpacked size against its own size
// (many small entries add up: a 112 KB zip of 1 MiB entries unpacked to 105 MB), and each large
// entry's ratio. Every entry is checked (central directory only) before a byte is written; yauzl
// holds each entry to its declared size while it is written. Files are created with O_EXCL and
// O_NOFOLLOW inside the staging root only, fsync'd, and keep only their permission bits.
import { closeSync, constants, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { HttpError } from './httpError';
import { fsyncDir, writeAllSync } from '../core/durable';

export interface UnzipLimits {
  maxEntries: number;
  /** the whole archive, unpacked */
  maxTotalBytes: number;
  /** unpacked / packed size of the whole archive, and of each entry over `entryRatioFloorBytes` */
  maxRatio: number;
  /** an archive may unpack to this much whatever its ratio (a small package of sparse files) */
  ratioFloorBytes: number;
  entryRatioFloorBytes: number;
}

export const defaultUnzipLimits: UnzipLimits = {
  maxEntries: 10_000,
  maxTotalBytes: 2 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 16 * 1024 ** 2,
  entryRatioFloorBytes: 1024 ** 2,
};

/** the most an archive of `zipBytes` may unpack to */
export function unpackedBound(zipBytes: number, limits: UnzipLimits): number {
  return Math.min(limits.maxTotalBytes, Math.max(limits.ratioFloorBytes, zipBytes * limits.maxRatio));
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export async function unzipTo(
  zipFile: string,
  root: string,
  limits: UnzipLimits = defaultUnzipLimits,
): Promise<{ files: number; bytes: number }> {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const zipBytes = statSync(zipFile).size;
  const zip = await open(zipFile);
  try {
    if (zip.entryCount > limits.maxEntries)
      throw bad(`zip has ${zip.entryCount} entries; the limit is ${limits.maxEntries}`);
    // first every entry from the central directory, checked, before anything is written
    const entries: Array<{ entry: Entry; target: string; isDir: boolean; mode: number }> = [];
    let total = 0;
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const name = entry.fileName;
      checkName(name);
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const type = unixMode & S_IFMT;
      const isDir = name.endsWith('/');
      if (type !== 0 && type !== S_IFREG && !(isDir && type === S_IFDIR)) {
        throw bad(
          `zip entry ${JSON.stringify(name)} is a ${type === 0o120000 ? 'symlink' : 'special file'}; packages may hold only files and directories`,
        );
      }
      const target = resolve(root, name);
      if (target !== root && !target.startsWith(root + sep))
        throw bad(`zip entry ${JSON.stringify(name)} escapes the package root`);
      if (!isDir) {
        total += entry.uncompressedSize;
        if (total > limits.maxTotalBytes) throw bad(`zip expands to more than ${limits.maxTotalBytes} bytes`);
        const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
        if (entry.uncompressedSize > limits.entryRatioFloorBytes && ratio > limits.maxRatio)
          throw bad(
            `zip entry ${JSON.stringify(name)} compresses ${Math.round(ratio)}:1; refusing a likely zip bomb (limit ${limits.maxRatio}:1)`,
          );
      }
      entries.push({ entry, target, isDir, mode: unixMode & 0o777 || 0o644 });
    }
    if (total > unpackedBound(zipBytes, limits))
      throw bad(
        `zip of ${zipBytes} bytes unpacks to ${total} (${Math.round(total / Math.max(1, zipBytes))}:1); refusing a likely zip bomb (limit ${limits.maxRatio}:1 beyond ${limits.ratioFloorBytes} bytes)`,
      );
    let files = 0;
    for (const e of entries) {
      if (e.isDir) {
        mkdirSync(e.target, { recursive: true, mode: 0o755 });
        continue;
      }
      mkdirSync(dirname(e.target), { recursive: true, mode: 0o755 });
      await writeEntry(zip, e.entry, e.target, e.mode);
      files++;
    }
    fsyncDir(root);
    return { files, bytes: total };
  } finally {
    zip.close();
  }
}

function checkName(name: string): void {
  if (name.includes('\\')) throw bad(`zip entry ${JSON.stringify(name)} contains a backslash`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name))
    throw bad(`zip entry ${JSON.stringify(name)} is an absolute path`);
  if (name.split('/').includes('..')) throw bad(`zip entry ${JSON.stringify(name)} contains '..'`);
  if (name.includes('\0')) throw bad('zip entry name contains a NUL byte');
}

function bad(msg: string): HttpError {
  return new HttpError(400, msg);
}

/**
 * no space or quota left on the agent's disk: 507 (the client's request was fine), saying what happened to the package
 */
export function diskError(e: NodeJS.ErrnoException, outcome = 'nothing was changed'): HttpError | null {
  return e?.code === 'ENOSPC' || e?.code === 'EDQUOT'
    ? new HttpError(507, `the agent's disk is full (${e.code}); ${outcome}; free space on the host and try again`)
    : null;
}

function open(file: string): Promise<ZipFile> {
  return new Promise((res, rej) =>
    // decodeStrings + validateEntrySizes: yauzl itself rejects bad names and lying sizes
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true },
      (err, zip) => (err ? rej(bad(`not a valid zip: ${err.message}`)) : res(zip)),
    ),
  );
}

function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((res, rej) => {
    const onEntry = (e: Entry) => (cleanup(), res(e));
    const onEnd = () => (cleanup(), res(null));
    const onError = (e: Error) => (cleanup(), rej(bad(`zip is damaged: ${e.message}`)));
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function writeEntry(zip: ZipFile, entry: Entry, target: string, mode: number): Promise<void> {
  return new Promise((res, rej) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return rej(bad(`zip entry ${JSON.stringify(entry.fileName)}: ${err.message}`));
      let fd: number;
      try {
        // O_EXCL + O_NOFOLLOW: never write through a symlink or over an earlier entry
        fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
      } catch (e) {
        stream.destroy();
        return rej(
          bad(
            `zip entry ${JSON.stringify(entry.fileName)}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'duplicate entry' : (e as Error).message}`,
          ),
        );
      }
      let closed = false;
      const close = () => {
        if (!closed) closeSync(fd);
        closed = true;
      };
      stream.on('data', (b: Buffer) => {
        try {
          writeAllSync(fd, b);
        } catch (e) {
          stream.destroy(e as Error);
        }
      });
      stream.once('error', (e: NodeJS.ErrnoException) => {
        close();
        rej(diskError(e) ?? bad(`zip entry ${JSON.stringify(entry.fileName)}: ${e.message}`));
      });
      stream.once('end', () => {
        // an fsync or close failing here (a full disk) rejects the install; it must never throw out of a stream handler
        try {
          fsyncSync(fd);
          close();
          res();
        } catch (e) {
          try {
            close();
          } catch {
            // already reported below
          }
          rej(
            diskError(e as NodeJS.ErrnoException) ??
              bad(`zip entry ${JSON.stringify(entry.fileName)}: ${(e as Error).message}`),
          );
        }
      });
    });
  });
}
