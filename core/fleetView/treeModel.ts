// The Hosts tree as plain data: rows for hosts (liveness dot, short uname, tooltip) and their
// children (CPU, memory, agent state, packages). extension/ turns these into TreeItems one to one.
import { agentAge, versionOfId } from '../agentInstall/agentVersion';
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

export interface TreeNode {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** a codicon id and a theme colour id */
  icon?: { id: string; color?: string };
  /** drives the context menus: host.up, host.up.agent, host.down, package.running, … */
  contextValue: string;
  children?: TreeNode[];
  /** for commands: the host's name, and the package's */
  host?: string;
  pkg?: string;
}

/** a host whose key is merely unknown (waiting for trust) is not down: we never got to ask it */
export function liveness(h: HostState): Liveness {
  return !h.probe ? 'unknown' : h.probe.ok ? 'up' : h.probe.hostKey === 'unknown' ? 'unknown' : 'down';
}

/** `Linux web1 6.1.0-18-amd64` from a full `uname -a` */
export function shortUname(uname: string): string {
  return uname.split(/\s+/).slice(0, 3).join(' ');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

const dot: Record<Liveness, { id: string; color: string }> = {
  up: { id: 'circle-filled', color: 'testing.iconPassed' },
  down: { id: 'circle-filled', color: 'testing.iconFailed' },
  unknown: { id: 'circle-outline', color: 'disabledForeground' },
};

/**
 * `bundledAgent`: the agent build this Fleet deploys; a host whose agent is older (or a rebuild of
 * the same version) gets `.outdated` in its contextValue (Update Agent) and says so on its Agent row.
 */
export function hostNode(h: HostState, now = new Date(), bundledAgent?: string): TreeNode {
  const live = liveness(h);
  const p = h.probe?.ok ? h.probe.probe : undefined;
  const seen = h.lastSeen ? `last seen ${ago(h.lastSeen, now)}` : 'never seen';
  const tooltip = [
    `${h.name} (${h.address})`,
    p ? p.uname : h.probe && !h.probe.ok ? `unreachable: ${h.probe.error}` : 'not checked yet',
    seen,
  ].join('\n');
  const hasAgent = p?.agentSocket ?? false;
  const age = hasAgent && bundledAgent ? agentAge(p?.agentId, bundledAgent) : undefined;
  const outdated = age === 'older' || age === 'rebuilt';
  const children: TreeNode[] = [];
  if (p) {
    children.push({
      id: `${h.name}/cpu`,
      label: 'CPU',
      description: p.cpuPct === null ? '?' : `${p.cpuPct.toFixed(1)} %`,
      icon: { id: 'pulse' },
      contextValue: 'stat',
      host: h.name,
    });
    children.push({
      id: `${h.name}/mem`,
      label: 'Memory',
      description:
        p.memUsedBytes === null || p.memTotalBytes === null
          ? '?'
          : `${formatBytes(p.memUsedBytes)} / ${formatBytes(p.memTotalBytes)}`,
      icon: { id: 'server' },
      contextValue: 'stat',
      host: h.name,
    });
    const pk = h.packages;
    const version = p.agentId ? versionOfId(p.agentId) : 'version unknown';
    const agentDesc = !hasAgent
      ? 'not installed'
      : pk && 'error' in pk
        ? `error: ${pk.error}`
        : `running ${version}${outdated ? `, update available (${versionOfId(bundledAgent!)})` : ''}`;
    children.push({
      id: `${h.name}/agent`,
      label: 'Agent',
      description: agentDesc,
      tooltip: hasAgent
        ? `agent ${p.agentId ?? '(built before agent builds had ids)'}${bundledAgent ? `\nthis Fleet deploys ${bundledAgent}` : ''}`
        : undefined,
      icon: outdated
        ? { id: 'vm-outline', color: 'editorWarning.foreground' }
        : { id: hasAgent ? 'vm-running' : 'vm-outline' },
      contextValue: hasAgent ? `agent.running${outdated ? '.outdated' : ''}` : 'agent.absent',
      host: h.name,
    });
    if (pk && !('error' in pk)) {
      for (const s of pk) children.push(packageNode(h.name, s));
    }
  } else if (h.probe && !h.probe.ok) {
    children.push({
      id: `${h.name}/error`,
      label: h.probe.hostKey ? 'Host key' : 'Unreachable',
      description: h.probe.error,
      tooltip: h.probe.error,
      icon: { id: 'error', color: 'errorForeground' },
      contextValue: 'error',
      host: h.name,
    });
  }
  return {
    id: h.name,
    label: h.name,
    description: p ? shortUname(p.uname) : (hostKeyNote(h) ?? (live === 'down' ? 'unreachable' : '')),
    tooltip,
    icon: dot[live],
    contextValue: `host.${live}${hasAgent ? '.agent' : ''}${outdated ? '.outdated' : ''}`,
    children,
    host: h.name,
  };
}

export function packageNode(host: string, s: PackageStatus): TreeNode {
  const icons: Record<string, { id: string; color?: string }> = {
    running: { id: 'play-circle', color: 'testing.iconPassed' },
    stopped: { id: 'debug-stop' },
    crashed: { id: 'error', color: 'testing.iconFailed' },
    backoff: { id: 'sync', color: 'editorWarning.foreground' },
    starting: { id: 'loading~spin' },
  };
  return {
    id: `${host}/pkg/${s.name}`,
    label: s.name,
    description: `${s.state}${s.pid ? ` (pid ${s.pid})` : ''}${s.restarts ? `, ${s.restarts} restarts` : ''}`,
    tooltip: `${s.name}: ${s.binary} ${s.args.join(' ')}\nversion ${s.version}, sha256 ${s.sha256.slice(0, 16)}…${s.previous ? `\nprevious ${s.previous.id}` : ''}`,
    icon: icons[s.state] ?? { id: 'package' },
    contextValue: `package.${s.state}${s.previous ? '.rollback' : ''}`,
    host,
    pkg: s.name,
  };
}

/** `Fleet: 3/4 up` */
export function statusText(hosts: readonly HostState[]): string {
  return `Fleet: ${hosts.filter((h) => liveness(h) === 'up').length}/${hosts.length} up`;
}

function hostKeyNote(h: HostState): string | undefined {
  const k = h.probe && !h.probe.ok ? h.probe.hostKey : undefined;
  return k === 'unknown'
    ? 'host key not trusted yet'
    : k === 'changed'
      ? 'HOST KEY CHANGED: refused'
      : k === 'revoked'
        ? 'host key revoked: refused'
        : undefined;
}

function ago(t: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - t.getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : t.toISOString();
}
