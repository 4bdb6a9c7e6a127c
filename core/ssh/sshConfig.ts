// Reads ~/.ssh/config with the ssh-config package and computes a host's settings the way
// OpenSSH does (first value wins). `Match exec` is never run: it would execute a shell command.
// Include is not followed (a limit of ssh-config); `ssh -G HOST` shows OpenSSH's own answer.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ValidationError } from '../errors';

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

export class SshConfigFile {
  private constructor(
    readonly file: string,
    private readonly parsed: SSHConfig | null,
  ) {}

  static defaultPath(): string {
    return join(homedir(), '.ssh', 'config');
  }

  /** loads the file; a missing file is an empty config, an unreadable or malformed one a ValidationError */
  static load(file = SshConfigFile.defaultPath()): SshConfigFile {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new SshConfigFile(file, null);
      throw new ValidationError(file, '', `cannot read: ${(e as Error).message}`);
    }
    return SshConfigFile.parse(text, file);
  }

  static parse(text: string, file = '<ssh config>'): SshConfigFile {
    try {
      return new SshConfigFile(file, SSHConfig.parse(text));
    } catch (e) {
      throw new ValidationError(file, '', `not a valid ssh_config: ${(e as Error).message}`);
    }
  }

  /** the settings for `alias`; fields absent from the file are undefined */
  lookup(alias: string): SshHostConfig {
    if (!this.parsed) return { identityFiles: [] };
    const c = this.parsed.compute(alias, { matchExec: false, ignoreCase: true }) as Record<
      string,
      string | string[] | undefined
    >;
    const one = (k: string) => {
      const v = c[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const port = one('port');
    if (port !== undefined && !/^\d+$/.test(port))
      throw new ValidationError(this.file, `Host ${alias}: Port`, `expected a number, got ${JSON.stringify(port)}`);
    const files = c['identityfile'];
    const proxyJump = one('proxyjump');
    return {
      hostName: one('hostname'),
      user: one('user'),
      port: port === undefined ? undefined : Number(port),
      identityFiles: files === undefined ? [] : Array.isArray(files) ? files : [files],
      proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : undefined,
    };
  }

  /** every concrete (wildcard-free) Host alias in the file, for the extension's host list */
  aliases(): string[] {
    if (!this.parsed) return [];
    const out: string[] = [];
    for (const line of this.parsed) {
      if ('param' in line && line.param.toLowerCase() === 'host') {
        const values = Array.isArray(line.value) ? line.value : String(line.value).split(/\s+/);
        for (const v of values) {
          const name = typeof v === 'string' ? v : v.val;
          if (name && !/[*?!]/.test(name)) out.push(name);
        }
      }
    }
    return out;
  }
}

/** expands OpenSSH tokens in IdentityFile and HostName: ~, %d, %u, %h, %r, %% */
export function expandTokens(value: string, t: { host: string; remoteUser: string }): string {
  const home = homedir();
  const localUser = process.env.USER ?? 'root';
  const expanded = value.replace(/^~(?=\/|$)/, home);
  return expanded.replace(/%([%dhur])/g, (_, k: string) =>
    k === '%' ? '%' : k === 'd' ? home : k === 'h' ? t.host : k === 'u' ? localUser : t.remoteUser,
  );
}
