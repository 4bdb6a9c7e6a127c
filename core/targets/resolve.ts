// Turns what the user named (a target string, a ~/.ssh/config alias, an inventory entry) into
// an SshEndpoint: where to connect, as whom, with which keys, through which jump hosts or proxy
// command. Precedence, as ssh's: the target's own user@/:port and the flags (the "command line"),
// then ssh_config as OpenSSH reads it (core/ssh/sshConfig.ts), then defaults. A ProxyJump list is
// followed as `ssh -J` follows it: the first hop is resolved as a host of its own (its own ProxyJump
// or ProxyCommand apply), each later hop is reached through the hops before it, whatever its own
// config says.
import { UsageError } from '../errors';
import type { InventoryHost, Inventory } from '../inventory/fleetFile';
import { parseTarget } from '../inventory/target';
import type { SshEndpoint } from '../ssh/endpoint';
import { expandTokens, localContext, SshConfig, type LocalContext, type ResolvedSsh } from '../ssh/sshConfig';
import { clientTokens, originError, percentExpand, tildeExpand, type Origin } from '../ssh/sshConfigTokens';
import type { UserHostPort } from '../ssh/sshConfigValues';

export interface ResolveDefaults {
  user?: string;
  port?: number;
  identityFiles?: string[];
  /** a ProxyJump list given on the command line (`--jump`), overriding the config's */
  jump?: string;
}

/** jump hosts reached through jump hosts: a config that loops is refused beyond this */
const maxJumpDepth = 4;

export function resolveTarget(
  text: string,
  config: SshConfig | null,
  defaults: ResolveDefaults = {},
  depth = 0,
  local: LocalContext = localContext(),
): SshEndpoint {
  const t = parseTarget(text);
  const cfg = config ?? SshConfig.parse('', '<none>', local);
  return endpointOf(
    t.label,
    cfg,
    { host: t.host, user: t.user ?? defaults.user, port: t.port ?? defaults.port ?? -1 },
    { identityFiles: defaults.identityFiles ?? [], jump: defaults.jump },
    depth,
    local,
  );
}

function endpointOf(
  label: string,
  cfg: SshConfig,
  hop: UserHostPort,
  given: { identityFiles: string[]; jump?: string; laterHop?: boolean },
  depth: number,
  local: LocalContext,
): SshEndpoint {
  const r = cfg.resolve(hop.host, { user: hop.user, port: hop.port > 0 ? hop.port : undefined, jump: given.jump });
  const jump: SshEndpoint[] = [];
  // a later hop of a list is reached through the hops before it (given.jump), not through its own
  if (r.jumpHops && !given.laterHop) {
    if (depth >= maxJumpDepth) {
      const why = `ProxyJump through more than ${maxJumpDepth} levels of jump hosts, from ${label} (a loop?)`;
      const o = r.origins.proxyjump;
      throw o && o.file !== 'the command line' ? originError(o, why) : new UsageError(`target ${label}: ${why}`);
    }
    const ids = { identityFiles: given.identityFiles };
    r.jumpHops.forEach((h, i) => {
      const name = `${h.user !== undefined ? `${h.user}@` : ''}${h.host}${h.port > 0 ? `:${h.port}` : ''}`;
      // ssh -J a,b,c host: c is reached with `-J a,b`, b with `-J a`; a as any host, its own config whole
      const before = r.jumpHops!.slice(0, i).map(hopText).join(',');
      const e = endpointOf(name, cfg, h, { ...ids, jump: before || undefined, laterHop: i > 0 }, depth + 1, local);
      jump.push(...e.jump, { ...e, jump: [] });
    });
  }
  const origins = r.origins;
  const set = (k: string) => origins[k] !== undefined && origins[k].file !== 'the command line';
  const tokens = clientTokens(
    { host: r.hostname, original: r.host, port: r.port, user: r.user, keyAlias: r.hostKeyAlias ?? r.host },
    local,
  );
  const path = (p: string, o: Origin) =>
    percentExpand(tildeExpand(p, local, o), tokens, o, { dollar: true, env: local.env });
  const files = (list: string[], o: Origin[]) =>
    list.flatMap((f, i) => (f.toLowerCase() === 'none' ? [] : [path(f, o[i])]));
  return {
    label,
    host: r.hostname,
    port: r.port,
    user: r.user,
    identityFiles: given.identityFiles,
    optionalIdentityFiles: r.identityFilesGiven ? files(r.identityFiles, r.identityOrigins) : [],
    identitiesOnly: r.identitiesOnly || undefined,
    jump,
    proxyCommand: r.proxyCommand === undefined ? undefined : proxyCommandOf(r),
    connectTimeoutMs: r.connectTimeoutSecs ? r.connectTimeoutSecs * 1000 : undefined,
    keepaliveMs: r.serverAliveIntervalSecs > 0 ? r.serverAliveIntervalSecs * 1000 : undefined,
    hostKeyAlias: r.hostKeyAlias,
    ...(r.certificateFiles.length ? { certificateFiles: files(r.certificateFiles, r.certificateOrigins) } : {}),
    ...(set('serveralivecountmax') ? { keepaliveCountMax: r.serverAliveCountMax } : {}),
    ...(set('connectionattempts') ? { connectionAttempts: r.connectionAttempts } : {}),
    ...(set('stricthostkeychecking') ? { strictHostKeyChecking: strictOf(r.strictHostKeyChecking) } : {}),
    ...(set('userknownhostsfile') ? { userKnownHostsFiles: knownFiles(r.userKnownHostsFiles) } : {}),
    ...(set('globalknownhostsfile')
      ? { globalKnownHostsFiles: knownFiles(r.globalKnownHostsFiles.map((f) => path(f, origins.globalknownhostsfile))) }
      : {}),
    ...(r.identityAgent !== undefined ? { identityAgent: r.identityAgent } : {}),
  };
}

function hopText(h: UserHostPort): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host;
  return `${h.user !== undefined ? `${h.user}@` : ''}${host}${h.port > 0 ? `:${h.port}` : ''}`;
}

/**
 * ProxyCommand as ssh hands it to the shell (sshconnect.c): the rest of the line as written, quotes and
 * all, with %h (the host name connected to), %k (HostKeyAlias, else the name as given), %n (the name
 * as given), %p, %r and %% expanded; proxyCommand.ts puts `exec ` before it for a POSIX shell.
 */
function proxyCommandOf(r: ResolvedSsh): string {
  const tokens = { h: r.hostname, k: r.hostKeyAlias ?? r.host, n: r.host, p: String(r.port), r: r.user };
  return percentExpand(r.proxyCommand!, tokens, r.origins.proxycommand);
}

function strictOf(v: ResolvedSsh['strictHostKeyChecking']): NonNullable<SshEndpoint['strictHostKeyChecking']> {
  return v === 'true' ? 'yes' : v === 'false' ? 'no' : v;
}

function knownFiles(list: string[]): string[] {
  return list.length === 1 && list[0].toLowerCase() === 'none' ? [] : list;
}

/** an inventory entry, with the file's defaults beneath it */
export function resolveInventoryHost(
  h: InventoryHost,
  inv: Inventory,
  config: SshConfig | null,
  defaults: ResolveDefaults = {},
  local: LocalContext = localContext(),
): SshEndpoint {
  const identity = h.identityFile ?? inv.defaults.identityFile;
  const e = resolveTarget(
    h.host,
    config,
    {
      user: h.user ?? defaults.user ?? inv.defaults.user,
      port: h.port ?? defaults.port ?? inv.defaults.port,
      identityFiles: [
        ...(defaults.identityFiles ?? []),
        ...(identity
          ? [expandTokens(identity, { host: h.host, hostname: h.host, port: h.port ?? 22, user: h.user ?? '' }, local)]
          : []),
      ],
      jump: defaults.jump,
    },
    0,
    local,
  );
  return { ...e, label: h.name };
}
