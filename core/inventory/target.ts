// A target names one SSH host: `user@host:port`, `host`, `[v6addr]:port`, or an alias of ~/.ssh/config.
import { UsageError } from '../errors';

export interface TargetSpec {
  /** the text the user gave, used to label results */
  label: string;
  host: string;
  user?: string;
  port?: number;
}

const hostPart = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function parseTarget(text: string): TargetSpec {
  let rest = text.trim();
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(user))
      throw new UsageError(`target ${JSON.stringify(text)}: invalid user name`);
  }
  let host = rest;
  let port: number | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1];
    port = v6[2] === undefined ? undefined : Number(v6[2]);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      host = rest.slice(0, colon);
      const p = rest.slice(colon + 1);
      if (!/^\d{1,5}$/.test(p))
        throw new UsageError(`target ${JSON.stringify(text)}: port must be a number from 1 to 65535`);
      port = Number(p);
    }
    if (!hostPart.test(host)) throw new UsageError(`target ${JSON.stringify(text)}: expected user@host:port`);
  }
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw new UsageError(`target ${JSON.stringify(text)}: port must be a number from 1 to 65535`);
  }
  return { label: text.trim(), host, user, port };
}
