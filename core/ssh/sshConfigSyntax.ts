// The lexical side of ssh_config(5), as OpenSSH 9.2's readconf.c reads a line: trailing white space
// dropped; the keyword is the first word (split at white space, a double quote or one `=`, any case;
// one starting with `#` makes the line a comment); the rest of the line is kept as written (ProxyCommand
// takes it whole, ProxyJump up to its first space, Match words by `strdelim`), and is also split into
// arguments as `argv_split` does: words apart at spaces and tabs, single or double quotes anywhere in a
// word, `\'` `\"` `\\` (and `\ ` outside quotes) escaped, other backslashes kept, a word starting with
// `#` ends the line. A quote left open is an error ssh refuses the file for.
import type { Parsed } from './sshConfigKeywords';

/** one line of an ssh_config file, where it came from for messages */
export interface Line {
  /** lower-cased */
  keyword: string;
  /** the text after the keyword and its separator, white space at its start skipped */
  rest: string;
  /** `rest` as argv_split reads it (empty when `error` is set) */
  args: string[];
  file: string;
  lineNo: number;
  /** a lexical error (ssh: "no argument after keyword", "invalid quotes") */
  error?: string;
  /** the value read from it, or why ssh refuses it (sshConfigKeywords.ts's readLine fills it once) */
  read?: Parsed | string;
}

const ws = ' \t\r\n';

/** ssh_config lines: comments and blank lines left out, every other line kept with its position */
export function parseConfigLines(text: string, file: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  raw.forEach((s, i) => {
    const line = lexLine(s);
    if (line) out.push({ ...line, file, lineNo: i + 1 });
  });
  return out;
}

/** one line, or null for a comment or a blank line */
export function lexLine(raw: string): Omit<Line, 'file' | 'lineNo'> | null {
  // trailing white space (and form feeds) go; the first character stays, as in readconf.c
  let end = raw.length;
  while (end > 1 && (ws + '\f').includes(raw[end - 1])) end--;
  const s = raw.slice(0, end);
  if (s.length === 0) return null;
  let d = strdelim(s, 0);
  if (!d) return null; // a keyword opening a quote that never closes: readconf.c skips the line
  let keyword = d.word;
  let at = d.next;
  if (keyword === '' && at !== null) {
    d = strdelim(s, at);
    if (!d) return null;
    keyword = d.word;
    at = d.next;
  }
  if (!keyword || keyword.startsWith('#') || keyword === '\n') return null;
  keyword = keyword.toLowerCase();
  let rest = at === null ? '' : s.slice(at);
  rest = rest.slice(span(rest, 0, ws));
  if (rest === '') return { keyword, rest, args: [], error: `no argument after keyword "${keyword}"` };
  const args = argvSplit(rest);
  if (args === null) return { keyword, rest, args: [], error: 'invalid quotes' };
  return { keyword, rest, args };
}

/** how many characters from `from` on are in `set` */
export function span(s: string, from: number, set: string): number {
  let i = from;
  while (i < s.length && set.includes(s[i])) i++;
  return i - from;
}

/**
 * misc.c's strdelim: the next word from `from` (split at white space, a double quote or, once, `=`),
 * and where the text after it starts (null at the end); null for a quote that never closes.
 */
export function strdelim(s: string, from: number): { word: string; next: number | null } | null {
  let i = from;
  while (i < s.length && !(ws + '"=').includes(s[i])) i++;
  if (i >= s.length) return { word: s.slice(from), next: null };
  if (s[i] === '"') {
    const close = s.indexOf('"', i + 1);
    if (close < 0) return null;
    const word = s.slice(from, i) + s.slice(i + 1, close);
    return { word, next: close + 1 + span(s, close + 1, ws) };
  }
  const wspace = s[i] === '=';
  const word = s.slice(from, i);
  let next = i + 1 + span(s, i + 1, ws);
  if (s[next] === '=' && !wspace) next += 1 + span(s, next + 1, ws);
  return { word, next };
}

/** misc.c's argv_split with terminate_on_comment: the words of `s`, or null for a quote left open */
export function argvSplit(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    if (s[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) word += s[++i];
        else word += c; // an escape ssh does not know keeps its backslash
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else word += c;
    }
    if (quote !== '') return null;
    out.push(word);
  }
  return out;
}

/** a Match line's words, as match_cfg_line reads them (strdelim: double quotes, `=`); a `#` word ends it */
export function matchWords(rest: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let at: number | null = 0;
  while (at !== null && at < rest.length) {
    const d = strdelim(rest, at);
    if (!d) return { words, error: 'invalid quotes' };
    if (d.word === '' && d.next === null) break;
    if (d.word.startsWith('#')) break;
    words.push(d.word);
    at = d.next;
  }
  return { words };
}
