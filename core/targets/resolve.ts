// Turns what the user named (a target string, a ~/.ssh/config alias, an inventory entry) into
// an SshEndpoint: where to connect, as whom, with which keys, through which jump hosts or proxy
// command. Precedence, as ssh's: the target's own user@/:port and the flags (the "command line"),
// then ~/.ssh/config as OpenSSH reads it (core/ssh/sshConfig.ts), then defaults.
import { UsageError } from '../errors';
import type { InventoryHost, Inventory } from '../inventory/fleetFile';
import { parseTarget } from '../inventory/target';
import type { SshEndpoint } from '../ssh/endpoint';
import { expandTokens, localContext, SshConfig, type LocalContext } from '../ssh/sshConfig';

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
  config: SshConfig | null,
  defaults: ResolveDefaults = {},
  depth = 0,
  local: LocalContext = localContext(),
): SshEndpoint {
  const t = parseTarget(text);
  const cfg = config ?? SshConfig.parse('', '<none>', local);
  const r = cfg.resolve(t.host, { user: t.user ?? defaults.user, port: t.port ?? defaults.port });
  const optional = r.identityFilesGiven ? r.identityFiles.map((f) => expandTokens(f, r, local)) : [];
  const jumpSpec = depth === 0 ? (defaults.jump ?? r.proxyJump) : r.proxyJump;
  let jump: SshEndpoint[] = [];
  if (jumpSpec && !(depth === 0 && defaults.jump === undefined && r.proxyCommand)) {
    if (depth >= maxJumpHops)
      throw new UsageError(`target ${t.label}: ProxyJump chain deeper than ${maxJumpHops} hops`);
    // each hop is itself resolved through the config; a hop's own ProxyJump comes before it
    for (const hop of jumpSpec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const e = resolveTarget(hop, config, { identityFiles: defaults.identityFiles }, depth + 1, local);
      jump = [...jump, ...e.jump, { ...e, jump: [] }];
    }
  }
  return {
    label: t.label,
    host: r.hostname,
    port: r.port,
    user: r.user,
    identityFiles: defaults.identityFiles ?? [],
    optionalIdentityFiles: optional,
    identitiesOnly: r.identitiesOnly || undefined,
    jump,
    proxyCommand: jump.length === 0 && r.proxyCommand ? expandTokens(r.proxyCommand, r, local) : undefined,
    connectTimeoutMs: r.connectTimeoutSecs ? r.connectTimeoutSecs * 1000 : undefined,
    keepaliveMs: r.serverAliveIntervalSecs > 0 ? r.serverAliveIntervalSecs * 1000 : undefined,
    hostKeyAlias: r.hostKeyAlias,
  };
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
