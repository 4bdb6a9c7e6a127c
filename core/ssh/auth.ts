// Credentials for SSH, tried in this order: the ssh-agent (the host's IdentityAgent, else
// SSH_AUTH_SOCK; not with IdentitiesOnly),
// the identity files (those named on the command line or in the inventory, which must be readable;
// then ssh_config's, skipped when missing as ssh skips them; with neither, ~/.ssh/id_ed25519,
// id_ecdsa, id_rsa), then password or keyboard-interactive when the front end supplies a way to ask.
// Keys are read and parsed once per run and shared by every connection. Secrets never reach argv or
// logs; passphrases come from a prompt callback. User certificates (certAuth.ts): those ssh-agent
// holds, `<identity>-cert.pub` beside an identity file and ssh_config's CertificateFile, each
// offered before its plain key.
import { advice } from '../advice';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { utils, type AnyAuthMethod, type AuthHandlerMiddleware, type ParsedKey } from 'ssh2';
import { ValidationError } from '../errors';
import {
  agentCertificates,
  agentIdentities,
  certAsKey,
  CertFileAgent,
  readCertificateFile,
  type UserCert,
} from './certAuth';
import type { SshEndpoint } from './endpoint';
import { signWithKeyObject } from './keyObjectSign';
import { certifiedKey } from './ssh2Certs';
import type { SshCertificate } from './sshCert';

/** an endpoint as auth reads it; `certificateFiles` is ssh_config's CertificateFile (tokens expanded) */
export type AuthEndpoint = Pick<SshEndpoint, 'user' | 'identityFiles' | 'optionalIdentityFiles' | 'identitiesOnly'> & {
  certificateFiles?: string[];
  /** ssh_config's IdentityAgent: a socket, `none`, `SSH_AUTH_SOCK`, or `$NAME` (the socket in that variable) */
  identityAgent?: string;
};

export interface SecretPrompt {
  /** asks for a secret without echo; resolves undefined when the user declines */
  (question: string): Promise<string | undefined>;
}

export interface AuthOptions {
  /**
   * socket of ssh-agent, standing for SSH_AUTH_SOCK (a host's IdentityAgent wins); default SSH_AUTH_SOCK; '' disables
   * the agent
   */
  agentSocket?: string;
  /** the environment IdentityAgent's `$NAME` is read from (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** asks for key passphrases (a TTY prompt without echo, or the extension's password box) */
  passphrase?: SecretPrompt;
  /**
   * supplies a password for password and keyboard-interactive auth; absent means not tried. `role`
   * says whether the host is the one asked for or a jump host on the way (a password meant for the
   * target must never go to a jump host).
   */
  password?: (user: string, host: string, role: 'target' | 'jump') => Promise<string | undefined>;
  /** debug notes (a missing IdentityFile skipped), as ssh -v would print them */
  debug?: (message: string) => void;
}

const defaultKeyNames = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class KeyStore {
  private readonly cache = new Map<string, Promise<ParsedKey | null>>();
  /** certificate files read (null: absent; an Error: unreadable), by path */
  private readonly certs = new Map<string, SshCertificate | null | Error>();
  /** the certificates each endpoint's last methods() found, for failure advice (by user + files) */
  private readonly found = new Map<string, UserCert[]>();

  constructor(private readonly opts: AuthOptions = {}) {}

  /** the private key in `file`, parsed; null for a default key that is absent */
  load(file: string, explicit: boolean): Promise<ParsedKey | null> {
    let p = this.cache.get(file);
    if (!p) {
      p = this.read(file, explicit);
      this.cache.set(file, p);
    }
    return p;
  }

  private async read(file: string, explicit: boolean): Promise<ParsedKey | null> {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ValidationError(
        file,
        '',
        `cannot read private key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; ${advice().identityPath}`,
      );
    }
    let parsed = utils.parseKey(data);
    if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
      const pass = this.opts.passphrase ? await this.opts.passphrase(`Passphrase for ${file}: `) : undefined;
      if (pass === undefined)
        throw new ValidationError(
          file,
          '',
          'private key is encrypted and no passphrase can be asked (no terminal); load it into ssh-agent with ssh-add',
        );
      parsed = utils.parseKey(data, pass);
      if (parsed instanceof Error) throw new ValidationError(file, '', 'wrong passphrase for private key');
    }
    if (parsed instanceof Error)
      throw new ValidationError(file, '', `not a private key ssh2 can use: ${parsed.message}`);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key) throw new ValidationError(file, '', 'no private key found in the file');
    signWithKeyObject(key);
    return key;
  }

  /**
   * The ssh-agent to ask for `ep`, as ssh chooses it: its IdentityAgent (`none`: no agent; a path, ~
   * and tokens expanded by the reader; `$NAME`: the socket that variable names; `SSH_AUTH_SOCK`: as
   * without it), else AuthOptions.agentSocket, else defaultAgent(). A socket that does not exist is no
   * agent, as for ssh (FLEET_DEBUG says so).
   */
  private agent(ep?: Pick<AuthEndpoint, 'identityAgent'>): string | undefined {
    const ia = ep?.identityAgent;
    if (ia === undefined || ia === 'SSH_AUTH_SOCK')
      return this.opts.agentSocket === undefined ? defaultAgent(this.opts.env) : this.opts.agentSocket || undefined;
    if (ia === 'none') return undefined;
    // ssh's legacy form: `$NAME` alone names the variable holding the socket (unset: no agent)
    const sock = /^\$[A-Za-z0-9_]+$/.test(ia) ? (this.opts.env ?? process.env)[ia.slice(1)] : ia;
    if (!sock) return undefined;
    if (process.platform !== 'win32' && !existsSync(sock)) {
      this.opts.debug?.(`IdentityAgent ${sock} does not exist; no ssh-agent is asked, as ssh asks none`);
      return undefined;
    }
    return sock;
  }

  private cert(file: string): SshCertificate | null | Error {
    if (!this.certs.has(file)) this.certs.set(file, readCertificateFile(file));
    return this.certs.get(file)!;
  }

  /**
   * The key-based methods for one connection, in order: ssh-agent (with the certificates it
   * holds), certificates from files whose key only ssh-agent holds, then identity files, each
   * one's certificate before its plain key.
   */
  async methods(ep: AuthEndpoint): Promise<AnyAuthMethod[]> {
    const methods: AnyAuthMethod[] = [];
    const certs: UserCert[] = [];
    const agent = this.agent(ep);
    // IdentitiesOnly: the files' keys only (ssh would still use the agent for those same keys; Fleet reads the files)
    if (agent && !ep.identitiesOnly) methods.push({ type: 'agent', username: ep.user, agent });
    const optional = ep.optionalIdentityFiles ?? [];
    const named = ep.identityFiles.length + optional.length > 0;
    const files: Array<[string, boolean]> = named
      ? [
          ...ep.identityFiles.map((f) => [f, true] as [string, boolean]),
          ...optional.map((f) => [f, false] as [string, boolean]),
        ]
      : defaultKeyNames.map((n) => [join(homedir(), '.ssh', n), false]);
    // CertificateFile entries, and <identity>-cert.pub beside each identity file (as ssh finds them)
    const certFiles: Array<[string, SshCertificate]> = [];
    const wanted = [...(ep.certificateFiles ?? []), ...files.map(([f]) => `${f}-cert.pub`)];
    for (const f of new Set(wanted)) {
      const c = this.cert(f);
      if (c instanceof Error) this.opts.debug?.(`certificate ${c.message}; skipped`);
      else if (c === null && ep.certificateFiles?.includes(f))
        this.opts.debug?.(`certificate file ${f} does not exist; skipped, as ssh skips it`);
      else if (c) certFiles.push([f, c]);
    }
    const used = new Set<SshCertificate>();
    const seen = new Set<string>();
    const fileMethods: AnyAuthMethod[] = [];
    for (const [f, required] of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      const key = await this.load(f, required);
      if (!key) {
        if (named) this.opts.debug?.(`identity file ${f} does not exist; skipped, as ssh skips it`);
        continue;
      }
      const pub = key.getPublicSSH();
      for (const [cf, c] of certFiles) {
        if (used.has(c) || !c.publicKey.equals(pub)) continue;
        used.add(c);
        certs.push({ source: cf, cert: c });
        fileMethods.push({ type: 'publickey', username: ep.user, key: certifiedKey(key, c.type, c.blob, cf) });
      }
      fileMethods.push({ type: 'publickey', username: ep.user, key });
    }
    // certificates whose private key is in no identity file: ssh-agent may hold it
    const rest = certFiles.filter(([, c]) => !used.has(c));
    const held = rest.length && agent ? await agentIdentities(agent) : [];
    const pairs: Array<{ cert: ParsedKey; plain: ParsedKey }> = [];
    for (const [cf, c] of rest) {
      const plain = held.find((k) => k.getPublicSSH().equals(c.publicKey));
      const asKey = plain && certAsKey(c);
      if (plain && asKey) {
        pairs.push({ cert: asKey, plain });
        certs.push({ source: cf, cert: c });
      } else
        certs.push({
          source: cf,
          cert: c,
          notOffered: `its private key is in no identity file${agent ? ' and not in ssh-agent' : ' and no ssh-agent runs'}; add the key with ssh-add, or name it with IdentityFile`,
        });
    }
    if (pairs.length && agent)
      methods.push({ type: 'agent', username: ep.user, agent: new CertFileAgent(agent, pairs) });
    methods.push(...fileMethods);
    this.found.set(foundKey(ep), certs);
    return methods;
  }

  /**
   * The certificates a connection as `ep` had (files, and those ssh-agent holds), for the advice
   * given when its authentication failed.
   */
  async certificates(ep: AuthEndpoint): Promise<UserCert[]> {
    const agent = this.agent(ep);
    const inAgent = agent && !ep.identitiesOnly ? agentCertificates(await agentIdentities(agent)) : [];
    return [...inAgent, ...(this.found.get(foundKey(ep)) ?? [])];
  }

  /**
   * ssh2's authHandler: the key-based methods first, then, only if they all failed and the server
   * takes passwords, a password asked for then (a file, a prompt, the extension's secret storage)
   * for both password and keyboard-interactive auth. Nobody is asked for a password a key made
   * unnecessary.
   */
  handler(
    user: string,
    host: string,
    keyMethods: AnyAuthMethod[],
    role: 'target' | 'jump' = 'target',
  ): { handler: AuthHandlerMiddleware; tried: () => string[] } {
    const queue = [...keyMethods];
    const tried = new Set<string>();
    let asked = false;
    const handler: AuthHandlerMiddleware = (left, _partial, next) => {
      const m = queue.shift();
      if (m) {
        tried.add(m.type);
        return m as never;
      }
      const ask = this.opts.password;
      const offered = left === null || left.includes('password') || left.includes('keyboard-interactive');
      if (!ask || asked || !offered) return false as never;
      asked = true;
      ask(user, host, role).then(
        (pw) => {
          if (pw === undefined) return next(false as never);
          queue.push(
            { type: 'password', username: user, password: pw },
            {
              type: 'keyboard-interactive',
              username: user,
              prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => pw)),
            },
          );
          const first = queue.shift()!;
          tried.add(first.type);
          next(first);
        },
        () => next(false as never),
      );
      return undefined as never;
    };
    return { handler, tried: () => [...tried] };
  }
}

function foundKey(ep: AuthEndpoint): string {
  return JSON.stringify([
    ep.user,
    ep.identityFiles,
    ep.optionalIdentityFiles,
    ep.certificateFiles,
    ep.identitiesOnly,
    ep.identityAgent,
  ]);
}

/**
 * The ssh-agent of this machine: SSH_AUTH_SOCK when it names a socket (or a pipe); on Windows,
 * without it, the OpenSSH agent's pipe when that service runs, else Pageant (ssh2 speaks both).
 */
export function defaultAgent(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  exists: (p: string) => boolean = existsSync,
): string | undefined {
  const sock = env.SSH_AUTH_SOCK;
  if (sock) return exists(sock) ? sock : undefined;
  if (platform !== 'win32') return undefined;
  const pipe = '\\\\.\\pipe\\openssh-ssh-agent';
  return exists(pipe) ? pipe : 'pageant';
}
