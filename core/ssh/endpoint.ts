// An SshEndpoint: where to connect, as whom, with which keys, through which jump hosts. What the
// user named becomes one in core/targets/resolve.ts.
import { formatHostPort } from '../hostPort';

export interface SshEndpoint {
  /** how results name this host: the text the user gave */
  label: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** jump hosts, in the order they are connected (ProxyJump a,b: a first) */
  jump: SshEndpoint[];
}

/** `user@host:port` of an endpoint, for messages */
export function endpointAddress(e: SshEndpoint): string {
  return `${e.user}@${formatHostPort(e.host, e.port)}`;
}

/** the name known_hosts uses for this endpoint: `host`, or `[host]:port` when the port is not 22 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
