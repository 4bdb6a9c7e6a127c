// The lexical side of ssh_config(5): one line is a keyword (case-insensitive), `=` or spaces, then
// arguments with quotes and backslash escapes as ssh reads them; `#` starts a comment.
import { ValidationError } from '../errors';

/** one line of an ssh_config file, where it came from for messages */
export interface Line {
  keyword: string;
  args: string[];
  file: string;
  lineNo: number;
}

/** ssh_config lines: keyword (case-insensitive), `=` or space, args (quotes, backslash escapes), `#` comments */
export function parseConfigLines(text: string, file: string): Line[] {
  const out: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const s = raw.trim();
    if (!s || s.startsWith('#')) return;
    const m = /^([A-Za-z0-9]+)(?:\s*=\s*|\s+|$)(.*)$/.exec(s);
    if (!m) throw new ValidationError(file, `line ${i + 1}`, `cannot read ${JSON.stringify(raw.slice(0, 80))}`);
    const args = splitArgs(m[2], file, i + 1);
    out.push({ keyword: m[1].toLowerCase(), args, file, lineNo: i + 1 });
  });
  return out;
}

function splitArgs(s: string, file: string, lineNo: number): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && (s[i + 1] === quote || s[i + 1] === '\\')) cur += s[++i];
      else if (c === quote) quote = null;
      else cur += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else if (c === '#' && !inArg) break;
    else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < s.length && /[\s"'\\]/.test(s[i + 1])) {
      cur += s[++i];
      inArg = true;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) throw new ValidationError(file, `line ${lineNo}`, 'unterminated quote');
  if (inArg) args.push(cur);
  return args;
}
