// A host as Fleet knows it between refreshes: its names, its groups, the last probe's result, when it
// last answered and its agent's packages; and whether that makes it up, down or unknown. The Fleet
// view draws it (core/fleetView), the CLI's `fleet stats` prints it.
import type { PackageStatus } from '../protocol/agent';
import type { ProbeResult } from './probe';

export type Liveness = 'up' | 'down' | 'unknown';

export interface HostState {
  name: string;
  /** user@host:port, for messages */
  address: string;
  groups: string[];
  probe?: ProbeResult;
  /** the last time the host answered */
  lastSeen?: Date;
  packages?: PackageStatus[] | { error: string };
}

/** a host whose key is merely unknown (waiting for trust) is not down: we never got to ask it */
export function liveness(h: HostState): Liveness {
  return !h.probe ? 'unknown' : h.probe.ok ? 'up' : h.probe.hostKey === 'unknown' ? 'unknown' : 'down';
}
