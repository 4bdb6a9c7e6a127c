// Host and Match as OpenSSH 9.2 decides them (match.c, readconf.c). `Host` patterns are matched
// against the name as given, with case; `Match host` and `Match originalhost` without regard to case,
// `Match user` and `localuser` with it. `*` and `?` are the only wildcards; a list takes `!` to exclude.
// `Match exec` is never run (it would execute a command from the file): such a block does not apply,
// and Fleet says so. `Match canonical` and `Match final` hold in the final pass only.
import type { LocalContext } from './sshConfigTokens';
import { matchWords, type Line } from './sshConfigSyntax';

const compiled = new Map<string, RegExp>();

/** match.c's match_pattern: `*` and `?`, case as given */
export function matchPattern(s: string, pattern: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^]*')
      .replace(/\?/g, '[^]');
    re = new RegExp(`^${body}$`);
    if (compiled.size < 10_000) compiled.set(pattern, re);
  }
  return re.test(s);
}

/** match.c's match_pattern_list: 1 when a pattern matches, -1 when a `!` one does, else 0 */
export function matchPatternList(s: string, list: string, lower: boolean): 1 | 0 | -1 {
  let positive = false;
  for (let sub of list.split(',')) {
    const negated = sub.startsWith('!');
    if (negated) sub = sub.slice(1);
    if (lower) sub = sub.toLowerCase();
    if (matchPattern(s, sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** match.c's match_hostname: the list against the lower-cased name, without regard to case */
export function matchHostname(host: string, list: string): boolean {
  return matchPatternList(host.toLowerCase(), list, true) === 1;
}

/** a Host line: true when a pattern matches the name and no `!` pattern does */
export function hostLineMatches(patterns: readonly string[], host: string): boolean {
  let active = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(host, p.slice(1))) return false;
    } else if (matchPattern(host, p)) active = true;
  }
  return active;
}

export interface MatchState {
  /** the host name Match host sees (HostName with %h in the first pass, the final name in the last) */
  host: string;
  /** the name as given */
  original: string;
  /** the remote user so far (User, or the command line's), else the local user */
  user: string;
  local: LocalContext;
  finalPass: boolean;
  /** a `Match final` asks for the final pass */
  wantFinal(): void;
  /** a note that Fleet did something other than ssh would (Match exec) */
  warn(message: string): void;
}

/** the result of a Match line, or the reason ssh refuses it ("Bad Match condition") */
export function evalMatch(l: Line, st: MatchState): { applies: boolean } | { error: string } {
  const { words, error } = matchWords(l.rest);
  if (error) return { error };
  let result = true;
  let attributes = 0;
  for (let i = 0; i < words.length; i++) {
    const attrib = words[i];
    if (attrib === '') break;
    const negate = attrib.startsWith('!');
    const name = (negate ? attrib.slice(1) : attrib).toLowerCase();
    if (name === 'all') {
      const next = words[i + 1];
      if (attributes > 1 || (next !== undefined && next !== ''))
        return { error: `'${attrib}' cannot be combined with other Match attributes` };
      if (result) result = !negate;
      return { applies: result };
    }
    attributes++;
    if (name === 'canonical' || name === 'final') {
      if (name === 'final') st.wantFinal();
      if (st.finalPass === negate) result = false;
      continue;
    }
    const arg = words[++i];
    if (arg === undefined || arg === '') return { error: `Missing Match criteria for ${name}` };
    let hit: boolean;
    switch (name) {
      case 'host':
        hit = matchHostname(st.host, arg);
        break;
      case 'originalhost':
        hit = matchHostname(st.original, arg);
        break;
      case 'user':
        hit = matchPatternList(st.user, arg, false) === 1;
        break;
      case 'localuser':
        hit = matchPatternList(st.local.localUser, arg, false) === 1;
        break;
      case 'exec':
        // ssh runs the command only when the criteria before it held; Fleet never runs it
        if (result)
          st.warn(
            `${l.file} line ${l.lineNo}: Match exec is not run by Fleet (it would execute a command from the config); that block is skipped`,
          );
        result = false;
        continue;
      default:
        return { error: `Unsupported Match attribute ${name}` };
    }
    if (hit === negate) result = false;
  }
  if (attributes === 0) return { error: 'One or more attributes required for Match' };
  return { applies: result };
}
