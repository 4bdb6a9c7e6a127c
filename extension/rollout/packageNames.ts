// Packages by the name a person knows them by: the agent and the journal know a package by its
// sha256, a person by its file (`web-v1.zip`). Names come from the packages this editor rolled out
// or deployed (remembered across windows), and from the zips beside service.json: a backend that
// ran some earlier build is then said to serve `web-v1.zip`, not `169e8140`. Unknown: the sha256's
// first 8 digits. Limits: 64 zips per folder looked at, each at most 256 MiB, hashed once per size
// and mtime; 200 names remembered.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Memento } from 'vscode';

const key = 'fleet.packageNames';
const maxRemembered = 200;
const maxZipsPerDir = 64;
const maxZipBytes = 256 * 1024 * 1024;

export class PackageNames {
  private readonly names = new Map<string, string>();
  private readonly hashed = new Map<string, { size: number; mtimeMs: number; sha: string }>();

  constructor(private readonly memento?: Pick<Memento, 'get' | 'update'>) {
    for (const [sha, name] of Object.entries(memento?.get<Record<string, string>>(key, {}) ?? {}))
      this.names.set(sha, name);
  }

  /** `web-v1.zip`, else the sha256's first 8 digits; `nothing` for no package */
  label(sha256: string | null | undefined): string {
    if (!sha256) return 'nothing';
    return this.names.get(sha256) ?? sha256.slice(0, 8);
  }

  has(sha256: string): boolean {
    return this.names.has(sha256);
  }

  remember(sha256: string, name: string): void {
    if (this.names.get(sha256) === name) return;
    this.names.delete(sha256);
    this.names.set(sha256, name);
    while (this.names.size > maxRemembered) this.names.delete(this.names.keys().next().value!);
    void this.memento?.update(key, Object.fromEntries(this.names));
  }

  /** hashes a package file and remembers its name; resolves its sha256 */
  async learnFile(file: string): Promise<string> {
    const st = statSync(file);
    const known = this.hashed.get(file);
    const sha = known && known.size === st.size && known.mtimeMs === st.mtimeMs ? known.sha : await sha256Of(file);
    this.hashed.set(file, { size: st.size, mtimeMs: st.mtimeMs, sha });
    if (!this.names.has(sha)) this.remember(sha, basename(file));
    return sha;
  }

  /**
   * Looks for the packages `wanted` among the zips in `dirs`; resolves whether it named one it did
   * not know. Files it cannot read are skipped.
   */
  async learnFrom(dirs: readonly string[], wanted: readonly (string | null | undefined)[]): Promise<boolean> {
    const missing = new Set(wanted.filter((s): s is string => Boolean(s) && !this.names.has(s!)));
    if (!missing.size) return false;
    let learned = false;
    for (const dir of new Set(dirs)) {
      let zips: string[];
      try {
        zips = readdirSync(dir)
          .filter((n) => /\.zip$/i.test(n))
          .sort()
          .slice(0, maxZipsPerDir)
          .map((n) => join(dir, n));
      } catch {
        continue;
      }
      for (const z of zips) {
        try {
          const st = statSync(z);
          if (!st.isFile() || st.size > maxZipBytes) continue;
          const sha = await this.learnFile(z);
          if (missing.delete(sha)) learned = true;
        } catch {
          // unreadable: not a name we can give
        }
        if (!missing.size) return learned;
      }
    }
    return learned;
  }
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
