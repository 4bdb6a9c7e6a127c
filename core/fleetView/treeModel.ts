// The Hosts tree as plain data. Roots are inventory groups (collapsible, `web 48/50 up`) when the
// inventory has any, else the hosts; a host row says what matters at a glance (`12% · 1.3/24 GiB ·
// agent ✓ · 2 pkgs`), its Markdown tooltip the rest (uname, address, groups, the age of each value);
// its children are CPU, Memory and the Agent, with the packages under it. extension/ turns these into
// TreeItems one to one; `contextValue` drives the menus and inline buttons. What a host is
// (HostState, liveness) lives in core/hosts; this is only its picture.
import { agentAge, versionOfId } from '../agentInstall/agentVersion';
import type { PackageStatus } from '../protocol/agent';
import { matchesFilter, type HostFilter } from './filter';
import { liveness, type HostState, type Liveness } from '../hosts/hostState';

export interface TreeNode {
  id: string;
  label: string;
  description?: string;
  /** plain text */
  tooltip?: string;
  /** Markdown (every piece of host data in it is escaped) */
  tooltipMarkdown?: string;
  /** a codicon id and a theme colour id */
  icon?: { id: string; color?: string };
  /**
   * drives the menus: group, host.up, host.up.agent(.outdated), host.down, host.down.keyChanged,
   * host.unknown, agent.absent, package.running, …
   */
  contextValue: string;
  /** a command (by id) run with this node when the row is clicked */
  command?: string;
  children?: TreeNode[];
  /** shown expanded at first (a group) */
  expanded?: boolean;
  /** for commands: the host's name, the package's, the group's hosts */
  host?: string;
  pkg?: string;
  hosts?: string[];
}

export interface ViewOptions {
  now?: Date;
  /** the agent build this Fleet deploys: older agents are marked for Update Agent */
  bundledAgent?: string;
  filter?: HostFilter;
  /** hosts that are down (then unknown) before those that are up */
  downFirst?: boolean;
  /** how a host's key was trusted through a CA (HostKeyChecker.describeTrust), for its tooltip */
  hostKeyTrust?: (hostName: string) => string | undefined;
}

/** `Linux web1 6.1.0-18-amd64` from a full `uname -a` */
export function shortUname(uname: string): string {
  return uname.split(/\s+/).slice(0, 3).join(' ');
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** `1.3/24 GiB`: both in the total's unit */
export function formatBytesPair(used: number, total: number): string {
  let i = 0;
  let t = total;
  while (t >= 1024 && i < units.length - 1) {
    t /= 1024;
    i++;
  }
  const u = used / 1024 ** i;
  const f = (x: number) => (x >= 10 || i === 0 ? String(Math.round(x)) : x.toFixed(1));
  return `${f(u)}/${f(t)} ${units[i]}`;
}

/** Markdown-escapes host data (names, unames, errors) for a tooltip */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

const dot: Record<Liveness, { id: string; color: string }> = {
  up: { id: 'circle-filled', color: 'testing.iconPassed' },
  down: { id: 'circle-filled', color: 'testing.iconFailed' },
  unknown: { id: 'circle-outline', color: 'disabledForeground' },
};

const order: Record<Liveness, number> = { down: 0, unknown: 1, up: 2 };

function sortHosts(hosts: HostState[], downFirst: boolean): HostState[] {
  return [...hosts].sort(
    (a, b) => (downFirst ? order[liveness(a)] - order[liveness(b)] : 0) || a.name.localeCompare(b.name),
  );
}

/**
 * The roots of the view: group nodes when the inventory has groups (hosts in no group under
 * `ungrouped`; a host in two groups shows in both), else the hosts. A filter that matches nothing
 * gives one row saying so.
 */
export function treeRoots(states: readonly HostState[], o: ViewOptions = {}): TreeNode[] {
  const now = o.now ?? new Date();
  const shown = states.filter((h) => !o.filter || matchesFilter(h, o.filter));
  if (o.filter && shown.length === 0 && states.length > 0)
    return [
      {
        id: 'filter-empty',
        label: `No host matches “${o.filter.text}”`,
        description: 'Clear Filter shows all',
        icon: { id: 'filter' },
        contextValue: 'filter.empty',
      },
    ];
  const groups = [...new Set(states.flatMap((h) => h.groups))].sort();
  if (groups.length === 0)
    return sortHosts(shown, o.downFirst ?? false).map((h) =>
      hostNode(h, now, o.bundledAgent, '', o.hostKeyTrust?.(h.name)),
    );
  const names = shown.some((h) => h.groups.length === 0) ? [...groups, ''] : groups;
  return names
    .map((g) => {
      const members = sortHosts(
        shown.filter((h) => (g ? h.groups.includes(g) : h.groups.length === 0)),
        o.downFirst ?? false,
      );
      return groupNode(g, members, now, o.bundledAgent, o.hostKeyTrust);
    })
    .filter((n) => n.children!.length > 0);
}

/** groups with more hosts than this start collapsed */
export const groupExpandedUpTo = 100;

export function groupNode(
  group: string,
  members: HostState[],
  now: Date,
  bundledAgent?: string,
  hostKeyTrust?: ViewOptions['hostKeyTrust'],
): TreeNode {
  const up = members.filter((h) => liveness(h) === 'up').length;
  const down = members.filter((h) => liveness(h) === 'down');
  const label = group || 'ungrouped';
  return {
    id: `group/${label}`,
    label,
    description: `${up}/${members.length} up`,
    tooltipMarkdown: [
      `**${md(label)}**: ${up} of ${members.length} hosts up`,
      ...(down.length ? [`down: ${down.map((h) => md(h.name)).join(', ')}`] : []),
    ].join('\n\n'),
    icon: down.length
      ? { id: 'server-environment', color: 'testing.iconFailed' }
      : { id: 'server-environment', color: undefined },
    contextValue: 'group',
    // a big group starts collapsed: its hosts are counted, and not refreshed over SSH until opened
    expanded: members.length <= groupExpandedUpTo,
    children: members.map((h) => hostNode(h, now, bundledAgent, `group/${label}/`, hostKeyTrust?.(h.name))),
    hosts: members.map((h) => h.name),
  };
}

/**
 * One host: its row says what matters (load, memory, agent, packages); the tooltip the rest.
 * `idPrefix` keeps ids unique when a host shows under several groups.
 */
export function hostNode(
  h: HostState,
  now = new Date(),
  bundledAgent?: string,
  idPrefix = '',
  hostKeyTrust?: string,
): TreeNode {
  const live = liveness(h);
  const p = h.probe?.ok ? h.probe.probe : undefined;
  const hasAgent = p?.agentSocket ?? false;
  const age = hasAgent && bundledAgent ? agentAge(p?.agentId, bundledAgent) : undefined;
  const outdated = age === 'older' || age === 'rebuilt';
  const pk = h.packages;
  const pkgs = pk && !('error' in pk) ? pk : [];
  const id = `${idPrefix}${h.name}`;
  const children: TreeNode[] = [];
  let description = '';
  if (p) {
    const mem =
      p.memUsedBytes === null || p.memTotalBytes === null ? '?' : formatBytesPair(p.memUsedBytes, p.memTotalBytes);
    const agent = !hasAgent ? 'no agent' : outdated ? 'agent ⬆' : pk && 'error' in pk ? 'agent ✗' : 'agent ✓';
    description = [
      p.cpuPct === null ? '?%' : `${Math.round(p.cpuPct)}%`,
      mem,
      agent,
      ...(hasAgent ? [`${pkgs.length} pkg${pkgs.length === 1 ? '' : 's'}`] : []),
    ].join(' · ');
    children.push(
      {
        id: `${id}/cpu`,
        label: 'CPU',
        description: p.cpuPct === null ? '?' : `${p.cpuPct.toFixed(1)} %`,
        icon: { id: 'pulse' },
        contextValue: 'stat',
        host: h.name,
      },
      {
        id: `${id}/mem`,
        label: 'Memory',
        description:
          p.memUsedBytes === null || p.memTotalBytes === null
            ? '?'
            : `${formatBytes(p.memUsedBytes)} / ${formatBytes(p.memTotalBytes)}`,
        icon: { id: 'server' },
        contextValue: 'stat',
        host: h.name,
      },
      agentNode(h.name, id, hasAgent, pk, p.agentId, outdated, bundledAgent),
    );
  } else if (h.probe && !h.probe.ok) {
    description = hostKeyNote(h) ?? `unreachable${h.lastSeen ? ` · seen ${ago(h.lastSeen, now)}` : ''}`;
    const changed = h.probe.hostKey === 'changed';
    children.push({
      id: `${id}/error`,
      label: h.probe.hostKey ? 'Host key' : 'Unreachable',
      description: changed ? 'changed: click to compare the fingerprints and replace it' : h.probe.error,
      tooltip: h.probe.error,
      icon: { id: 'error', color: 'errorForeground' },
      contextValue: changed ? 'error.keyChanged' : 'error',
      host: h.name,
      ...(changed ? { command: 'fleet.replaceHostKey' } : {}),
    });
  }
  return {
    id,
    label: h.name,
    description,
    tooltipMarkdown: hostTooltip(h, now, p?.agentId, pkgs, hostKeyTrust),
    icon: dot[live],
    contextValue: `host.${live}${hasAgent ? '.agent' : ''}${outdated ? '.outdated' : ''}${h.probe?.ok === false && h.probe.hostKey === 'changed' ? '.keyChanged' : ''}`,
    children,
    host: h.name,
  };
}

function agentNode(
  host: string,
  id: string,
  hasAgent: boolean,
  pk: HostState['packages'],
  agentId: string | undefined,
  outdated: boolean,
  bundledAgent: string | undefined,
): TreeNode {
  const version = agentId ? versionOfId(agentId) : 'version unknown';
  const description = !hasAgent
    ? 'not installed'
    : pk && 'error' in pk
      ? `error: ${pk.error}`
      : `running ${version}${outdated ? `, update available (${versionOfId(bundledAgent!)})` : ''}`;
  return {
    id: `${id}/agent`,
    label: 'Agent',
    description,
    tooltip: hasAgent
      ? `agent ${agentId ?? '(built before agent builds had ids)'}${bundledAgent ? `\nthis Fleet deploys ${bundledAgent}` : ''}`
      : 'no agent on this host: Install Agent puts it there (with its own Node runtime)',
    icon: outdated
      ? { id: 'vm-outline', color: 'editorWarning.foreground' }
      : { id: hasAgent ? 'vm-running' : 'vm-outline' },
    contextValue: hasAgent ? `agent.running${outdated ? '.outdated' : ''}` : 'agent.absent',
    children: pk && !('error' in pk) ? pk.map((s) => packageNode(host, s, id)) : [],
    expanded: true,
    host,
  };
}

function hostTooltip(
  h: HostState,
  now: Date,
  agentId: string | undefined,
  pkgs: PackageStatus[],
  hostKeyTrust?: string,
): string {
  const p = h.probe?.ok ? h.probe.probe : undefined;
  const via =
    h.probe?.source === 'prometheus' ? 'from Prometheus, scraped ' : h.probe?.source === 'ssh' ? 'over SSH, ' : '';
  const checked = h.probe ? ` (${via}${ago(h.probe.at, now)})` : '';
  const lines = [`**${md(h.name)}** · \`${h.address.replace(/`/g, "'")}\``];
  if (h.groups.length) lines.push(`groups: ${h.groups.map(md).join(', ')}`);
  if (p) {
    lines.push(md(p.uname));
    const mem =
      p.memUsedBytes === null || p.memTotalBytes === null
        ? 'memory ?'
        : `memory ${formatBytes(p.memUsedBytes)} of ${formatBytes(p.memTotalBytes)}`;
    const more = [
      ...(p.iowaitPct !== undefined ? [`iowait ${p.iowaitPct.toFixed(1)} %`] : []),
      ...(p.load1 !== undefined ? [`load ${p.load1.toFixed(2)}`] : []),
      ...(p.uptimeSecs !== undefined ? [`up ${formatUptime(p.uptimeSecs)}`] : []),
    ];
    lines.push(
      `CPU ${p.cpuPct === null ? '?' : `${p.cpuPct.toFixed(1)} %`} · ${mem}${more.map((m) => ` · ${m}`).join('')}${checked}`,
    );
    lines.push(
      p.agentSocket
        ? `agent ${md(agentId ?? 'of unknown version')} · ${pkgs.length ? pkgs.map((s) => `${md(s.name)} ${s.state}`).join(', ') : 'no packages'}`
        : 'no agent',
    );
  } else if (h.probe && !h.probe.ok) lines.push(`unreachable${checked}: ${md(h.probe.error)}`);
  else lines.push('not checked yet');
  if (hostKeyTrust) lines.push(`host key trusted through a CA: ${md(hostKeyTrust)}`);
  lines.push(h.lastSeen ? `last seen ${ago(h.lastSeen, now)}` : 'never seen');
  return lines.join('\n\n');
}

/** `3 d 4 h`, `5 h 2 min`, `12 min` */
export function formatUptime(secs: number): string {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

export function packageNode(host: string, s: PackageStatus, idPrefix = host): TreeNode {
  const icons: Record<string, { id: string; color?: string }> = {
    running: { id: 'play-circle', color: 'testing.iconPassed' },
    stopped: { id: 'debug-stop' },
    crashed: { id: 'error', color: 'testing.iconFailed' },
    backoff: { id: 'sync', color: 'editorWarning.foreground' },
    starting: { id: 'loading~spin' },
  };
  return {
    id: `${idPrefix}/pkg/${s.name}`,
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

/** the names of the hosts that are down, for the status bar's tooltip */
export function downHosts(hosts: readonly HostState[]): string[] {
  return hosts.filter((h) => liveness(h) === 'down').map((h) => h.name);
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

export function ago(t: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - t.getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : t.toISOString();
}
