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
import { keywords, readLine } from './sshConfigKeywords';
import { evalMatch, hostLineMatches, matchPatternList } from './sshConfigMatch';
import { parseConfigLines, type Line } from './sshConfigSyntax';
import { addFile, apply, newStore, resolvedFrom, type Entry, type ResolvedSsh, type Store } from './sshConfigResolved';
import { percentExpand, tildeExpand, type LocalContext, type Origin } from './sshConfigTokens';
import { finalHostName, parseJumpList } from './sshConfigValues';

export type { LocalContext, Origin } from './sshConfigTokens';
export { expandTokens } from './sshConfigTokens';
export type { ResolvedSsh } from './sshConfigResolved';

export function localContext(): LocalContext {
  let user = process.env.USER ?? 'root';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: the environment's name
  }
  return { home: homedir(), localUser: user, localHost: hostname() };
}

export interface CommandLine {
  user?: string;
  port?: number;
  identityFiles?: readonly string[];
  /** a ProxyJump list (`--jump`, as ssh -J) */
  jump?: string;
}

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
    const st = newStore();
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
    const st = newStore();
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
    return resolvedFrom(st, host, final, this.local, (w) => this.warn(w));
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
}

function lineError(l: Line, message: string): ValidationError {
  return new ValidationError(l.file, `line ${l.lineNo}`, message);
}

/** HostName's %h (and %%): the name as given; any other token is an error, as ssh makes it */
function expandHostName(e: Entry, original: string): string {
  return percentExpand(e.value, { h: original }, e.origin);
}
