// Every process of one supervised program, found in /proc, also those that left its process group:
// a program is started as the leader of its own session and group (pid P), with a cookie in its
// environment (FLEET_AGENT_PROGRAM=<name>.<random>) that its children inherit. A process belongs to
// the program when
//   - its session or process group is P (while P names our program, or no process at all: Linux
//     never hands out a pid still used as a group or session id, so a live P with another start
//     time means our group and session are empty and P now belongs to someone else),
//   - its environment holds the cookie (what `setsid` and a double fork keep), or
//   - its parent belongs (a child that cleared its environment, while its parent lives).
// Each is named by pid and start time, and checked again right before a signal (pid reuse).
// Limit: a process that clears its environment AND leaves its session AND outlives its parent
// escapes; so does one that reads its cookie and changes it. A cgroup would hold those: see README.
import { readdirSync, readFileSync } from 'node:fs';
import { processStartTime } from '../core/local/procfs';

export const cookieVariable = 'FLEET_AGENT_PROGRAM';

export interface ProgramIdentity {
  /** the program's first process: its session and group id */
  pid: number;
  startTime: number | null;
  /** the value of FLEET_AGENT_PROGRAM in its environment */
  cookie?: string;
}

export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  startTime: number;
}

/** /proc/PID/stat of a live, non-zombie process */
export function readProc(pid: number): Proc | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) may hold spaces and ')': fields resume after the last ')'
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (f[0] === 'Z' || f[0] === 'X') return null;
  return { pid, ppid: Number(f[1]), pgid: Number(f[2]), sid: Number(f[3]), startTime: Number(f[19]) };
}

function hasCookie(pid: number, needle: Buffer): boolean {
  try {
    return Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)]).includes(needle);
  } catch {
    return false;
  }
}

/** the program's live processes, the agent itself never among them */
export function programProcesses(id: ProgramIdentity): Proc[] {
  const all: Proc[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = readProc(Number(d));
    if (p && p.pid !== process.pid) all.push(p);
  }
  const leaderNow = processStartTime(id.pid);
  // P names our program, or nothing (then whatever still uses P as group or session is ours)
  const idIsOurs = leaderNow === null || leaderNow === id.startTime;
  const needle = id.cookie ? Buffer.from(`\0${cookieVariable}=${id.cookie}\0`) : null;
  const ours = new Map<number, Proc>();
  for (const p of all) {
    if ((idIsOurs && (p.sid === id.pid || p.pgid === id.pid)) || (needle && hasCookie(p.pid, needle)))
      ours.set(p.pid, p);
  }
  // descendants of those, whatever session or environment they have (bounded: each pass adds one
  // generation, at most as many passes as processes)
  for (let grew = true, pass = 0; grew && pass < all.length; pass++) {
    grew = false;
    for (const p of all)
      if (!ours.has(p.pid) && ours.has(p.ppid)) {
        ours.set(p.pid, p);
        grew = true;
      }
  }
  return [...ours.values()];
}

/** sends `sig` to each process that is still the one found (same start time) */
export function signalAll(procs: readonly Proc[], sig: NodeJS.Signals): void {
  for (const p of procs) {
    if (processStartTime(p.pid) !== p.startTime) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}
