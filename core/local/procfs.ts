// What /proc says of a process: alive, and when it started (clock ticks since boot, field 22 of
// /proc/PID/stat). A pid plus its start time names one process for good, even after pid reuse.
import { readFileSync } from 'node:fs';

export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and ')': fields resume after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return null; // a zombie is gone for our purposes
    return Number(rest[19]);
  } catch {
    return null;
  }
}

export function isSameProcess(pid: number, startTime: number): boolean {
  return processStartTime(pid) === startTime;
}
