// What a deploy needs to know about a host, learnt with one POSIX sh command: who we are there,
// the machine and its C library, the tools the unpacking needs, how services are run, the node it
// may already have, and what Fleet put there before. The parser is pure; the remote output is data.
import { agentLayout } from './layout';
import { aliveFunction } from './service';

export interface HostFacts {
  home: string;
  uid: number;
  user: string;
  /** `uname -s`, `uname -m` */
  os: string;
  machine: string;
  /** `glibc 2.36`, `musl`, or `unknown` */
  libc: string;
  /** tar, gzip, sha256sum: the ones not found */
  missingTools: string[];
  /** a node in the login PATH that runs, with its version */
  hostNode?: { path: string; version: string };
  /** systemd is the init (`/run/systemd/system`), and a user manager answers */
  systemdSystem: boolean;
  systemdUser: boolean;
  /** `loginctl show-user` Linger: true, false, or unknown */
  linger?: boolean;
  /** the agent ids `current` and `previous` point at, if any */
  current?: string;
  previous?: string;
  /** agent and runtime ids present (complete) under ~/.fleet */
  agents: string[];
  runtimes: string[];
  /** the unit files Fleet may have written */
  systemUnit: boolean;
  userUnit: boolean;
  /** the pid in the data dir's agent.pid, when that process is alive */
  detachedPid?: number;
  /** round 1 put dist/agent.js at ~/.fleet-agent/bin/agent.js */
  legacyBin: boolean;
}

// Each line is key=value; a path with a newline would break a line, so paths are never printed raw
// except $HOME, which is checked to be absolute and single-line by the parser.
const L = agentLayout('$HOME');
export const factsCommand = [
  `printf 'home=%s\\n' "$HOME"`,
  `printf 'uid=%s\\nuser=%s\\n' "$(id -u)" "$(id -un)"`,
  `printf 'os=%s\\nmachine=%s\\n' "$(uname -s)" "$(uname -m)"`,
  `if v=$(getconf GNU_LIBC_VERSION 2>/dev/null); then printf 'libc=%s\\n' "$v"; elif ls /lib/ld-musl-* >/dev/null 2>&1; then echo libc=musl; else echo libc=unknown; fi`,
  `for t in tar gzip sha256sum; do command -v "$t" >/dev/null 2>&1 || printf 'missing=%s\\n' "$t"; done`,
  `if n=$(command -v node 2>/dev/null) && v=$("$n" --version 2>/dev/null); then printf 'node=%s %s\\n' "$v" "$n"; fi`,
  `if [ -d /run/systemd/system ]; then echo systemd=system; fi`,
  `if systemctl --user show-environment >/dev/null 2>&1; then echo systemd=user; fi`,
  `if l=$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null); then printf 'linger=%s\\n' "$l"; fi`,
  `printf 'current=%s\\nprevious=%s\\n' "$(readlink "${L.current}" 2>/dev/null)" "$(readlink "${L.previous}" 2>/dev/null)"`,
  `for d in "${L.agentsDir}"/*/; do if [ -f "$d/.complete" ]; then d=\${d%/}; printf 'agent=%s\\n' "\${d##*/}"; fi; done`,
  `for d in "${L.runtimesDir}"/*/; do if [ -f "$d/.complete" ]; then d=\${d%/}; printf 'runtime=%s\\n' "\${d##*/}"; fi; done`,
  `if [ -f /etc/systemd/system/fleet-agent.service ]; then echo unit=system; fi`,
  `if [ -f "${L.userUnitFile}" ]; then echo unit=user; fi`,
  aliveFunction,
  `if [ -f "${L.pidFile}" ] && p=$(cat "${L.pidFile}") && fleet_alive "$p"; then printf 'pid=%s\\n' "$p"; fi`,
  `if [ -f "${L.legacyAgentJs}" ]; then echo legacy=yes; fi`,
  'true',
].join('; ');

export class FactsError extends Error {}

export function parseFacts(stdout: string): HostFacts {
  const kv: Array<[string, string]> = stdout
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
  const one = (k: string) => kv.find(([key]) => key === k)?.[1] ?? '';
  const all = (k: string) => kv.filter(([key]) => key === k).map(([, v]) => v);
  const home = one('home');
  if (!home.startsWith('/')) throw new FactsError(`cannot learn the home directory (got ${JSON.stringify(home)})`);
  const nodeLine = /^(v\d+\.\d+\.\d+\S*) (\/.*)$/.exec(one('node'));
  const idOk = (s: string) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..';
  const linger = one('linger');
  const pid = Number(one('pid'));
  return {
    home,
    uid: Number(one('uid')),
    user: one('user'),
    os: one('os'),
    machine: one('machine'),
    libc: one('libc') || 'unknown',
    missingTools: all('missing'),
    hostNode: nodeLine ? { version: nodeLine[1], path: nodeLine[2] } : undefined,
    systemdSystem: all('systemd').includes('system'),
    systemdUser: all('systemd').includes('user'),
    linger: linger === 'yes' ? true : linger === 'no' ? false : undefined,
    current: idOk(one('current')) ? one('current') : undefined,
    previous: idOk(one('previous')) ? one('previous') : undefined,
    // the glob that lists builds also meets the current and previous links
    agents: all('agent').filter((a) => idOk(a) && a !== 'current' && a !== 'previous'),
    runtimes: all('runtime').filter(idOk),
    systemUnit: all('unit').includes('system'),
    userUnit: all('unit').includes('user'),
    detachedPid: Number.isInteger(pid) && pid > 1 ? pid : undefined,
    legacyBin: one('legacy') === 'yes',
  };
}
