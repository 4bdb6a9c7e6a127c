// The desired state of every package, persisted in state.json. Writing it is the commit point
// of an install, a rollback or a stop: after a crash the agent comes back to exactly this.
import { readFileSync } from 'node:fs';
import type { VersionInfo } from '../core/protocol/agent';
import { writeFileDurable } from './dataDir';

export interface PackageRecord {
  current: VersionInfo;
  previous: VersionInfo | null;
  desired: 'running' | 'stopped';
}

export interface AgentState {
  version: 1;
  packages: Record<string, PackageRecord>;
}

export class StateStore {
  private state: AgentState;

  constructor(private readonly file: string) {
    this.state = load(file);
  }

  get(name: string): PackageRecord | undefined {
    return this.state.packages[name];
  }

  names(): string[] {
    return Object.keys(this.state.packages).sort();
  }

  /** replaces (or with undefined removes) one package's record and persists it durably */
  set(name: string, rec: PackageRecord | undefined): void {
    const next: AgentState = { ...this.state, packages: { ...this.state.packages } };
    if (rec) next.packages[name] = rec;
    else delete next.packages[name];
    writeFileDurable(this.file, JSON.stringify(next, null, 2) + '\n');
    this.state = next;
  }
}

function load(file: string): AgentState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, packages: {} };
    throw e;
  }
  const s = JSON.parse(text) as AgentState;
  if (s.version !== 1 || typeof s.packages !== 'object')
    throw new Error(`${file}: not an agent state file of version 1`);
  return s;
}
