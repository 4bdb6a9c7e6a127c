// Credentials for SSH, tried in this order: the ssh-agent (SSH_AUTH_SOCK), the identity files
// (explicit ones, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa), then password or keyboard-interactive
// when the front end supplies a way to ask. Keys are read and parsed once per run and shared by
// every connection. Secrets never reach argv or logs; passphrases come from a prompt callback.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { utils, type AnyAuthMethod, type AuthHandlerMiddleware, type ParsedKey } from 'ssh2';
import { ValidationError } from '../errors';

export interface SecretPrompt {
  /** asks for a secret without echo; resolves undefined when the user declines */
  (question: string): Promise<string | undefined>;
}

export interface AuthOptions {
  /** socket of ssh-agent; default SSH_AUTH_SOCK; '' disables the agent */
  agentSocket?: string;
  /** asks for key passphrases (a TTY prompt without echo, or the extension's password box) */
  passphrase?: SecretPrompt;
  /**
   * supplies a password for password and keyboard-interactive auth; absent means not tried. `role`
   * says whether the host is the one asked for or a jump host on the way (a password meant for the
   * target must never go to a jump host).
   */
  password?: (user: string, host: string, role: 'target' | 'jump') => Promise<string | undefined>;
}

const defaultKeyNames = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class KeyStore {
  private readonly cache = new Map<string, Promise<ParsedKey | null>>();

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
        `cannot read private key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; check the path given to --identity or IdentityFile`,
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
    return key;
  }

  /** the key-based methods for one connection, in order: ssh-agent, then identity files */
  async methods(user: string, host: string, identityFiles: readonly string[]): Promise<AnyAuthMethod[]> {
    void host;
    const methods: AnyAuthMethod[] = [];
    const sock = this.opts.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
    if (sock && existsSync(sock)) methods.push({ type: 'agent', username: user, agent: sock });
    const explicit = identityFiles.length > 0;
    const files = explicit ? identityFiles : defaultKeyNames.map((n) => join(homedir(), '.ssh', n));
    for (const f of files) {
      const key = await this.load(f, explicit);
      if (key) methods.push({ type: 'publickey', username: user, key });
    }
    return methods;
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
