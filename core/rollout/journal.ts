// The rollout journal: .fleet/rollouts/<file>.<id>.jsonl next to service.json (so two service
// files in one folder keep their own), one JSON line per event,
// each fsync'd before the rollout acts on it. `--resume` and the VS Code panel rebuild the exact
// state from it.
import { closeSync, fstatSync, fsyncSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { writeAllSync } from '../durable';
import { openAppend, ownedDir, writeWholeSync } from '../safeWrite';
import { basename, dirname, join } from 'node:path';
import type { Verdict, WindowSummary } from './analysis';
import type { EndState, FinalizeOutcome, StepName } from './constants';

export type { EndState } from './constants';

export type JournalEvent = JournalEventBody & {
  /**
   * the event's number in its rollout (1, 2, …), the same in the journal and on the agents that
   * record it (absent from journals before Fleet 0.2: read as the line's number)
   */
  seq?: number;
};

type JournalEventBody =
  | {
      t: 'plan';
      id: string;
      file: string;
      sha256: string;
      canaries: string[];
      rest: string[];
      concurrency: number;
      maxFailures: number;
      /** MaxUnavailable as a count, when set */
      maxUnavailable?: number;
      at: string;
    }
  | { t: 'resume'; at: string }
  | {
      t: 'step';
      backend: string;
      step: StepName;
      phase: 'start' | 'done' | 'failed';
      attempt: number;
      next?: StepName | 'done';
      error?: string;
      at: string;
    }
  | { t: 'backend'; backend: string; result: 'done' | 'failed'; error?: string; at: string }
  /** the finaliser's (or a failed backend's recovery's) outcome; detail says why or to what */
  | { t: 'finalize'; backend: string; outcome: FinalizeOutcome; detail: string; at: string }
  /** something a step found and repaired, worth a person's attention (a reload that undid a drain) */
  | { t: 'note'; backend: string; text: string; at: string }
  | { t: 'soak'; backend: string; phase: 'start' | 'done'; secs: number; at: string }
  /** what the backend ran before the rollout touched it (sha256 null: nothing installed) */
  | { t: 'found'; backend: string; sha256: string | null; version?: string; installedAt?: string; at: string }
  /** a canary judged by its traffic against the baseline's (every IntervalSecs, and at the soak's end) */
  | {
      t: 'analysis';
      backend: string;
      final: boolean;
      verdict: Verdict;
      canary: WindowSummary;
      baseline: WindowSummary;
      /** the Prometheus provider's number (null: no data) */
      prometheus?: { query: string; value: number | null };
      reasons: string[];
      at: string;
    }
  | { t: 'paused'; at: string }
  /** the rollout's leases on its agents (core/rollout/leases.ts): taken, taken over, released, lost */
  | { t: 'lease'; phase: 'taken' | 'released' | 'lost'; agents: number; ttlSecs: number; detail: string; at: string }
  | { t: 'end'; state: EndState; failures: number; error?: string; at: string };

/** an event before the journal stamps it */
export type NewEvent = JournalEventBody extends infer E ? (E extends { at: string } ? Omit<E, 'at'> : never) : never;

export class Journal {
  private fd: number;
  /** the file does not end with a newline (a torn write): the next event starts on a fresh line */
  private torn: boolean;
  /** the last event's seq */
  private seq: number;
  /** called with every event once it is on disk */
  onAppend?: (e: JournalEvent) => void;

  constructor(readonly file: string) {
    this.fd = openAppend(file); // never through a link a repository put there
    this.torn = endsTorn(this.fd);
    this.seq = fstatSync(this.fd).size ? lastSeq(readJournal(file)) : 0;
  }

  /** the seq of the last event written */
  get lastSeq(): number {
    return this.seq;
  }

  static dirFor(serviceDir: string): string {
    return join(serviceDir, '.fleet', 'rollouts');
  }

  /** a new journal for the service file `serviceFile` (its base name keys the journal) */
  static create(serviceFile: string, id: string): Journal {
    const dir = ownedDir(dirname(serviceFile), '.fleet', 'rollouts');
    return new Journal(join(dir, `${basename(serviceFile)}.${id}.jsonl`));
  }

  /** writes the event and fsyncs it before returning; throws (a full disk) rather than lose part of it silently */
  append(e: NewEvent): JournalEvent {
    const full = { ...e, at: new Date().toISOString(), seq: this.seq + 1 } as JournalEvent;
    try {
      writeAllSync(this.fd, Buffer.from((this.torn ? '\n' : '') + JSON.stringify(full) + '\n'));
      fsyncSync(this.fd);
      this.torn = false;
      this.seq++;
    } catch (err) {
      this.torn = true; // part of the line may be on disk
      throw err;
    }
    this.onAppend?.(full);
    return full;
  }

  /**
   * Replaces the whole journal with `events` (a rollout's events as its agents recorded them, more
   * than this machine saw): written beside it and renamed over it, never through a link.
   */
  replace(events: readonly JournalEvent[]): void {
    writeWholeSync(this.file, events.map((e) => JSON.stringify(e) + '\n').join(''));
    closeSync(this.fd);
    this.fd = openAppend(this.file);
    this.torn = false;
    this.seq = lastSeq(events);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** the highest seq of these events (a journal before seqs counts its lines) */
export function lastSeq(events: readonly JournalEvent[]): number {
  return events.reduce((m, e) => Math.max(m, e.seq ?? 0), 0);
}

/**
 * Every event of a journal file. A torn line (kill -9 or a full disk mid-write) is skipped, and
 * the events after it are still read; `onTorn` hears of each skipped line.
 */
export function readJournal(file: string, onTorn?: (lineNo: number, text: string) => void): JournalEvent[] {
  const out: JournalEvent[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const e = JSON.parse(line);
        if (typeof e?.t !== 'string' || typeof e?.at !== 'string') throw new Error('not an event');
        // a journal from before seqs: each event is numbered after the last one read
        if (!Number.isInteger(e.seq)) e.seq = lastSeq(out) + 1;
        out.push(upgrade(e));
      } catch {
        onTorn?.(i + 1, line.slice(0, 200));
      }
    });
  return out;
}

function endsTorn(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

/** journals of Fleet 0.1 wrote the finaliser's outcome as free text (`action`) */
function upgrade(e: JournalEvent & { action?: string }): JournalEvent {
  if (e.t !== 'finalize' || e.outcome || typeof e.action !== 'string') return e;
  const a = e.action;
  const m = /^rolled back to (.*)$/.exec(a) ?? /^left out of the LB: (.*)$/.exec(a);
  const outcome: FinalizeOutcome = /put back/.test(a)
    ? 'readded'
    : a.startsWith('rolled back')
      ? 'rolledBack'
      : a.startsWith('left out')
        ? 'leftOut'
        : 'error';
  return { t: 'finalize', backend: e.backend, outcome, detail: m?.[1] ?? a, at: e.at, seq: e.seq };
}

/** the newest journal of a service file, or undefined */
export function latestJournal(serviceFile: string): string | undefined {
  const dir = Journal.dirFor(dirname(serviceFile));
  const prefix = `${basename(serviceFile)}.`;
  let names: string[];
  try {
    // only real files: a link a repository put there is not a journal of this machine's
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && d.name.startsWith(prefix) && d.name.endsWith('.jsonl'))
      .map((d) => d.name);
  } catch {
    return undefined;
  }
  return names
    .map((n) => join(dir, n))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs || b.localeCompare(a))[0];
}
