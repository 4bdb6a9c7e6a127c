// Each package's history on this agent: one JSON line per change (install, start, stop, restart,
// rollback, remove), per lease taken, released or broken, and per change refused because another
// controller held the package. Append-only through the API (no route edits or deletes a line), each
// line fsync'd, numbered by `seq` in this agent's order and stamped with its clock. Bounded: past
// twice recordLimits.historyEntries lines the file is rewritten whole with the newest ones, and the
// number pruned is kept in its first line. A torn last line (a crash mid-write) is skipped.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordLimits, type HistoryAnswer, type HistoryEntry } from '../core/protocol/agentRecords';
import { writeAllSync, writeFileDurable } from '../core/durable';

export type NewHistoryEntry = Omit<HistoryEntry, 'seq' | 'at'>;

interface Loaded {
  entries: HistoryEntry[];
  pruned: number;
}

export class HistoryStore {
  /** per package: the next seq and how many lines the file holds (read once, then kept) */
  private readonly counts = new Map<string, { next: number; lines: number; pruned: number; torn: boolean }>();

  constructor(
    private readonly dir: string,
    /** names whose history must stay when files are too many (installed or leased packages) */
    private readonly keep: (name: string) => boolean = () => true,
    private readonly max: number = recordLimits.historyEntries,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  file(name: string): string {
    return join(this.dir, `${name}.jsonl`);
  }

  append(name: string, e: NewHistoryEntry): HistoryEntry {
    const c = this.count(name);
    const entry: HistoryEntry = { seq: c.next, at: new Date().toISOString(), ...e };
    if (c.lines + 1 > 2 * this.max) {
      const { entries, pruned } = this.load(name);
      const keep = [...entries, entry].slice(-this.max);
      const dropped = pruned + entries.length + 1 - keep.length;
      writeFileDurable(
        this.file(name),
        [JSON.stringify({ pruned: dropped }), ...keep.map((x) => JSON.stringify(x))].join('\n') + '\n',
      );
      this.counts.set(name, { next: c.next + 1, lines: keep.length + 1, pruned: dropped, torn: false });
      return entry;
    }
    if (c.lines === 0) pruneFiles(this.dir, recordLimits.recordFiles, (n) => n === name || this.keep(n));
    const fd = openSync(this.file(name), 'a', 0o600);
    try {
      writeAllSync(fd, Buffer.from((c.torn ? '\n' : '') + JSON.stringify(entry) + '\n'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.counts.set(name, { ...c, next: c.next + 1, lines: c.lines + 1, torn: false });
    return entry;
  }

  /** the newest `limit` entries, oldest first */
  read(name: string, limit = this.max): HistoryAnswer {
    const { entries, pruned } = this.load(name);
    const keep = entries.slice(-limit);
    return { package: name, entries: keep, pruned: pruned + entries.length - keep.length };
  }

  private count(name: string) {
    let c = this.counts.get(name);
    if (!c) {
      const { entries, pruned, lines, torn } = this.loadWithLines(name);
      c = { next: (entries.at(-1)?.seq ?? 0) + 1, lines, pruned, torn };
      this.counts.set(name, c);
    }
    return c;
  }

  private load(name: string): Loaded {
    const { entries, pruned } = this.loadWithLines(name);
    return { entries, pruned };
  }

  private loadWithLines(name: string): Loaded & { lines: number; torn: boolean } {
    let text: string;
    try {
      text = readFileSync(this.file(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], pruned: 0, lines: 0, torn: false };
      throw e;
    }
    const entries: HistoryEntry[] = [];
    let pruned = 0;
    const lines = text.split('\n').filter((l) => l.trim());
    for (const line of lines) {
      try {
        const v = JSON.parse(line);
        if (typeof v?.seq === 'number') entries.push(v as HistoryEntry);
        else if (typeof v?.pruned === 'number') pruned = v.pruned;
      } catch {
        // a torn line: skipped
      }
    }
    return { entries, pruned, lines: lines.length, torn: text.length > 0 && !text.endsWith('\n') };
  }
}

/**
 * Keeps at most `max` files in `dir`: beyond, the least recently written of those `keep` does not
 * protect are removed (the records of packages neither installed nor leased any more).
 */
export function pruneFiles(dir: string, max: number, keep: (name: string) => boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.jsonl?$/.test(n));
  } catch {
    return;
  }
  if (names.length < max) return;
  const victims = names
    .map((n) => ({ n, name: n.replace(/\.jsonl?$/, ''), mtime: statSync(join(dir, n)).mtimeMs }))
    .filter((x) => !keep(x.name))
    .sort((a, b) => a.mtime - b.mtime);
  for (const v of victims.slice(0, names.length - max + 1)) rmSync(join(dir, v.n), { force: true });
}
