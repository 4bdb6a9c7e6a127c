// How the agent runs on a host, and the shell that starts, stops and removes it there:
//   system    root on a systemd host: /etc/systemd/system/fleet-agent.service
//   user      a normal user whose systemd user manager answers: ~/.config/systemd/user/fleet-agent.service
//             (the manager, and so the agent, stops with the user's last session unless lingering is on)
//   detached  anything else: a setsid'd process with a pid file in the data dir
// Every unit has KillMode=process: stopping or restarting the agent leaves the programs it
// supervises running, and the next agent adopts them. The text and the commands are pure functions
// of the layout, so tests check them without a systemd host.
import { shellQuote as q } from '../ssh/quote';
import type { HostFacts } from './hostFacts';
import { agentArgv, systemUnitFile, unitName, type AgentLayout } from './layout';

export type ServiceMode = 'system' | 'user' | 'detached';

/**
 * `fleet_alive PID`: the process exists and is not a zombie. `kill -0` alone says yes to a zombie,
 * and a detached agent's parent is PID 1, which in many containers reaps late or never: a stopped
 * agent would look alive until then (seen here: 1.5 s per stop).
 */
export const aliveFunction =
  'fleet_alive() { fleet_st=$(sed -n \'s/^.*) \\(.\\).*/\\1/p\' "/proc/$1/stat" 2>/dev/null); [ -n "$fleet_st" ] && [ "$fleet_st" != Z ]; }';

export function serviceModeOf(f: Pick<HostFacts, 'uid' | 'systemdSystem' | 'systemdUser'>): ServiceMode {
  if (f.uid === 0 && f.systemdSystem) return 'system';
  if (f.uid !== 0 && f.systemdUser) return 'user';
  return 'detached';
}

/**
 * One word of a unit line: quoted when needed, with systemd's specifier escape (% -> %%) and, in
 * Exec lines (`exec`), its variable escape ($ -> $$); Environment= expands no variables.
 */
export function systemdWord(s: string, where: 'exec' | 'environment' = 'exec'): string {
  if (/[\n\r]/.test(s)) throw new Error(`a path with a line break cannot go into a systemd unit: ${JSON.stringify(s)}`);
  const specifiers = s.replace(/%/g, '%%');
  const escaped = where === 'exec' ? specifiers.replace(/\$/g, '$$$$') : specifiers;
  if (/^[A-Za-z0-9/._+:=,@-]+$/.test(s)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function unitText(mode: 'system' | 'user', l: AgentLayout, home: string): string {
  return [
    '# Written by `fleet agent deploy`; `fleet agent uninstall` removes it.',
    '[Unit]',
    'Description=Fleet agent (installs and supervises packages, reports stats)',
    ...(mode === 'system' ? ['After=network-online.target', 'Wants=network-online.target'] : []),
    '',
    '[Service]',
    'Type=simple',
    // through env: systemd refuses an executable path with special characters (a home with `$` or a
    // quote), while in an argument every character can be escaped
    `ExecStart=/usr/bin/env ${agentArgv(l)
      .map((w) => systemdWord(w))
      .join(' ')}`,
    `Environment=${systemdWord(`HOME=${home}`, 'environment')}`,
    'UMask=0077',
    'Restart=on-failure',
    'RestartSec=2',
    // only the agent: the programs it supervises keep running across its restarts
    'KillMode=process',
    '',
    '[Install]',
    `WantedBy=${mode === 'system' ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

function unitFileOf(mode: 'system' | 'user', l: AgentLayout): string {
  return mode === 'system' ? systemUnitFile : l.userUnitFile;
}

function systemctl(mode: 'system' | 'user'): string {
  return mode === 'system' ? 'systemctl' : 'systemctl --user';
}

/** writes the unit (atomically), enables it and (re)starts the agent */
export function startScript(mode: ServiceMode, l: AgentLayout, home: string): string {
  if (mode === 'detached') {
    const argv = agentArgv(l).map(q).join(' ');
    return [
      `cd ${q(l.dataDir)}`,
      // the whole group is redirected, so nothing holds the SSH channel open; exec keeps $! the agent's pid
      `(if command -v setsid >/dev/null 2>&1; then exec setsid ${argv}; else exec ${argv}; fi) >> ${q(l.logFile)} 2>&1 < /dev/null &`,
      `echo $! > ${q(l.pidFile)}`,
    ].join('\n');
  }
  const file = unitFileOf(mode, l);
  const dir = file.slice(0, file.lastIndexOf('/'));
  return [
    'set -e',
    `mkdir -p ${q(dir)}`,
    `printf %s ${q(unitText(mode, l, home))} > ${q(file + '.fleet-new')}`,
    `mv -f ${q(file + '.fleet-new')} ${q(file)}`,
    `${systemctl(mode)} daemon-reload`,
    `${systemctl(mode)} enable ${unitName} >/dev/null 2>&1`,
    `${systemctl(mode)} restart ${unitName}`,
  ].join('\n');
}

/** stops the agent run in `mode` (its programs keep running); waits up to 10 s for a detached one */
export function stopScript(mode: ServiceMode, l: AgentLayout): string {
  if (mode !== 'detached') return `${systemctl(mode)} stop ${unitName} 2>/dev/null || true`;
  return [
    aliveFunction,
    `if [ -f ${q(l.pidFile)} ] && p=$(cat ${q(l.pidFile)}) && fleet_alive "$p"; then`,
    '  kill "$p" 2>/dev/null || true',
    '  i=0; while fleet_alive "$p" && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
    '  if fleet_alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi',
    'fi',
    `rm -f ${q(l.pidFile)}`,
  ].join('\n');
}

/** stops, disables and deletes the unit of `mode` */
export function removeUnitScript(mode: 'system' | 'user', l: AgentLayout): string {
  return [
    `${systemctl(mode)} disable --now ${unitName} >/dev/null 2>&1 || true`,
    `rm -f ${q(unitFileOf(mode, l))}`,
    `${systemctl(mode)} daemon-reload 2>/dev/null || true`,
  ].join('\n');
}
