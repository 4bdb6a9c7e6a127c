// The rollout journal: .fleet/rollouts/<file>.<id>.jsonl next to service.json (so two service
// files in one folder keep their own), one JSON line per event,
// each fsync'd before the rollout acts on it. `--resume` and the VS Code panel rebuild the exact
// state from it.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StepName } from './steps';

export type EndState = 'ESSuccess' | 'ESPreconditionFailure' | 'ESCanaryFailure' | 'ESMaxFailures' | 'Aborted';

export type JournalEvent =
  | { t: 'plan'; id: string; file: string; sha256: string; canaries: string[]; rest: string[]; concurrency: number; maxFailures: number; at: string }
  | { t: 'resume'; at: string }
  | { t: 'step'; backend: string; step: StepName; phase: 'start' | 'done' | 'failed'; attempt: number; next?: StepName | 'done'; error?: string; at: string }
  | { t: 'backend'; backend: string; result: 'done' | 'failed'; error?: string; at: string }
  | { t: 'finalize'; backend: string; action: string; at: string }
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
      out.push(JSON.parse(line) as JournalEvent);
    } catch {
      break;
    }
  }
  return out;
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
  return names.map((n) => join(dir, n)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs || b.localeCompare(a))[0];
}

export interface BackendProgress {
  /** the step to run next (the one in progress or failed, when the rollout stopped) */
  next: StepName | 'done';
  result?: 'done' | 'failed';
  error?: string;
  started: boolean;
}

export interface JournalState {
  plan: Extract<JournalEvent, { t: 'plan' }>;
  backends: Map<string, BackendProgress>;
  end?: Extract<JournalEvent, { t: 'end' }>;
  failures: number;
  canaryPhaseDone: boolean;
}

/** folds the events into where each backend stands */
export function foldJournal(events: readonly JournalEvent[]): JournalState {
  const plan = events.find((e) => e.t === 'plan');
  if (!plan || plan.t !== 'plan') throw new Error('journal has no plan line');
  const backends = new Map<string, BackendProgress>([...plan.canaries, ...plan.rest].map((b) => [b, { next: 'findApp', started: false }]));
  let end: JournalState['end'];
  const soaked = new Set<string>();
  for (const e of events) {
    if (e.t === 'step') {
      const b = backends.get(e.backend)!;
      b.started = true;
      if (e.phase === 'start' || e.phase === 'failed') b.next = e.step;
      if (e.phase === 'done') b.next = e.next ?? 'done';
      if (e.phase === 'failed') b.error = e.error;
    } else if (e.t === 'backend') {
      const b = backends.get(e.backend)!;
      b.result = e.result;
      b.error = e.error;
      // a failed backend may be retried by --resume at its failed step; a done one is finished
      if (e.result === 'done') b.next = 'done';
    } else if (e.t === 'soak' && e.phase === 'done') soaked.add(e.backend);
    else if (e.t === 'end') end = e;
    else if (e.t === 'resume') end = undefined;
  }
  const failures = [...backends.values()].filter((b) => b.result === 'failed').length;
  const canaryPhaseDone = plan.canaries.every((c) => backends.get(c)!.result === 'done' && soaked.has(c));
  return { plan, backends, end, failures, canaryPhaseDone };
}
