// A small tmpfs for full-disk tests: mounted on a scratch dir (as root), filled on demand, unmounted
// afterwards. Without root or mount(8) the test fails naming what is missing; it is never skipped.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Tmpfs {
  private constructor(readonly dir: string) {}

  static mount(sizeKiB: number): Tmpfs {
    const dir = mkdtempSync(join(tmpdir(), 'tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'fleet-test', dir], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(
        `cannot mount a tmpfs on ${dir} (the full-disk tests run as root with mount from util-linux): ${(e as Error).message}`,
      );
    }
    return new Tmpfs(dir);
  }

  /** writes a filler file until the filesystem is full; returns its path (remove it to free the space) */
  fill(): string {
    const file = join(this.dir, `filler-${Date.now()}`);
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x55);
    try {
      for (let i = 0; i < 100_000; i++) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          // the last bytes, in smaller writes
          for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
            try {
              while (writeSync(fd, chunk, 0, size) > 0);
            } catch {
              // this size no longer fits; try smaller
            }
          }
          return file;
        }
      }
      throw new Error(`${this.dir} never filled up`);
    } finally {
      closeSync(fd);
    }
  }

  unmount(): void {
    try {
      execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
