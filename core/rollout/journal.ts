// The rollout journal: .fleet/rollouts/<file>.<id>.jsonl next to service.json (so two service
// files in one folder keep their own), one JSON line per event,
// each fsync'd before the rollout acts on it. `--resume` and the VS Code panel rebuild the exact
// state from it.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { EndState, FinalizeOutcome, StepName } from './constants';

export type { EndState } from './constants';

export type JournalEvent =
  | {
      t: 'plan';
      id: string;
      file: string;
      sha256: string;
      canaries: string[];
      rest: string[];
      concurrency: number;
      maxFailures: number;
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
  | { t: 'paused'; at: string }
  | { t: 'end'; state: EndState; failures: number; error?: string; at: string };

/** an event before the journal stamps it */
export type NewEvent = JournalEvent extends infer E ? (E extends { at: string } ? Omit<E, 'at'> : never) : never;

export class Journal {
  private fd: number;
  /** called with every event once it is on disk */
  onAppend?: (e: JournalEvent) => void;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a', 0o600);
  }

  static dirFor(serviceDir: string): string {
    return join(serviceDir, '.fleet', 'rollouts');
  }

  /** a new journal for the service file `serviceFile` (its base name keys the journal) */
  static create(serviceFile: string, id: string): Journal {
    const dir = Journal.dirFor(dirname(serviceFile));
    mkdirSync(dir, { recursive: true });
    return new Journal(join(dir, `${basename(serviceFile)}.${id}.jsonl`));
  }

  append(e: NewEvent): JournalEvent {
    const full = { ...e, at: new Date().toISOString() } as JournalEvent;
    writeSync(this.fd, JSON.stringify(full) + '\n');
    fsyncSync(this.fd);
    this.onAppend?.(full);
    return full;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** every event of a journal file; a torn last line (a crash mid-write) is ignored */
export function readJournal(file: string): JournalEvent[] {
  const out: JournalEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(upgrade(JSON.parse(line)));
    } catch {
      break;
    }
  }
  return out;
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
  return { t: 'finalize', backend: e.backend, outcome, detail: m?.[1] ?? a, at: e.at };
}

/** the newest journal of a service file, or undefined */
export function latestJournal(serviceFile: string): string | undefined {
  const dir = Journal.dirFor(dirname(serviceFile));
  const prefix = `${basename(serviceFile)}.`;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl'));
  } catch {
    return undefined;
  }
  return names
    .map((n) => join(dir, n))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs || b.localeCompare(a))[0];
}
