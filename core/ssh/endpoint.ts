// An SshEndpoint: where to connect, as whom, with which keys, through which jump hosts. What the
// user named becomes one in core/targets/resolve.ts.
import { formatHostPort } from '../hostPort';

export interface SshEndpoint {
  /** how results name this host: the text the user gave */
  label: string;
  host: string;
  port: number;
  user: string;
  /** key files named on the command line or in the inventory: each must be readable */
  identityFiles: string[];
  /** key files from ssh_config: one that does not exist is skipped, as ssh skips it */
  optionalIdentityFiles?: string[];
  /** offer only these files' keys, not every key ssh-agent holds (IdentitiesOnly) */
  identitiesOnly?: boolean;
  /** jump hosts, in the order they are connected (ProxyJump a,b: a first) */
  jump: SshEndpoint[];
  /** a command whose stdin/stdout carry the connection (ProxyCommand, tokens expanded), run as ssh runs it */
  proxyCommand?: string;
  /** TCP connect + handshake deadline (ConnectTimeout) */
  connectTimeoutMs?: number;
  /** keepalive interval (ServerAliveInterval) */
  keepaliveMs?: number;
  /** the name its key is pinned under in known_hosts, instead of the host name (HostKeyAlias, lower-cased) */
  hostKeyAlias?: string;
  // ssh_config's values below are set only where the config sets them (absent: the engine's default)
  /** certificates to offer (CertificateFile; ~, tokens and ${VAR} expanded as for IdentityFile) */
  certificateFiles?: string[];
  /** keepalives left unanswered before the connection counts as dead (ServerAliveCountMax) */
  keepaliveCountMax?: number;
  /** connection attempts, as ssh makes them a second apart (ConnectionAttempts) */
  connectionAttempts?: number;
  /** StrictHostKeyChecking as the config says it */
  strictHostKeyChecking?: 'yes' | 'no' | 'ask' | 'accept-new';
  /** known_hosts files to check and pin in (UserKnownHostsFile, expanded; [] for none) */
  userKnownHostsFiles?: string[];
  /** known_hosts files to check (GlobalKnownHostsFile; [] for none) */
  globalKnownHostsFiles?: string[];
  /** the ssh-agent socket (IdentityAgent, expanded): a path, `none` (no agent), or `SSH_AUTH_SOCK` */
  identityAgent?: string;
}

/** `user@host:port` of an endpoint, for messages */
export function endpointAddress(e: SshEndpoint): string {
  return `${e.user}@${formatHostPort(e.host, e.port)}`;
}

/** the name known_hosts uses for this endpoint: `host`, or `[host]:port` when the port is not 22 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** the known_hosts name of an endpoint: its HostKeyAlias when it has one */
export function endpointKeyName(e: SshEndpoint): string {
  return e.hostKeyAlias ?? knownHostsName(e.host, e.port);
}
