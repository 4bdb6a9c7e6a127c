// ssh_config read the way OpenSSH 9.2 reads it, held to `ssh -G` by a differential test over a corpus
// of configs (test/fixtures/sshConfig/): ~/.ssh/config, then the system's /etc/ssh/ssh_config (or one
// file, as `ssh -F`); every line checked as ssh checks it, in blocks that do not apply too, a bad one
// refused with its file and line; Include (globs, relative to ~/.ssh, nested 16 deep, the files of a
// block that does not apply read but never applied); Host (case as given) and Match host, originalhost,
// user, localuser, all, canonical, final (a second pass against the final host name); the first value
// obtained wins; IdentityFile and CertificateFile accumulate. `Match exec` is never run. Keywords are
// read by sshConfigKeywords.ts; what Fleet honours and refuses is sshConfigPolicy.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ValidationError } from '../errors';
import { glob } from './includeGlob';
import { keywords, readLine, storedAs, type Parsed } from './sshConfigKeywords';
import { evalMatch, hostLineMatches, matchPatternList } from './sshConfigMatch';
import { notActedOn, refusals } from './sshConfigPolicy';
import { parseConfigLines, type Line } from './sshConfigSyntax';
import {
  clientTokens,
  originError,
  percentExpand,
  tildeExpand,
  type LocalContext,
  type Origin,
} from './sshConfigTokens';
import { finalHostName, parseJumpList, type UserHostPort } from './sshConfigValues';

export type { LocalContext, Origin } from './sshConfigTokens';
export { expandTokens } from './sshConfigTokens';

export function localContext(): LocalContext {
  let user = process.env.USER ?? 'root';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: the environment's name
  }
  return { home: homedir(), localUser: user, localHost: hostname() };
}

/** a host's settings, as `ssh -G` reports them (IdentityFile, CertificateFile, ProxyCommand unexpanded) */
export interface ResolvedSsh {
  /** the name that was asked for */
  host: string;
  /** the name connected to: HostName's, lower-cased (an address in its canonical form) */
  hostname: string;
  user: string;
  port: number;
  /** command-line identities first, then the config's; OpenSSH's default list when neither names one */
  identityFiles: string[];
  /** the config or the command line named identity files (else the defaults, which may be absent) */
  identityFilesGiven: boolean;
  certificateFiles: string[];
  identitiesOnly: boolean;
  /** ProxyJump as ssh -G prints it */
  proxyJump?: string;
  /** its hops, in the order they are connected */
  jumpHops?: UserHostPort[];
  proxyCommand?: string;
  connectTimeoutSecs?: number;
  serverAliveIntervalSecs: number;
  serverAliveCountMax: number;
  connectionAttempts: number;
  /** lower-cased, as ssh uses it */
  hostKeyAlias?: string;
  /** as ssh -G prints it: true (yes), false (no, off), ask, accept-new */
  strictHostKeyChecking: 'true' | 'false' | 'ask' | 'accept-new';
  /** ~, tokens and ${VAR} expanded ("none" alone: no file) */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** ~, tokens and ${VAR} expanded; "none" and "SSH_AUTH_SOCK" as they are */
  identityAgent?: string;
  canonicalizeHostname: string;
  /** where the values came from, by keyword, for messages (IdentityFile: each file's) */
  origins: Record<string, Origin>;
  identityOrigins: Origin[];
  certificateOrigins: Origin[];
}

export interface CommandLine {
  user?: string;
  port?: number;
  identityFiles?: readonly string[];
  /** a ProxyJump list (`--jump`, as ssh -J) */
  jump?: string;
}

const defaultIdentities = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];
const maxIncludeDepth = 16;
const systemConfig =
  process.platform === 'win32'
    ? join(process.env.ProgramData ?? 'C:\\ProgramData', 'ssh', 'ssh_config')
    : '/etc/ssh/ssh_config';
const systemDir = process.platform === 'win32' ? join(process.env.ProgramData ?? 'C:\\ProgramData', 'ssh') : '/etc/ssh';

interface Source {
  file: string;
  /** a user's config: `~` in Include, relative Includes from ~/.ssh */
  user: boolean;
  /** ssh checks the owner and mode of ~/.ssh/config and of included files, not of `-F`'s file */
  checkPerm: boolean;
}

type Entry = { value: string; origin: Origin };
interface Store {
  one: Map<string, Entry>;
  lists: Map<string, { values: string[]; origin: Origin }>;
  /** IdentityFile, CertificateFile: value, and whether the user gave it (command line, user config) */
  add: Map<string, Array<{ value: string; user: boolean; origin: Origin }>>;
  wantFinal: boolean;
}

export class SshConfig {
  /** things the config does that Fleet will not (Match exec), once each */
  readonly warnings: string[] = [];
  private readonly parsed = new Map<string, Line[] | null>();
  private readonly resolved = new Map<string, ResolvedSsh>();

  private constructor(
    private readonly sources: Source[],
    private readonly local: LocalContext,
  ) {}

  static defaultPath(home = homedir()): string {
    return join(home, '.ssh', 'config');
  }

  /**
   * `file` alone (as ssh -F), else ~/.ssh/config and then the system's ssh_config, as ssh reads them;
   * a missing file is an empty one. A config ssh would refuse for any host (a bad line anywhere, in any
   * file it includes) is refused here, with the file and line, as ssh refuses it before connecting.
   */
  static load(file?: string, local: LocalContext = localContext(), system = systemConfig): SshConfig {
    const sources: Source[] = file
      ? [{ file, user: true, checkPerm: false }]
      : [
          { file: SshConfig.defaultPath(local.home), user: true, checkPerm: true },
          { file: system, user: false, checkPerm: false },
        ];
    const config = new SshConfig(sources, local);
    config.check();
    return config;
  }

  /**
   * Every line of every file, in no block that applies: what ssh refuses whatever the host (an unknown
   * keyword that an IgnoreUnknown before it may cover waits for resolve, which knows whether one applies).
   */
  private check(): void {
    const st: Store = { one: new Map(), lists: new Map(), add: new Map(), wantFinal: false };
    const ctx = { hostForHost: '', original: '', finalPass: false, checkOnly: [] as string[] };
    for (const src of this.sources) {
      const lines = this.lines(src.file, src.checkPerm);
      if (lines) this.evaluate(lines, src, st, ctx, { active: false }, true, 0);
    }
  }

  /** a config from text (tests; Include still reads files) */
  static parse(text: string, file = '<ssh config>', local: LocalContext = localContext()): SshConfig {
    const c = new SshConfig([{ file, user: true, checkPerm: false }], local);
    c.parsed.set(file, parseConfigLines(text, file));
    return c;
  }

  /** the settings for `host` as OpenSSH would use them, with the command line's values first */
  resolve(host: string, cmd: CommandLine = {}): ResolvedSsh {
    // the same jump host for a thousand targets is resolved once
    const key = JSON.stringify([host, cmd.user, cmd.port, cmd.identityFiles, cmd.jump]);
    let r = this.resolved.get(key);
    if (!r) this.resolved.set(key, (r = this.resolveUncached(host, cmd)));
    return r;
  }

  private resolveUncached(host: string, cmd: CommandLine): ResolvedSsh {
    const st: Store = { one: new Map(), lists: new Map(), add: new Map(), wantFinal: false };
    const cli: Origin = { file: 'the command line', lineNo: 0, keyword: '' };
    if (cmd.user) st.one.set('user', { value: cmd.user, origin: { ...cli, keyword: 'user' } });
    if (cmd.port) st.one.set('port', { value: String(cmd.port), origin: { ...cli, keyword: 'port' } });
    for (const f of cmd.identityFiles ?? []) {
      // as ssh -i: ~ expanded, and a file that is not there left out with a warning
      const path = tildeExpand(f, this.local, { ...cli, keyword: 'identity' });
      if (existsSync(path)) addFile(st, 'identityfile', path, true, { ...cli, keyword: 'identity' });
      else this.warn(`identity file ${path} not accessible; left out, as ssh -i leaves it out`);
    }
    if (cmd.jump) {
      if (!parseJumpList(cmd.jump))
        throw new ValidationError('--jump', '', `invalid jump host list ${JSON.stringify(cmd.jump)}`);
      st.one.set('proxyjump', { value: cmd.jump, origin: { ...cli, keyword: 'jump' } });
      st.one.set('proxycommand', { value: 'none', origin: { ...cli, keyword: 'jump' } });
    }
    this.pass(st, host, host, false);
    let final = st.one.get('hostname') ? expandHostName(st.one.get('hostname')!, host) : host;
    final = finalHostName(final);
    if (st.wantFinal) {
      st.one.set('hostname', {
        value: final,
        origin: st.one.get('hostname')?.origin ?? { ...cli, keyword: 'hostname' },
      });
      this.pass(st, final, host, true);
    }
    return this.result(st, host, final);
  }

  /** every concrete Host name (no wildcard, no negation) in the files and the files they include */
  aliases(): string[] {
    const out: string[] = [];
    const walk = (src: Source, file: string, depth: number) => {
      for (const l of this.lines(file, depth > 0 || src.checkPerm) ?? []) {
        if (l.keyword === 'host') out.push(...l.args.filter((a) => a && !/[*?!]/.test(a)));
        if (l.keyword === 'include' && depth < maxIncludeDepth)
          for (const f of this.includes(l, src)) walk(src, f, depth + 1);
      }
    };
    for (const s of this.sources.filter((s) => s.user)) walk(s, s.file, 0);
    return [...new Set(out)];
  }

  /** one pass over every source; `hostForHost` is what Host patterns match */
  private pass(st: Store, hostForHost: string, original: string, finalPass: boolean): void {
    for (const src of this.sources) {
      const lines = this.lines(src.file, src.checkPerm);
      if (lines) this.evaluate(lines, src, st, { hostForHost, original, finalPass }, { active: true }, false, 0);
    }
  }

  /** a file's lines (null when it does not exist); ssh's owner and mode check where it makes one */
  private lines(file: string, checkPerm: boolean): Line[] | null {
    if (this.parsed.has(file)) return this.parsed.get(file)!;
    let text: string;
    try {
      if (checkPerm) this.checkPermissions(file);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        this.parsed.set(file, null);
        return null;
      }
      if (code === 'EISDIR') return []; // ssh reads nothing from a directory an Include names
      if (e instanceof ValidationError) throw e;
      throw new ValidationError(file, '', `cannot read: ${(e as Error).message}`);
    }
    const lines = parseConfigLines(text, file);
    this.parsed.set(file, lines);
    return lines;
  }

  private checkPermissions(file: string): void {
    if (process.platform === 'win32') return;
    let s;
    try {
      s = statSync(file);
    } catch {
      return; // read() tells
    }
    const uid = this.local.uid ?? process.getuid?.() ?? 0;
    if ((s.uid !== 0 && s.uid !== uid) || (s.mode & 0o022) !== 0)
      throw new ValidationError(
        file,
        '',
        'bad owner or permissions (ssh refuses a config file others can write, or owned by another user)',
      );
  }

  /** the files an Include line names: ~ expanded, relative to ~/.ssh (or /etc/ssh), globbed and sorted */
  private includes(l: Line, src: Source): string[] {
    return l.args.flatMap((arg) => {
      if (arg.startsWith('~') && !src.user) throw lineError(l, `bad include path ${arg}.`);
      const p = arg.startsWith('~')
        ? arg.replace(/^~(?=\/|$)/, this.local.home)
        : isAbsolute(arg)
          ? arg
          : src.user
            ? join(this.local.home, '.ssh', arg)
            : join(systemDir, arg);
      return glob(p);
    });
  }

  private evaluate(
    lines: Line[],
    src: Source,
    st: Store,
    ctx: {
      hostForHost: string;
      original: string;
      finalPass: boolean;
      /** checking alone: the IgnoreUnknown lists seen so far, in any block */
      checkOnly?: string[];
    },
    frame: { active: boolean },
    neverMatch: boolean,
    depth: number,
  ): void {
    for (const l of lines) {
      const k = l.keyword;
      // most lines are settings in a block that does not apply: checked once (readLine keeps it), skipped
      if (!frame.active && k !== 'host' && k !== 'match' && k !== 'include' && keywords[k]) {
        const r = readLine(l);
        if (typeof r === 'string') throw lineError(l, r);
        if (k === 'ignoreunknown' && r.kind === 'one') ctx.checkOnly?.push(r.value);
        continue;
      }
      if (!keywords[l.keyword]) {
        const ignored = ctx.checkOnly ?? [st.one.get('ignoreunknown')?.value ?? ''];
        if (ignored.some((p) => matchPatternList(l.keyword, p, true) === 1)) continue;
        throw lineError(l, `Bad configuration option: ${l.keyword}`);
      }
      const r = readLine(l);
      if (typeof r === 'string') throw lineError(l, r);
      if (l.keyword === 'ignoreunknown' && r.kind === 'one') ctx.checkOnly?.push(r.value);
      if (l.keyword === 'host') {
        if (l.args.some((a) => a === '')) throw lineError(l, 'keyword host empty argument');
        frame.active = !neverMatch && hostLineMatches(l.args, ctx.hostForHost);
      } else if (l.keyword === 'match') {
        const hostname = st.one.get('hostname');
        const m = evalMatch(l, {
          host: ctx.finalPass ? hostname!.value : hostname ? expandHostName(hostname, ctx.original) : ctx.original,
          original: ctx.original,
          user: st.one.get('user')?.value ?? this.local.localUser,
          local: this.local,
          finalPass: ctx.finalPass,
          wantFinal: () => (st.wantFinal = true),
          warn: (w) => !neverMatch && this.warn(w),
        });
        if ('error' in m) throw lineError(l, `${m.error}; Bad Match condition`);
        frame.active = !neverMatch && m.applies;
      } else if (l.keyword === 'include') {
        if (l.args.some((a) => a === '')) throw lineError(l, 'keyword include empty argument');
        const outer = frame.active;
        for (const f of this.includes(l, src)) {
          if (depth + 1 > maxIncludeDepth) throw lineError(l, `more than ${maxIncludeDepth} nested Includes (a loop?)`);
          const inc = this.lines(f, true);
          if (inc) this.evaluate(inc, src, st, ctx, frame, neverMatch || !outer, depth + 1);
          frame.active = outer; // an included file's Host and Match lines end with it
        }
      } else if (frame.active) apply(st, l, r, src.user);
    }
  }

  private warn(w: string): void {
    if (!this.warnings.includes(w)) this.warnings.push(w);
  }

  private result(st: Store, host: string, hostname: string): ResolvedSsh {
    const one = (k: string) => st.one.get(k)?.value;
    const origins: Record<string, Origin> = {};
    for (const [k, e] of st.one) origins[k] = e.origin;
    for (const [k, e] of st.lists) origins[k] = e.origin;
    for (const [k, v] of Object.entries(refusals)) {
      const e = st.one.get(k);
      const why = e && v(e.value);
      if (why) throw originError(e.origin, why);
    }
    const user = one('user') ?? this.local.localUser;
    const port = Number(one('port') ?? 22);
    const jumpText = one('proxyjump');
    const jump = jumpText && jumpText.toLowerCase() !== 'none' ? parseJumpList(jumpText) : null;
    const proxyCommand = one('proxycommand');
    const ids = st.add.get('identityfile') ?? [];
    const certs = st.add.get('certificatefile') ?? [];
    const attempts = Number(one('connectionattempts') ?? 1);
    if (attempts <= 0)
      throw originError(st.one.get('connectionattempts')!.origin, 'Invalid number of ConnectionAttempts');
    if (jump && typeof jump === 'object') {
      const last = jump.hops[jump.hops.length - 1];
      if (last.host === hostname && (last.port > 0 ? last.port : 22) === port && (last.user ?? user) === user)
        throw originError(st.one.get('proxyjump')!.origin, `jumphost loop via ${last.host}`);
    }
    const alias = one('hostkeyalias')?.toLowerCase();
    const tokens = clientTokens({ host: hostname, original: host, port, user, keyAlias: alias ?? host }, this.local);
    const expandPath = (p: string, o: Origin) =>
      percentExpand(tildeExpand(p, this.local, o), tokens, o, { dollar: true, env: this.local.env });
    const userKh = st.lists.get('userknownhostsfile');
    const userKnownHostsFiles = userKh
      ? userKh.values.map((p) => (p.toLowerCase() === 'none' ? p : expandPath(p, userKh.origin)))
      : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'].map((p) =>
          expandPath(p, { file: 'ssh', lineNo: 0, keyword: 'UserKnownHostsFile' }),
        );
    const agent = st.one.get('identityagent');
    const agentPath = agent && expandPath(agent.value, agent.origin);
    // values carried to the connection that it does not act on yet: said, where they ask for something else
    for (const [k, note] of Object.entries(notActedOn)) {
      const o = origins[k];
      if (!o) continue;
      const values =
        k === 'userknownhostsfile'
          ? userKnownHostsFiles
          : k === 'identityagent'
            ? [agentPath!]
            : (st.lists.get(k)?.values ?? [st.one.get(k)!.value]);
      const why = note(values, this.local.home);
      if (why) this.warn(`${o.file} line ${o.lineNo}: ${o.keyword} is not used by Fleet yet: ${why}`);
    }
    return {
      host,
      hostname,
      user,
      port,
      identityFiles: ids.length ? ids.map((i) => i.value) : defaultIdentities.map((n) => `~/.ssh/${n}`),
      identityFilesGiven: ids.length > 0,
      certificateFiles: certs.map((c) => c.value),
      identitiesOnly: one('identitiesonly') === 'yes',
      proxyJump: jump && typeof jump === 'object' ? jump.display : undefined,
      jumpHops: jump && typeof jump === 'object' ? jump.hops : undefined,
      proxyCommand: !jump && proxyCommand && proxyCommand.toLowerCase() !== 'none' ? proxyCommand : undefined,
      connectTimeoutSecs: one('connecttimeout') === undefined ? undefined : Number(one('connecttimeout')),
      serverAliveIntervalSecs: Number(one('serveraliveinterval') ?? 0),
      serverAliveCountMax: Number(one('serveralivecountmax') ?? 3),
      connectionAttempts: attempts,
      hostKeyAlias: alias,
      strictHostKeyChecking: (one('stricthostkeychecking') ?? 'ask') as ResolvedSsh['strictHostKeyChecking'],
      userKnownHostsFiles,
      globalKnownHostsFiles: st.lists.get('globalknownhostsfile')?.values ?? [
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ],
      identityAgent: agentPath,
      canonicalizeHostname: one('canonicalizehostname') ?? 'false',
      origins,
      identityOrigins: ids.map((i) => i.origin),
      certificateOrigins: certs.map((c) => c.origin),
    };
  }
}

function lineError(l: Line, message: string): ValidationError {
  return new ValidationError(l.file, `line ${l.lineNo}`, message);
}

/** HostName's %h (and %%): the name as given; any other token is an error, as ssh makes it */
function expandHostName(e: Entry, original: string): string {
  return percentExpand(e.value, { h: original }, e.origin);
}

function addFile(st: Store, k: string, value: string, user: boolean, origin: Origin): void {
  const list = st.add.get(k) ?? [];
  if (!list.some((x) => x.value === value && x.user === user)) list.push({ value, user, origin });
  st.add.set(k, list);
}

/** an active line's value into the store: the first value obtained wins */
function apply(st: Store, l: Line, r: Parsed, userConfig: boolean): void {
  const k = storedAs(l.keyword);
  const origin: Origin = { file: l.file, lineNo: l.lineNo, keyword: l.keyword };
  switch (r.kind) {
    case 'one':
    case 'command':
      // a ProxyJump came first (ProxyJump none keeps a later ProxyCommand, as ssh 9.2 does)
      if (k === 'proxycommand' && (st.one.get('proxyjump')?.value.toLowerCase() ?? 'none') !== 'none') return;
      if (!st.one.has(k)) st.one.set(k, { value: r.value, origin });
      return;
    case 'jump':
      if (!st.one.has('proxycommand') && !st.one.has('proxyjump')) st.one.set(k, { value: r.value, origin });
      return;
    case 'list':
      if (!st.lists.has(k)) st.lists.set(k, { values: r.values, origin });
      return;
    case 'add':
      return addFile(st, k, r.value, userConfig, origin);
    default:
      return;
  }
}
