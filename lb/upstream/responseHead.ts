// The head of one answer from a backend (status line and header fields) and how its body is framed
// (RFC 9112 §6.3), read as HAProxy 2.6 reads it: line ends may be CRLF or a bare LF, a folded line is
// unfolded into spaces; a status outside 100-599, a space before a colon, two different
// Content-Lengths, or a transfer coding other than chunked (the client would get a coding it never
// asked for, e.g. gzip) make the answer malformed: the LB answers 502 and counts a backend error.
import { trimOws } from '../ows';

export type AnswerFraming =
  | { kind: 'none' }
  | { kind: 'length'; bytes: number }
  | { kind: 'chunked' }
  /** the body lasts until the backend closes */
  | { kind: 'close' };

export interface ResponseHead {
  status: number;
  /** 0 for an HTTP/1.0 answer */
  minor: 0 | 1;
  /** name, value… as sent (latin1), values trimmed */
  rawHeaders: string[];
  framing: AnswerFraming;
  /** the backend closes the connection after this answer */
  close: boolean;
  /** seconds from `Keep-Alive: timeout=N` (how long the backend keeps an idle connection), or 0 */
  keepAliveSecs: number;
}

export class MalformedAnswer extends Error {}

const tokenChar = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: [^]*)?$/;

/**
 * Where the head at the start of `buf` ends: the index just past its blank line, or -1 when it is
 * not whole yet. A blank line is CRLF CRLF, or LF LF / LF CRLF (bare LFs are read, as HAProxy does).
 */
export function headEnd(buf: Buffer): number {
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    const next = buf[i + 1];
    if (next === 0x0a) return i + 2;
    if (next === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Parses a head (its bytes up to and including the blank line, as latin1) of an answer to a request
 * of `method`. Throws MalformedAnswer.
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const lines = unfold(text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)));
  const m = statusLine.exec(lines[0]);
  if (!m) throw new MalformedAnswer(`malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const status = Number(m[2]);
  if (status < 100 || status > 599) throw new MalformedAnswer(`status ${m[2]} is outside 100-599`);
  const minor = m[1] === '0' ? 0 : 1;
  const rawHeaders: string[] = [];
  let te: string | undefined;
  let cl: string | undefined;
  let close = minor === 0;
  let keepAliveSecs = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!tokenChar.test(name)) throw new MalformedAnswer(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = trimOws(line.slice(colon + 1));
    rawHeaders.push(name, value);
    const k = name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : '';
    if (k === 'content-length') {
      if (cl !== undefined && cl !== value) throw new MalformedAnswer('two different Content-Length fields');
      cl = value;
    } else if (k === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (k === 'connection') {
      if (/(^|,)[ \t]*close[ \t]*(,|$)/i.test(value)) close = true;
      else if (minor === 0 && /(^|,)[ \t]*keep-alive[ \t]*(,|$)/i.test(value)) close = false;
    } else if (k === 'keep-alive') {
      const t = /(?:^|[,;\s])timeout=(\d+)/i.exec(value);
      if (t) keepAliveSecs = Number(t[1]);
    }
  }
  return { status, minor, rawHeaders, framing: framingOf(status, method, te, cl), close, keepAliveSecs };
}

function framingOf(status: number, method: string, te: string | undefined, cl: string | undefined): AnswerFraming {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' };
  if (te !== undefined) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    if (codings.length !== 1 || codings[0] !== 'chunked')
      throw new MalformedAnswer(`Transfer-Encoding ${JSON.stringify(te)}: only chunked can be forwarded`);
    return { kind: 'chunked' };
  }
  if (cl !== undefined) {
    // a list of one repeated value (`5, 5`) is one length (RFC 9110 §8.6)
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const v = [...values][0];
    if (values.size !== 1 || !/^\d{1,15}$/.test(v))
      throw new MalformedAnswer(`Content-Length ${JSON.stringify(cl)} is not a number of bytes`);
    return { kind: 'length', bytes: Number(v) };
  }
  return { kind: 'close' };
}

/** joins folded lines (obs-fold: a line starting with a space or tab) to the line before, with spaces */
function unfold(lines: string[]): string[] {
  if (!lines.some((l, i) => i > 0 && (l[0] === ' ' || l[0] === '\t'))) return lines;
  const out: string[] = [];
  for (const l of lines) {
    if ((l[0] === ' ' || l[0] === '\t') && out.length > 1 && out[out.length - 1] !== '')
      out[out.length - 1] += ' ' + trimOws(l);
    else out.push(l);
  }
  return out;
}
