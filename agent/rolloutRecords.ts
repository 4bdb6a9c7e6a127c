// Each package's latest rollout as it happens, recorded here by the controller that holds the
// package's lease: the rollout's own journal events (the plan, this backend's steps, the end), so
// another controller can see it and resume it after the first one died. One file per package,
// `rollouts/<name>.jsonl`: a header line (rollout id, service, package) and one line per event,
// each fsync'd; a new rollout of the package starts the file anew. Bounded by recordLimits and
// 8 MiB per file (413 beyond: the controller goes on without recording, and says so).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordLimits, type RolloutEvents, type RolloutRecord } from '../core/protocol/agentRecords';
import { writeAllSync, writeFileDurable } from '../core/durable';
import { HttpError } from './httpError';
import { pruneFiles } from './history';

const maxBytes = 8 * 1024 * 1024;

interface Header {
  rolloutId: string;
  service: { path: string; sha256: string };
  sha256: string;
}

export class RolloutRecords {
  private readonly index = new Map<string, { header: Header; events: number; bytes: number; torn: boolean } | null>();

  constructor(
    private readonly dir: string,
    private readonly keep: (name: string) => boolean = () => true,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private file(name: string): string {
    return join(this.dir, `${name}.jsonl`);
  }

  /** appends the events (a new rollout id starts the record anew) */
  append(name: string, body: RolloutEvents): { events: number } {
    let ix = this.indexOf(name);
    const lines = body.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    if (!ix || ix.header.rolloutId !== body.rolloutId) {
      const header: Header = { rolloutId: body.rolloutId, service: body.service, sha256: body.sha256 };
      const head = JSON.stringify(header) + '\n';
      if (!ix) pruneFiles(this.dir, recordLimits.recordFiles, (n) => n === name || this.keep(n));
      writeFileDurable(this.file(name), head);
      ix = { header, events: 0, bytes: head.length, torn: false };
    }
    if (ix.events + body.events.length > recordLimits.rolloutEvents || ix.bytes + lines.length > maxBytes)
      throw new HttpError(
        413,
        `the record of rollout ${body.rolloutId} on package ${name} is full (${recordLimits.rolloutEvents} events or 8 MiB); the rollout goes on without recording here`,
      );
    const fd = openSync(this.file(name), 'a', 0o600);
    try {
      writeAllSync(fd, Buffer.from((ix.torn ? '\n' : '') + lines));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.index.set(name, {
      ...ix,
      events: ix.events + body.events.length,
      bytes: ix.bytes + lines.length,
      torn: false,
    });
    return { events: ix.events + body.events.length };
  }

  read(name: string): RolloutRecord | null {
    const loaded = this.load(name);
    if (!loaded) return null;
    return {
      package: name,
      ...loaded.header,
      updatedAt: loaded.updatedAt,
      events: loaded.events,
    };
  }

  private indexOf(name: string) {
    if (!this.index.has(name)) {
      const l = this.load(name);
      this.index.set(name, l && { header: l.header, events: l.events.length, bytes: l.bytes, torn: l.torn });
    }
    return this.index.get(name)!;
  }

  private load(name: string) {
    let text: string;
    try {
      text = readFileSync(this.file(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const lines = text.split('\n').filter((l) => l.trim());
    let header: Header | null = null;
    const events: RolloutRecord['events'] = [];
    for (const line of lines) {
      try {
        const v = JSON.parse(line);
        if (!header) header = v as Header;
        else if (typeof v?.seq === 'number') events.push(v);
      } catch {
        // a torn line: skipped
      }
    }
    if (!header || typeof header.rolloutId !== 'string') return null;
    const at = events.map((e) => (e.event as { at?: unknown })?.at).filter((a): a is string => typeof a === 'string');
    return {
      header,
      events,
      updatedAt: at.at(-1) ?? new Date(0).toISOString(),
      bytes: text.length,
      torn: text.length > 0 && !text.endsWith('\n'),
    };
  }
}
