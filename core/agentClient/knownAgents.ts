// The agents' TLS certificates this user trusts, as ~/.ssh/known_hosts holds host keys: one per
// agent address (HOST:PORT as https:// endpoints name it), each read over SSH from the agent's host
// by `fleet agent deploy --listen` or `fleet agent pin` (trust comes over SSH, whose host key is
// checked), never from a repository's file. The certificate itself is kept, not only its
// fingerprint, so `fleet prometheus config` can hand it to Prometheus as its ca_file.
//
// ~/.fleet/known_agents.json: {"agents": {"10.0.0.5:9125": {fingerprint, certificate, pinnedAt, source}}}
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { cannotRead, ValidationError } from '../errors';
import { formatHostPort, unbracket } from '../hostPort';

export interface KnownAgent {
  /** SHA-256 of the certificate's DER, `AB:CD:…` (openssl x509 -noout -fingerprint -sha256) */
  fingerprint: string;
  /** PEM */
  certificate: string;
  pinnedAt: string;
  /** what pinned it: `fleet agent deploy web1 (over SSH)` */
  source: string;
}

export function defaultKnownAgentsFile(home = homedir()): string {
  return join(home, '.fleet', 'known_agents.json');
}

/** the key of an agent address: host lower-cased, IPv6 in brackets */
export function agentKey(host: string, port: number): string {
  return formatHostPort(unbracket(host).toLowerCase(), port);
}

export class KnownAgents {
  constructor(readonly file: string = defaultKnownAgentsFile()) {}

  get(host: string, port: number): KnownAgent | undefined {
    return this.read()[agentKey(host, port)];
  }

  all(): Record<string, KnownAgent> {
    return this.read();
  }

  /** pins `certificatePem` for HOST:PORT; says what was pinned before, if it differed */
  pin(host: string, port: number, certificatePem: string, source: string): { replaced?: KnownAgent } {
    const fingerprint = new X509Certificate(certificatePem).fingerprint256;
    const agents = this.read();
    const key = agentKey(host, port);
    const before = agents[key];
    agents[key] = { fingerprint, certificate: certificatePem, pinnedAt: new Date().toISOString(), source };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // whole or not at all: a temp file beside it, then rename
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ agents }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
    return before && before.fingerprint !== fingerprint ? { replaced: before } : {};
  }

  private read(): Record<string, KnownAgent> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new ValidationError(this.file, '', cannotRead(e));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError(this.file, '', 'is not JSON; fix it, or remove it and pin the agents again');
    }
    const agents = (parsed as { agents?: unknown })?.agents;
    if (typeof agents !== 'object' || agents === null || Array.isArray(agents))
      throw new ValidationError(this.file, 'agents', 'expected an object of HOST:PORT -> {fingerprint, certificate}');
    const out: Record<string, KnownAgent> = Object.create(null);
    for (const [k, v] of Object.entries(agents as Record<string, KnownAgent>)) {
      if (typeof v?.fingerprint !== 'string' || typeof v?.certificate !== 'string')
        throw new ValidationError(this.file, `agents.${k}`, 'expected {fingerprint, certificate}');
      out[k] = v;
    }
    return out;
  }
}
