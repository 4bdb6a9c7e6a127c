// Knowing, and ending, the remote process a command started, whatever the server. The command
// reports the shell's pid and process group on stderr first (remoteShell.ts). Under OpenSSH's
// sshd the shell leads its own group, and the group is killed; under Dropbear (and anything else
// where the shell shares its group with the server's own process) the group is not ours to kill, so
// the shell and its descendants are found in /proc, stopped where they are, and killed. The scripts
// are POSIX sh (dash, busybox ash) and the only values in them are integers from our own marker.
import type { Client, ClientChannel } from 'ssh2';
import { openSession } from './sessionOpen';
import { loginShellOf, pidLineOf, pidMarker, wireCommand } from './remoteShell';

export { pidMarker };

export interface RemotePid {
  pid: number;
  /** the shell's process group; null when the host has no /proc to say */
  pgid: number | null;
}

/** the pid report from the rest of the stderr mark's line (`<pid> <pgid>`, commandStart.ts hands it over) */
export function pidOfMark(rest: string | null | undefined): RemotePid | null {
  return rest === null || rest === undefined ? null : parsePidLine(pidLineOf(rest));
}

/** the marker line's values, or null when the line is not one */
export function parsePidLine(line: string): RemotePid | null {
  const m = /^FLEET-PID (\d+) (\d+|\?)\r?$/.exec(line);
  if (!m) return null;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 1) return null;
  const pgid = m[2] === '?' ? null : Number(m[2]);
  return { pid, pgid };
}

/** how long a command has to end on SIGTERM before SIGKILL, unless told (`timeout -k`'s second number) */
export const defaultKillAfterMs = 5000;

/**
 * The remote script that ends the command's processes as `timeout -k` does: SIGTERM first, so
 * cleanup handlers run (a lock file removed, a child told), then SIGKILL to whatever is left once
 * `graceMs` has passed. It returns as soon as nothing is left.
 *
 * The shell that reported the pid (Fleet's wrapper, which waits for the command) is told last: on
 * a pty it leads the session, and its end hangs the terminal up, which would kill the command with
 * SIGHUP in the middle of its cleanup. So its descendants get SIGTERM, and the shell only once
 * they are gone (or when it is the command itself).
 */
export function killScript(p: RemotePid, graceMs = defaultKillAfterMs): string {
  const ticks = Math.max(0, Math.ceil(graceMs / 100));
  const pause = 'sleep 0.1 2>/dev/null || sleep 1'; // sleep 1 where sleep takes no fraction
  // no `--`: dash and busybox ash take `kill -KILL -PGID` but refuse `kill -KILL -- -PGID`
  if (p.pgid === p.pid)
    return [
      // the group's members but the shell: field 3 after the name in /proc/PID/stat is the group
      'others() { o=; for d in /proc/[0-9]*; do read -r s < "$d/stat" 2>/dev/null || continue; set -- ${s##*) }',
      `  [ "$3" = ${p.pid} ] && [ "\${d#/proc/}" != ${p.pid} ] && o="$o \${d#/proc/}"; done; }`,
      `others; if [ -n "$o" ]; then kill -TERM $o 2>/dev/null; else kill -TERM ${p.pid} 2>/dev/null; fi`,
      `i=0; while [ $i -lt ${ticks} ] && kill -0 -${p.pid} 2>/dev/null; do`,
      `  others; [ -z "$o" ] && kill -TERM ${p.pid} 2>/dev/null; ${pause}; i=$((i+1))`,
      'done',
      `kill -KILL -${p.pid} 2>/dev/null; true`,
    ].join('\n');
  // the tree under the shell: each process found is stopped at once (no more forking), then all but
  // the shell are sent SIGTERM and let go on (a stopped process cannot run its handler); the shell
  // follows once they are gone; what is left after the grace gets SIGKILL
  return [
    `all=${p.pid}; new=${p.pid}; kids=; kill -STOP ${p.pid} 2>/dev/null`,
    'while [ -n "$new" ]; do',
    '  next=',
    '  for d in /proc/[0-9]*; do',
    '    read -r s < "$d/stat" 2>/dev/null || continue',
    '    set -- ${s##*) }',
    '    case " $new " in *" $2 "*) kill -STOP "${d#/proc/}" 2>/dev/null; next="$next ${d#/proc/}";; esac',
    '  done',
    '  all="$all$next"; kids="$kids$next"; new=$next',
    'done',
    // `kill -0 A B` fails when any one is gone: ask each
    'alive() { for k in "$@"; do kill -0 "$k" 2>/dev/null && return 0; done; return 1; }',
    `if [ -n "$kids" ]; then kill -TERM $kids 2>/dev/null; else kill -TERM ${p.pid} 2>/dev/null; fi`,
    'kill -CONT $all 2>/dev/null',
    `i=0; while [ $i -lt ${ticks} ] && alive $all; do`,
    `  alive $kids || kill -TERM ${p.pid} 2>/dev/null; ${pause}; i=$((i+1))`,
    'done',
    'kill -KILL $all 2>/dev/null; true',
  ].join('\n');
}

/**
 * Ends what the command started over a second channel (SIGTERM, then SIGKILL after `graceMs`);
 * resolves when that is done, at most 5 s after the grace
 */
export function killRemote(client: Client, p: RemotePid, graceMs = defaultKillAfterMs): Promise<void> {
  return openSession<ClientChannel, void>(
    (cb) => client.exec(wireCommand(killScript(p, graceMs), loginShellOf(client)), cb),
    (k) =>
      new Promise<void>((resolve) => {
        k.resume();
        k.stderr.resume();
        const t = setTimeout(() => k.close(), graceMs + 5000);
        k.on('close', () => {
          clearTimeout(t);
          resolve();
        });
      }),
  ).catch(() => undefined); // the connection is gone: so is what ran on it
}
