// What goes over the wire for a command: one line that any POSIX login shell (sh, bash, dash,
// busybox ash, zsh) runs as the command the user wrote, after reporting its pid and process group,
// and that a non-POSIX login shell (csh/tcsh, fish) refuses to parse as a whole, so nothing runs.
// When one refuses, the same line runs again through /bin/sh, quoted for that shell, and the
// connection remembers its shell: POSIX hosts pay nothing, others one refused attempt per connection.
// A command of one line is eval'd from a quoted word; one of several lines travels as a printf %b
// argument (backslash and newline escaped), so the line never spans lines: csh would run a second
// line on its own. (Only then: `$(printf …)` costs the server a fork, 0.3-0.7 ms of its CPU.)
// Before the command the line marks both streams (`FLEET-PID <nonce> <pid> <pgid>` on stderr,
// `FLEET-OUT <nonce>` on stdout): whatever the login wrote comes before them (commandStart.ts), and
// the nonce is put together by printf at run time, so not even a shell tracing its input (`set -x`
// in an rc file) or echoing a line it refuses (fish) writes a mark.
import { connectionOf } from './connection';
import { randomBytes } from 'node:crypto';
import type { Client } from 'ssh2';
import { shellQuote } from './quote';

export type LoginShell = 'posix' | 'csh' | 'fish';

/** how the pid report on stderr begins: `FLEET-PID <nonce> <pid> <pgid>` (remoteProcess.ts reads it) */
export const pidMarker = 'FLEET-PID ';

/** a fresh nonce for one command's marks */
export function newNonce(): string {
  return randomBytes(6).toString('hex');
}

/** the marks a wire line with `nonce` writes: on stderr followed by `<pid> <pgid>`, on stdout alone */
export function commandMarks(nonce: string): { stdout: Buffer; stderr: Buffer } {
  return { stdout: Buffer.from(`FLEET-OUT ${nonce}`), stderr: Buffer.from(`${pidMarker}${nonce} `) };
}

/** `<pid> <pgid>`, the rest of the stderr mark's line, as remoteProcess.ts's parsePidLine reads it */
export function pidLineOf(rest: string): string {
  return `${pidMarker}${rest}`;
}

/** the login shell found on a connection (set after a refused first attempt: connection.ts keeps it) */
export function loginShellOf(c: Client): LoginShell {
  return connectionOf(c).loginShell ?? 'posix';
}

/** whether a command has run on this connection yet, telling its login shell */
export function loginShellKnown(c: Client): boolean {
  return connectionOf(c).loginShell !== undefined;
}

export function rememberLoginShell(c: Client, s: LoginShell): void {
  connectionOf(c).loginShell = s;
}

/** the one-line POSIX script: a guard csh and fish cannot parse, the marks, then the command */
export function posixLine(command: string, nonce: string = newNonce()): string {
  const run = command.includes('\n')
    ? `eval "$(printf %b ${shellQuote(command.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'))})"`
    : `eval ${shellQuote(command)}`;
  return [
    ': ${fleet_guard##*) }',
    'fleet_stat=',
    'read -r fleet_stat < /proc/$$/stat 2>/dev/null',
    // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parens: cut after the last ") "
    'set -- ${fleet_stat##*) }',
    `printf '${pidMarker}%s %s %s\\n' ${nonce} "$$" "\${3:-?}" >&2`,
    `printf 'FLEET-OUT %s\\n' ${nonce}`,
    'unset fleet_stat',
    'set --',
    run,
  ].join('; ');
}

/** the line for a login shell: as it is for POSIX shells, else handed to /bin/sh quoted for that shell */
export function wireCommand(command: string, shell: LoginShell, nonce: string = newNonce()): string {
  const line = posixLine(command, nonce);
  if (shell === 'posix') return line;
  return `exec /bin/sh -c ${shell === 'fish' ? quoteFish(line) : quoteCsh(line)}`;
}

/** a login shell that refused the line (nothing ran): its own error, and no pid report before it */
export function refusedBy(stderr: string): LoginShell | null {
  if (/^Missing '\}'\.|Illegal variable name\./m.test(stderr)) return 'csh';
  if (/^fish: /m.test(stderr)) return 'fish';
  return null;
}

/** fish's single quotes: only \\ and \' are special inside */
function quoteFish(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** csh's single quotes: nothing is special inside but ' itself and ! (history); the line has no newline */
function quoteCsh(s: string): string {
  return `'${s.replace(/'/g, "'\\''").replace(/!/g, "'\\!'")}'`;
}
