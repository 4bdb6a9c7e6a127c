// ~/.ssh/config read the way OpenSSH reads it (ssh_config(5), checked against `ssh -G` by a
// differential test): Include (globs; relative paths from ~/.ssh; nested, at most 16 deep; inside a
// Host or Match block only when that block applies), Host patterns with `!` negation, Match host /
// originalhost / user / localuser / all / final, the first value obtained wins, IdentityFile
// accumulates, HostName's %h. `Match exec` is never run (it would execute a command from the file):
// such a block does not apply, and the config says so in `warnings`. Keywords Fleet does not use are
// read and ignored; quoting and `key=value` as ssh accepts them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ValidationError } from '../errors';
import { glob } from './includeGlob';
import { parseConfigLines, type Line } from './sshConfigSyntax';

/** what resolution needs of this machine (injected in tests, and for other platforms) */
export interface LocalContext {
  home: string;
  localUser: string;
  localHost: string;
}

export function localContext(): LocalContext {
  let user = process.env.USER ?? 'root';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: the environment's name
  }
  return { home: homedir(), localUser: user, localHost: hostname() };
}

/** a host's settings, as `ssh -G` reports them (tokens in IdentityFile and ProxyCommand not yet expanded) */
export interface ResolvedSsh {
  /** the name that was asked for */
  host: string;
  hostname: string;
  user: string;
  port: number;
  /** command-line identities first, then the config's; OpenSSH's default list when neither names one */
  identityFiles: string[];
  /** the config or the command line named identity files (else the defaults, which may be absent) */
  identityFilesGiven: boolean;
  identitiesOnly: boolean;
  proxyJump?: string;
  proxyCommand?: string;
  connectTimeoutSecs?: number;
  serverAliveIntervalSecs: number;
  hostKeyAlias?: string;
}

export interface CommandLine {
  user?: string;
  port?: number;
  identityFiles?: readonly string[];
}

const defaultIdentities = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];
const maxIncludeDepth = 16;
const accumulating = new Set(['identityfile']);

export class SshConfig {
  /** things the config does that Fleet will not (Match exec), once each */
  readonly warnings: string[] = [];
  private readonly parsed = new Map<string, Line[]>();

  private constructor(
    readonly file: string | null,
    private readonly local: LocalContext,
    text?: string,
  ) {
    if (file && text !== undefined) this.parsed.set(file, parseConfigLines(text, file));
  }

  static defaultPath(home = homedir()): string {
    return join(home, '.ssh', 'config');
  }

  /** the user's config (or `file`); a missing file is an empty config, an unreadable one a ValidationError */
  static load(file?: string, local: LocalContext = localContext()): SshConfig {
    const f = file ?? SshConfig.defaultPath(local.home);
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new SshConfig(null, local);
      throw new ValidationError(f, '', `cannot read: ${(e as Error).message}`);
    }
    return new SshConfig(f, local, text);
  }

  /** a config from text (tests; Include still reads files) */
  static parse(text: string, file = '<ssh config>', local: LocalContext = localContext()): SshConfig {
    return new SshConfig(file, local, text);
  }

  /** the settings for `host` as OpenSSH would use them, with the command line's values first */
  resolve(host: string, cmd: CommandLine = {}): ResolvedSsh {
    const st: Record<string, string | string[]> = Object.create(null);
    if (cmd.user) st.user = cmd.user;
    if (cmd.port) st.port = String(cmd.port);
    let finalWanted = false;
    const evalPass = (final: boolean) => {
      if (!this.file) return;
      const ctx: MatchContext = {
        host,
        original: host,
        final,
        local: this.local,
        wantFinal: () => (finalWanted = true),
      };
      this.evaluate(this.lines(this.file), ctx, st, 0, true);
    };
    evalPass(false);
    if (finalWanted) evalPass(true);
    const one = (k: string) => st[k] as string | undefined;
    const port = one('port');
    if (port !== undefined && !/^\d{1,5}$/.test(port))
      throw new ValidationError(
        this.file ?? '',
        `Host ${host}: Port`,
        `expected a number, got ${JSON.stringify(port)}`,
      );
    const cmdIds = cmd.identityFiles ?? [];
    const cfgIds = (st.identityfile as string[] | undefined) ?? [];
    const given = cmdIds.length + cfgIds.length > 0;
    const ids = given ? dedupe([...cmdIds, ...cfgIds]) : defaultIdentities.map((n) => `~/.ssh/${n}`);
    const secs = (k: string) => {
      const v = one(k);
      return v === undefined || v === 'none' ? undefined : Number(v);
    };
    const jump = one('proxyjump');
    const command = one('proxycommand');
    return {
      host,
      hostname: hostnameOf(st, host),
      user: one('user') ?? this.local.localUser,
      port: port === undefined ? 22 : Number(port),
      identityFiles: ids,
      identityFilesGiven: given,
      identitiesOnly: yes(one('identitiesonly')),
      proxyJump: jump && jump !== 'none' ? jump : undefined,
      proxyCommand: command && command !== 'none' ? command : undefined,
      connectTimeoutSecs: secs('connecttimeout'),
      serverAliveIntervalSecs: secs('serveraliveinterval') ?? 0,
      hostKeyAlias: one('hostkeyalias'),
    };
  }

  /** every concrete Host name (no wildcard, no negation) in the file and the files it includes */
  aliases(): string[] {
    if (!this.file) return [];
    const out: string[] = [];
    const walk = (lines: Line[], depth: number) => {
      for (const l of lines) {
        if (l.keyword === 'host') out.push(...l.args.filter((a) => !/[*?!]/.test(a)));
        if (l.keyword === 'include' && depth < maxIncludeDepth)
          for (const f of this.includes(l)) walk(this.lines(f), depth + 1);
      }
    };
    walk(this.lines(this.file), 0);
    return [...new Set(out)];
  }

  private lines(file: string): Line[] {
    let lines = this.parsed.get(file);
    if (!lines) {
      lines = parseConfigLines(readFileSync(file, 'utf8'), file);
      this.parsed.set(file, lines);
    }
    return lines;
  }

  /** the files an Include line names: ~ expanded, relative to ~/.ssh, globbed and sorted */
  private includes(l: Line): string[] {
    return l.args.flatMap((arg) => {
      const p = arg.startsWith('~/')
        ? join(this.local.home, arg.slice(2))
        : isAbsolute(arg)
          ? arg
          : join(this.local.home, '.ssh', arg);
      return glob(p);
    });
  }

  private evaluate(
    lines: Line[],
    ctx: MatchContext,
    st: Record<string, string | string[]>,
    depth: number,
    outer: boolean,
  ): void {
    let active = outer;
    for (const l of lines) {
      switch (l.keyword) {
        case 'host':
          active = hostMatches(l.args, ctx.host);
          break;
        case 'match':
          active = this.matchLine(l, ctx, st);
          break;
        case 'include':
          if (!active) break;
          if (depth + 1 > maxIncludeDepth)
            throw new ValidationError(
              l.file,
              `line ${l.lineNo}: Include`,
              `more than ${maxIncludeDepth} nested Includes (a loop?)`,
            );
          for (const f of this.includes(l)) this.evaluate(this.lines(f), ctx, st, depth + 1, true);
          break;
        default:
          if (!active || l.args.length === 0) break;
          if (accumulating.has(l.keyword)) {
            st[l.keyword] = [...((st[l.keyword] as string[] | undefined) ?? []), ...l.args.slice(0, 1)];
          } else if (l.keyword === 'proxycommand' || l.keyword === 'proxyjump') {
            // one slot: whichever comes first wins (ProxyJump none does not take it from a ProxyCommand)
            const taken = st.proxycommand !== undefined || (st.proxyjump !== undefined && st.proxyjump !== 'none');
            if (!taken && st[l.keyword] === undefined)
              st[l.keyword] = l.keyword === 'proxycommand' ? l.args.join(' ') : l.args[0];
          } else if (st[l.keyword] === undefined) st[l.keyword] = l.args[0];
      }
    }
  }

  private matchLine(l: Line, ctx: MatchContext, st: Record<string, string | string[]>): boolean {
    const a = l.args;
    let result = true;
    for (let i = 0; i < a.length; i++) {
      let crit = a[i].toLowerCase();
      const negate = crit.startsWith('!');
      if (negate) crit = crit.slice(1);
      let hit: boolean;
      switch (crit) {
        case 'all':
          hit = true;
          break;
        case 'canonical':
          hit = false; // Fleet does not canonicalize host names (CanonicalizeHostname)
          break;
        case 'final':
          ctx.wantFinal();
          hit = ctx.final;
          break;
        case 'exec':
          i++;
          this.warn(
            `${l.file} line ${l.lineNo}: Match exec is not run by Fleet (it would execute a command from the config); that block is skipped`,
          );
          return false;
        case 'host':
          hit = patternList(a[++i] ?? '', hostnameOf(st, ctx.host));
          break;
        case 'originalhost':
          hit = patternList(a[++i] ?? '', ctx.original);
          break;
        case 'user':
          hit = patternList(a[++i] ?? '', (st.user as string | undefined) ?? ctx.local.localUser);
          break;
        case 'localuser':
          hit = patternList(a[++i] ?? '', ctx.local.localUser);
          break;
        default:
          this.warn(`${l.file} line ${l.lineNo}: Match ${crit} is not supported by Fleet; that block is skipped`);
          return false;
      }
      if (hit === negate) result = false;
    }
    return result;
  }

  private warn(w: string): void {
    if (!this.warnings.includes(w)) this.warnings.push(w);
  }
}

interface MatchContext {
  host: string;
  original: string;
  final: boolean;
  local: LocalContext;
  wantFinal: () => void;
}

function hostnameOf(st: Record<string, string | string[]>, host: string): string {
  const h = st.hostname as string | undefined;
  return h === undefined ? host.toLowerCase() : h.replace(/%(%|h)/g, (_, k: string) => (k === '%' ? '%' : host));
}

function yes(v: string | undefined): boolean {
  return v !== undefined && /^(yes|true)$/i.test(v);
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Host: any positive pattern matches and no negated one does */
function hostMatches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), host)) return false;
    } else if (wildcard(p, host)) hit = true;
  }
  return hit;
}

/** a comma-separated pattern list (Match): the same rule as Host */
function patternList(list: string, value: string): boolean {
  return hostMatches(list.split(','), value);
}

function wildcard(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(s);
}

/**
 * OpenSSH's % tokens for IdentityFile (and ~): %% %d (home) %h (remote host name) %i (uid) %L (short
 * local host name) %l (local host name) %n (the host as asked for) %p (port) %r (remote user) %u
 * (local user) %C (a hash of %l%h%p%r); ProxyCommand takes %h %n %p %r.
 */
export function expandTokens(
  value: string,
  r: Pick<ResolvedSsh, 'host' | 'hostname' | 'port' | 'user'>,
  local: LocalContext = localContext(),
): string {
  const withHome = value.replace(/^~(?=\/|$)/, local.home);
  return withHome.replace(/%(.)/g, (all, k: string) => {
    switch (k) {
      case '%':
        return '%';
      case 'd':
        return local.home;
      case 'h':
        return r.hostname;
      case 'i':
        return String(process.getuid?.() ?? 0);
      case 'L':
        return local.localHost.split('.')[0];
      case 'l':
        return local.localHost;
      case 'n':
        return r.host;
      case 'p':
        return String(r.port);
      case 'r':
        return r.user;
      case 'u':
        return local.localUser;
      case 'C':
        return createHash('sha1').update(`${local.localHost}${r.hostname}${r.port}${r.user}`).digest('hex');
      default:
        return all;
    }
  });
}
