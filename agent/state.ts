// The desired state of every package, persisted in state.json. Writing it is the commit point of an
// install, a rollback or a stop: after a crash the agent comes back to exactly this. Packages live in
// a Map (a name like `constructor` or `__proto__` is a name like any other), and loading checks every
// record: a damaged one is reported and skipped, never fatal, so one bad record cannot keep the agent
// from starting.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { packageNamePattern, type VersionInfo } from '../core/protocol/agent';
import { writeFileDurable } from '../core/durable';

export interface PackageRecord {
  current: VersionInfo;
  previous: VersionInfo | null;
  desired: 'running' | 'stopped';
}

const versionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  binary: z.string().min(1),
  args: z.array(z.string()),
  installedAt: z.string(),
});
const recordSchema = z.object({
  current: versionSchema,
  previous: versionSchema.nullable(),
  desired: z.enum(['running', 'stopped']),
});

export class StateStore {
  private packages: Map<string, PackageRecord>;
  /** what loading found wrong, one line each (the agent logs them) */
  readonly problems: string[] = [];

  constructor(private readonly file: string) {
    this.packages = this.load();
  }

  get(name: string): PackageRecord | undefined {
    return this.packages.get(name);
  }

  names(): string[] {
    return [...this.packages.keys()].sort();
  }

  /** replaces (or with undefined removes) one package's record and persists it durably */
  set(name: string, rec: PackageRecord | undefined): void {
    const next = new Map(this.packages);
    if (rec) next.set(name, rec);
    else next.delete(name);
    const packages: Record<string, PackageRecord> = Object.create(null);
    for (const [n, r] of next) packages[n] = r;
    writeFileDurable(this.file, JSON.stringify({ version: 1, packages }, null, 2) + '\n');
    this.packages = next;
  }

  private load(): Map<string, PackageRecord> {
    const out = new Map<string, PackageRecord>();
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw e;
    }
    let s: { version?: unknown; packages?: unknown };
    try {
      s = JSON.parse(text);
    } catch {
      this.problems.push(
        `${this.file} is not JSON (a damaged write?); starting with no packages, the file is kept as ${this.file}.bad`,
      );
      writeFileDurable(`${this.file}.bad`, text);
      return out;
    }
    if (s?.version !== 1 || typeof s.packages !== 'object' || s.packages === null || Array.isArray(s.packages)) {
      throw new Error(`${this.file}: not an agent state file of version 1; move it away to start with no packages`);
    }
    for (const [name, rec] of Object.entries(s.packages as Record<string, unknown>)) {
      const r = recordSchema.safeParse(rec);
      if (!packageNamePattern.test(name))
        this.problems.push(`${this.file}: skipped package ${JSON.stringify(name)}: not a package name`);
      else if (!r.success)
        this.problems.push(
          `${this.file}: skipped package ${name}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`,
        );
      else out.set(name, r.data);
    }
    return out;
  }
}
