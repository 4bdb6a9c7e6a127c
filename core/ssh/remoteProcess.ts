// Knowing, and ending, the remote process a command started, whatever the server. The command
// reports the shell's pid and process group on stderr first (remoteShell.ts). Under OpenSSH's
// sshd the shell leads its own group, and the group is killed; under Dropbear (and anything else
// where the shell shares its group with the server's own process) the group is not ours to kill, so
// the shell and its descendants are found in /proc, stopped where they are, and killed. The scripts
// are POSIX sh (dash, busybox ash) and the only values in them are integers from our own marker.
import type { Client, ClientChannel } from 'ssh2';
import { openSession } from './sessionOpen';
import { loginShellOf, pidMarker, wireCommand } from './remoteShell';

export { pidMarker };

export interface RemotePid {
  pid: number;
  /** the shell's process group; null when the host has no /proc to say */
  pgid: number | null;
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

/** the remote script that ends the command's processes (SIGKILL), as the marker described them */
export function killScript(p: RemotePid): string {
  // no `--`: dash and busybox ash take `kill -KILL -PGID` but refuse `kill -KILL -- -PGID`
  if (p.pgid === p.pid) return `kill -KILL -${p.pid} 2>/dev/null || kill -KILL ${p.pid}`;
  // the tree under the shell: each process found is stopped at once (no more forking), then all are killed
  return [
    `all=${p.pid}; new=${p.pid}; kill -STOP ${p.pid} 2>/dev/null`,
    'while [ -n "$new" ]; do',
    '  next=',
    '  for d in /proc/[0-9]*; do',
    '    read -r s < "$d/stat" 2>/dev/null || continue',
    '    set -- ${s##*) }',
    '    case " $new " in *" $2 "*) kill -STOP "${d#/proc/}" 2>/dev/null; next="$next ${d#/proc/}";; esac',
    '  done',
    '  all="$all$next"; new=$next',
    'done',
    'kill -KILL $all 2>/dev/null; true',
  ].join('\n');
}

/** kills what the command started over a second channel; resolves when that is done (at most 5 s) */
export function killRemote(client: Client, p: RemotePid): Promise<void> {
  return openSession<ClientChannel, void>(
    (cb) => client.exec(wireCommand(killScript(p), loginShellOf(client)), cb),
    (k) =>
      new Promise<void>((resolve) => {
        k.resume();
        k.stderr.resume();
        const t = setTimeout(() => k.close(), 5000);
        k.on('close', () => {
          clearTimeout(t);
          resolve();
        });
      }),
  ).catch(() => undefined); // the connection is gone: so is what ran on it
}
