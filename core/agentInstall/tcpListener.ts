// The agent's TCP listener as deploy sets it up, and the pin of its certificate. `--listen HOST:PORT`
// is written to the data dir's `listen` file (the agent's command line never changes, so a later
// plain deploy keeps it; `--listen off` removes it); token files given on this machine are copied
// to the host (0600, over SFTP: never in a command line), so every agent shares them as one
// Prometheus job needs; the certificate the agent made is read back over SSH, whose host key is
// checked, and pinned in ~/.fleet/known_agents.json for the host's address and the port.
import { advice } from '../advice';
import { X509Certificate } from 'node:crypto';
import { KnownAgents } from '../agentClient/knownAgents';
import { errorMessage } from '../errors';
import { formatHostPort, parseHostPort } from '../hostPort';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { shellQuote as q } from '../ssh/quote';
import { ensureTokenFile } from '../token';
import type { AgentLayout } from './layout';
import { InstallError, InstallHost } from './remoteHost';

export interface ListenOptions {
  /** HOST:PORT, or `off` to remove the TCP listener */
  address: string;
  /** a token file on this machine (made 0600 if missing) copied to every host: the full token */
  tokenFile?: string;
  /** likewise, the read-only token (metrics and status: what Prometheus gets) */
  readTokenFile?: string;
}

/** HOST:PORT checked, or off */
export function parseListen(text: string): { host: string; port: number } | 'off' {
  if (text === 'off') return 'off';
  const hp = parseHostPort(text);
  if (!hp) throw new InstallError(`--listen ${text}: expected HOST:PORT (0.0.0.0:9125 for every address) or off`);
  return hp;
}

/** before the (re)start: the listen file, and the token files copied whole into place */
export async function prepareListener(host: InstallHost, l: AgentLayout, o: ListenOptions): Promise<void> {
  const listen = parseListen(o.address);
  const uploads: Array<[string, string]> = [];
  if (o.tokenFile) uploads.push([o.tokenFile, `${l.dataDir}/token`]);
  if (o.readTokenFile) uploads.push([o.readTokenFile, `${l.dataDir}/read-token`]);
  // made here when missing, refused when others may read it
  if (o.tokenFile && o.readTokenFile && ensureTokenFile(o.tokenFile) === ensureTokenFile(o.readTokenFile))
    throw new InstallError(`${o.tokenFile} and ${o.readTokenFile} hold the same token: the read-only one must differ`);
  for (const [local, remote] of uploads) {
    ensureTokenFile(local);
    const tmp = `${remote}.fleet-upload`;
    await host.upload(local, tmp);
    await host.script(`chmod 600 ${q(tmp)} && mv -f ${q(tmp)} ${q(remote)}`, `placing ${remote}`);
  }
  const file = `${l.dataDir}/listen`;
  await host.script(
    listen === 'off'
      ? `rm -f ${q(file)}`
      : `umask 077; printf '%s\\n' ${q(formatHostPort(listen.host, listen.port))} > ${q(file + '.new')} && mv -f ${q(file + '.new')} ${q(file)}`,
    'writing the listen address',
  );
}

export interface PinResult {
  /** HOST:PORT the pin is for */
  address: string;
  fingerprint: string;
  /** the fingerprint pinned before, when it differed */
  replaced?: string;
}

/** reads the agent's certificate over SSH and pins it for the host's SSH address and `port` */
export async function pinAgentCertificate(
  pool: SshPool,
  ep: SshEndpoint,
  port: number,
  opts: { knownAgents?: KnownAgents; address?: string; source: string; signal?: AbortSignal },
): Promise<PinResult> {
  const host = new InstallHost(pool, ep, opts.signal);
  const r = await host.exec('cat "$HOME/.fleet-agent/tls-cert.pem"', 60_000);
  if (r.exitCode !== 0)
    throw new InstallError(
      `host ${ep.label}: the agent has no TLS certificate (~/.fleet-agent/tls-cert.pem): it makes one when it listens on TCP; run ${advice().agentListen(ep.label)}`,
    );
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(r.stdout).fingerprint256;
  } catch (e) {
    throw new InstallError(`host ${ep.label}: ~/.fleet-agent/tls-cert.pem is not a certificate: ${errorMessage(e)}`);
  }
  const addressHost = opts.address ?? ep.host;
  const known = opts.knownAgents ?? new KnownAgents();
  const { replaced } = known.pin(addressHost, port, r.stdout, opts.source);
  return { address: formatHostPort(addressHost, port), fingerprint, replaced: replaced?.fingerprint };
}
