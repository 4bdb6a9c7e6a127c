// The head of one HTTP/1.x request (request line and header fields), parsed strictly: anything two
// parsers could read two ways — a bare CR or LF, a folded line, a space before the colon, a control
// byte in a value, two Content-Length fields, Content-Length beside Transfer-Encoding — is refused,
// so what the LB forwards cannot be read by the backend as something else (RFC 9112 §§2-6, 11.2).
import { trimOws } from '../ows';

/** a request head the LB will forward */
export interface RequestHead {
  method: string;
  /** origin-form: starts with "/" (the LB routes by path) */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 */
  minor: 0 | 1;
  /** name, value, name, value… as sent (latin1: header bytes are opaque), values trimmed */
  rawHeaders: string[];
  /** how the body is framed */
  framing: Framing;
  /** the client sent `Expect: 100-continue` and waits for a 100 before its body */
  expectContinue: boolean;
  /** the connection ends after this request (`Connection: close`, or HTTP/1.0) */
  close: boolean;
  /**
   * the protocol the client asks to switch to (`Upgrade`, named in `Connection`), on an HTTP/1.1
   * request without a body; the backend's 101 turns the connection into a tunnel
   */
  upgrade?: string;
}

export type Framing = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' };

/** why a head cannot be forwarded: the status to answer with, and a message that says what to fix */
export interface HeadError {
  status: 400 | 417 | 431 | 501 | 505;
  message: string;
}

/** header fields in one request; more is refused with 431 */
export const maxHeaderFields = 200;

const tokenChar = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** a field value: visible bytes, spaces and tabs, and obs-text (0x80-0xFF); no other control byte */
const badValueByte = /[^\t\x20-\x7e\x80-\xff]/;

/** a header field as HTTP allows it (a token for its name, no control byte in its value): either way through the LB */
export function validField(name: string, value: string): boolean {
  return tokenChar.test(name) && !badValueByte.test(value);
}
const requestLine = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[\x21-\x7e\x80-\xff]*) HTTP\/(\d)\.(\d)$/;

/** parses `head`, the bytes before the blank line that ends it (the CRLF CRLF not included) */
export function parseRequestHead(head: string): RequestHead | HeadError {
  const lines = head.split('\r\n');
  const m = requestLine.exec(lines[0]);
  if (!m)
    return bad(`malformed request line ${JSON.stringify(lines[0].slice(0, 100))}: expected METHOD /path HTTP/1.1`);
  if (m[3] !== '1' || (m[4] !== '0' && m[4] !== '1'))
    return { status: 505, message: `HTTP/${m[3]}.${m[4]} is not supported; send HTTP/1.1` };
  if (m[1] === 'CONNECT')
    return bad('CONNECT is not served: this is a reverse proxy, not a forward proxy (send requests for paths)');
  if (lines.length - 1 > maxHeaderFields) return { status: 431, message: `more than ${maxHeaderFields} header fields` };
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!tokenChar.test(name)) {
      if (line[0] === ' ' || line[0] === '\t')
        return bad('folded header lines (obs-fold) are not accepted: put each field on one line');
      return bad(`malformed header line ${JSON.stringify(line.slice(0, 100))}: expected Name: value`);
    }
    const value = trimOws(line.slice(colon + 1));
    if (badValueByte.test(value))
      return bad(`header ${name} holds a control character: only tabs, visible characters and bytes 0x80-0xFF may`);
    rawHeaders.push(name, value);
  }
  const minor = m[4] === '0' ? 0 : 1;
  const meta = connectionMeta(rawHeaders, minor);
  if ('status' in meta) return meta;
  return { method: m[1], target: m[2], minor, rawHeaders, ...meta };
}

type Meta = Pick<RequestHead, 'framing' | 'expectContinue' | 'close' | 'upgrade'>;

/** the fields that decide how to read this request and whether the connection goes on */
function connectionMeta(raw: readonly string[], minor: 0 | 1): Meta | HeadError {
  let te: string | undefined;
  let cl: string | undefined;
  let hosts = 0;
  let expect: string | undefined;
  let close = minor === 0;
  let upgrade: string | undefined;
  let connectionUpgrade = false;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === 'content-length') {
      if (cl !== undefined) return bad('more than one Content-Length: send one');
      cl = v;
    } else if (k === 'transfer-encoding') te = te === undefined ? v : `${te}, ${v}`;
    else if (k === 'host') hosts++;
    else if (k === 'expect') expect = v.toLowerCase();
    else if (k === 'connection') {
      if (/(^|,)[ \t]*close[ \t]*(,|$)/i.test(v)) close = true;
      if (/(^|,)[ \t]*upgrade[ \t]*(,|$)/i.test(v)) connectionUpgrade = true;
    } else if (k === 'upgrade') upgrade = upgrade === undefined ? v : `${upgrade}, ${v}`;
  }
  if (hosts > 1) return bad('more than one Host header: send one');
  if (hosts === 0 && minor === 1) return bad('no Host header (HTTP/1.1 requires one)');
  let framing: Framing = { kind: 'none' };
  if (te !== undefined) {
    if (cl !== undefined) return bad('Content-Length together with Transfer-Encoding: send one of them');
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request: send a Content-Length, or use HTTP/1.1');
    if (te.toLowerCase() !== 'chunked')
      return {
        status: 501,
        message: `Transfer-Encoding ${JSON.stringify(te)} is not supported; send the body chunked or with a Content-Length`,
      };
    framing = { kind: 'chunked' };
  } else if (cl !== undefined) {
    const bytes = Number(cl);
    if (!/^\d{1,15}$/.test(cl)) return bad(`Content-Length ${JSON.stringify(cl)} is not a number of bytes`);
    framing = bytes === 0 ? { kind: 'none' } : { kind: 'length', bytes };
  }
  if (expect !== undefined && expect !== '100-continue')
    return { status: 417, message: `Expect ${JSON.stringify(expect)} is not supported; only 100-continue is` };
  // h2c is not tunnelled: HTTP/2's cleartext upgrade is gone from RFC 9113, and the LB speaks HTTP/1.1 to backends
  const upgrading =
    connectionUpgrade &&
    upgrade !== undefined &&
    upgrade !== '' &&
    !/^h2c$/i.test(upgrade.trim()) &&
    minor === 1 &&
    framing.kind === 'none';
  return {
    framing,
    expectContinue: expect !== undefined && minor === 1 && framing.kind !== 'none',
    close,
    ...(upgrading ? { upgrade } : {}),
  };
}

export function isHeadError(h: RequestHead | HeadError): h is HeadError {
  return 'status' in h;
}

function bad(message: string): HeadError {
  return { status: 400, message };
}
