// Turns what the user named (a target string, a ~/.ssh/config alias, an inventory entry) into
// an SshEndpoint: where to connect, as whom, with which keys, through which jump hosts.
// Precedence, as ssh's: the target's own user@/:port, then flags, then ~/.ssh/config, then defaults.
import { userInfo } from 'node:os';
import { UsageError } from '../errors';
import type { InventoryHost, Inventory } from '../inventory/fleetFile';
import { expandTokens, type SshConfigFile } from '../ssh/sshConfig';
import { parseTarget } from '../inventory/target';
import type { SshEndpoint } from '../ssh/endpoint';

export interface ResolveDefaults {
  user?: string;
  port?: number;
  identityFiles?: string[];
  /** a ProxyJump list given on the command line (`--jump`), overriding the config's */
  jump?: string;
}

const maxJumpHops = 4;

export function resolveTarget(
  text: string,
  config: SshConfigFile | null,
  defaults: ResolveDefaults = {},
  depth = 0,
): SshEndpoint {
  const t = parseTarget(text);
  const c = config?.lookup(t.host) ?? { identityFiles: [] };
  const user = t.user ?? defaults.user ?? c.user ?? userInfo().username;
  const host = c.hostName ? expandTokens(c.hostName, { host: t.host, remoteUser: user }) : t.host;
  const port = t.port ?? defaults.port ?? c.port ?? 22;
  const identityFiles = [
    ...(defaults.identityFiles ?? []),
    ...c.identityFiles.map((f) => expandTokens(f, { host, remoteUser: user })),
  ];
  const jumpSpec = depth === 0 ? (defaults.jump ?? c.proxyJump) : c.proxyJump;
  let jump: SshEndpoint[] = [];
  if (jumpSpec) {
    if (depth >= maxJumpHops)
      throw new UsageError(`target ${t.label}: ProxyJump chain deeper than ${maxJumpHops} hops`);
    // each hop is itself resolved through the config; a hop's own ProxyJump comes before it
    for (const hop of jumpSpec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const e = resolveTarget(hop, config, { identityFiles: defaults.identityFiles }, depth + 1);
      jump = [...jump, ...e.jump, { ...e, jump: [] }];
    }
  }
  return { label: t.label, host, port, user, identityFiles, jump };
}

/** an inventory entry, with the file's defaults beneath it */
export function resolveInventoryHost(
  h: InventoryHost,
  inv: Inventory,
  config: SshConfigFile | null,
  defaults: ResolveDefaults = {},
): SshEndpoint {
  const identity = h.identityFile ?? inv.defaults.identityFile;
  const e = resolveTarget(h.host, config, {
    user: h.user ?? defaults.user ?? inv.defaults.user,
    port: h.port ?? defaults.port ?? inv.defaults.port,
    identityFiles: [
      ...(defaults.identityFiles ?? []),
      ...(identity ? [expandTokens(identity, { host: h.host, remoteUser: '' })] : []),
    ],
    jump: defaults.jump,
  });
  return { ...e, label: h.name };
}
