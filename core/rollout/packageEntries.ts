// What a package zip holds, read from its central directory only (nothing is unpacked): each
// entry's name, whether it is a regular file, and whether it is executable (the mode the agent
// keeps when it unpacks). service.json's checks use it to say whether Package.Binary is in Src;
// Deploy Zip… lists the programs a person may start.
import yauzl from 'yauzl';

export interface PackageEntry {
  name: string;
  /** a regular file (not a directory, not a link) */
  file: boolean;
  /** a regular file with an execute bit in the zip's Unix mode */
  executable: boolean;
  size: number;
}

/** at most this many entries are listed: the agent refuses bigger archives anyway */
export const maxListedEntries = 10_000;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** the zip's entries; rejects when the file is not a zip (or a damaged one) */
export function packageEntries(zip: string): Promise<PackageEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(zip, { lazyEntries: true, autoClose: true, validateEntrySizes: false }, (err, z) => {
      if (err || !z) return reject(err ?? new Error(`cannot open ${zip}`));
      const out: PackageEntry[] = [];
      z.on('entry', (e: yauzl.Entry) => {
        const mode = (e.externalFileAttributes >>> 16) & 0o177777;
        const type = mode & S_IFMT;
        const dir = e.fileName.endsWith('/');
        // zips made without Unix modes (Windows tools) say nothing of the type: a name not ending in / is a file
        const file = !dir && (type === 0 || type === S_IFREG);
        out.push({ name: e.fileName, file, executable: file && (mode & 0o111) !== 0, size: e.uncompressedSize });
        if (out.length >= maxListedEntries) {
          z.close();
          return resolve(out);
        }
        z.readEntry();
      });
      z.on('end', () => resolve(out));
      z.on('error', reject);
      z.readEntry();
    });
  });
}

/** the programs a person would start: executable entries, then (if none is marked) every file */
export function programsOf(entries: readonly PackageEntry[]): string[] {
  const exec = entries.filter((e) => e.executable).map((e) => e.name);
  return exec.length ? exec : entries.filter((e) => e.file).map((e) => e.name);
}
