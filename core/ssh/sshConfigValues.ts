// ssh_config's value syntaxes as OpenSSH 9.2 reads them (misc.c): times with units (`1h30m`),
// integers, ports (a number, or a service name from /etc/services: `Port ssh`), `[user@]host[:port]`
// and `ssh://user@host:port` (ProxyJump), and host names as ssh -G prints them (lower-cased; an
// address in its canonical form, as getaddrinfo gives it back).
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';

/** misc.c's convtime: seconds, or null (units s m h d w in any case, summed: `1h30m`) */
export function convtime(s: string): number | null {
  if (s === '') return null;
  const max = 2 ** 31 - 1;
  let total = 0;
  let rest = s;
  const mult: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  while (rest !== '') {
    const m = /^[\t\n\v\f\r ]*([+-]?\d+)(.?)/.exec(rest);
    if (!m) return null;
    const secs = Number(m[1]);
    if (secs < 0 || secs >= max) return null;
    const unit = m[2].toLowerCase();
    const k = unit === '' ? 1 : mult[unit];
    if (k === undefined) return null;
    if (secs > Math.floor(max / k) || total > max - secs * k) return null;
    total += secs * k;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** misc.c's strtonum in [min, max]: the number, or why not ("invalid", "too small", "too large") */
export function strtonum(s: string, min: number, max: number): number | string {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)$/.exec(s);
  if (!m) return 'invalid';
  const n = Number(m[1]);
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

/** misc.c's atoi_err: an int in [0, INT_MAX], or the error ssh prints after "integer value" */
export function atoiErr(s: string | undefined): number | string {
  if (s === undefined || s === '') return 'missing';
  return strtonum(s, 0, 2 ** 31 - 1);
}

let services: Map<string, number> | null = null;

/** getservbyname(name, "tcp"), from /etc/services (where there is none, only `ssh`) */
function serviceTcpPort(name: string): number | undefined {
  if (!services) {
    services = new Map([['ssh', 22]]);
    try {
      for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
        const [words] = line.split('#');
        const [svc, portProto, ...aliases] = words.trim().split(/\s+/);
        const m = /^(\d+)\/tcp$/.exec(portProto ?? '');
        if (!m) continue;
        for (const n of [svc, ...aliases]) if (!services.has(n)) services.set(n, Number(m[1]));
      }
    } catch {
      // no services file (Windows): names other than ssh are not ports
    }
  }
  return services.get(name);
}

/** misc.c's a2port: 0-65535 or a tcp service name; -1 when neither (callers refuse 0 too) */
export function a2port(s: string): number {
  const n = strtonum(s, 0, 65535);
  if (typeof n === 'number') return n;
  return serviceTcpPort(s) ?? -1;
}

export interface UserHostPort {
  user?: string;
  host: string;
  /** -1 when not given */
  port: number;
}

/** misc.c's parse_user_host_port: `[user@]host[:port]`, the user up to the last `@`, `[v6]` allowed */
export function parseUserHostPort(s: string): UserHostPort | null {
  let rest = s;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0) return null;
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const hp = hpdelim(rest);
  if (!hp || hp.host === '') return null;
  let port = -1;
  if (hp.rest !== null && hp.rest !== '') {
    port = a2port(hp.rest);
    if (port <= 0) return null;
  }
  return { user, host: cleanHostname(hp.host), port };
}

/** misc.c's hpdelim: a host (maybe `[…]`) and what follows its `:`; null for a `/` or a bad bracket */
function hpdelim(s: string): { host: string; rest: string | null; delim: string } | null {
  let i: number;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    i = close + 1;
  } else {
    i = s.search(/[:/]/);
    if (i < 0) i = s.length;
  }
  if (i >= s.length) return { host: s, rest: null, delim: '' };
  if (s[i] !== ':' && s[i] !== '/') return null;
  return { host: s.slice(0, i), rest: s.slice(i + 1), delim: s[i] };
}

function cleanHostname(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** misc.c's valid_domain (without lower-casing) */
function validDomain(name: string): boolean {
  return /^[A-Za-z0-9]/.test(name) && !name.includes('..') && /^[A-Za-z0-9._-]+$/.test(name);
}

function urldecode(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '+') out += ' ';
    else if (s[i] === '%') {
      if (!/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return null;
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

/** misc.c's parse_uri("ssh", …) without a path: the parts, 'invalid', or null when it is not a URI */
export function parseSshUri(s: string): UserHostPort | 'invalid' | null {
  if (!s.startsWith('ssh://')) return null;
  let rest = s.slice(6);
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const info = rest.slice(0, at);
    const u = info.split(';')[0]; // connection parameters are ignored, as ssh ignores them
    if (u === '') return 'invalid';
    const decoded = urldecode(u);
    if (decoded === null) return 'invalid';
    user = decoded;
    rest = rest.slice(at + 1);
  }
  const hp = hpdelim(rest);
  if (!hp || hp.host === '') return 'invalid';
  const host = cleanHostname(hp.host);
  if (!validDomain(host)) return 'invalid';
  let port = -1;
  let tail = hp.rest;
  if (tail !== null && tail !== '' && hp.delim === ':') {
    const slash = tail.indexOf('/');
    port = a2port(slash < 0 ? tail : tail.slice(0, slash));
    if (port <= 0) return 'invalid';
    tail = slash < 0 ? null : tail.slice(slash + 1);
  }
  if (tail !== null && tail !== '') return 'invalid'; // a path is not allowed in a jump host
  return { user, host, port };
}

/** one hop of a ProxyJump list: an ssh:// URI or `[user@]host[:port]` */
export function parseJumpHop(s: string): UserHostPort | null {
  const uri = parseSshUri(s);
  if (uri === 'invalid') return null;
  return uri ?? parseUserHostPort(s);
}

export interface JumpList {
  /** the hops in the order they are connected */
  hops: UserHostPort[];
  /** how ssh -G prints the list: the text before the last hop as written, then the last hop */
  display: string;
}

/**
 * A ProxyJump value: `none` when it is exactly that, else the text up to its first space or `#`
 * (OpenSSH 9.2 reads no further: `none # a comment` names a host called none), a comma list, every hop
 * checked; null when ssh would refuse it ("Invalid ProxyJump").
 */
export function parseJumpList(value: string): JumpList | 'none' | null {
  if (value.toLowerCase() === 'none') return 'none';
  const text = value.split('#')[0].split(/[ \t]/)[0];
  const parts = text.split(',');
  const hops: UserHostPort[] = [];
  for (const p of parts) {
    const hop = parseJumpHop(p);
    if (!hop) return null;
    hops.push(hop);
  }
  const last = hops[hops.length - 1];
  const numeric = last.host.includes(':') || /^[0-9.]*$/.test(last.host);
  const extra = parts.length > 1 ? `${text.slice(0, text.lastIndexOf(','))},` : '';
  const display = `${extra}${last.user !== undefined ? `${last.user}@` : ''}${numeric ? `[${last.host}]` : last.host}${last.port > 0 ? `:${last.port}` : ''}`;
  return { hops, display };
}

/** ssh.c's is_addr_fast: a name that can only be an address (`%`, `:`, or digits and dots) */
export function looksLikeAddress(name: string): boolean {
  return name.includes('%') || name.includes(':') || /^[0-9.]*$/.test(name);
}

/** inet_aton's forms (a, a.b, a.b.c, a.b.c.d; each part decimal, 0x hex or 0 octal) as dotted quad */
function inetAton(s: string): string | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) n = Number(p);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null;
  let v = last;
  nums.forEach((n, i) => (v += n * 2 ** (8 * (3 - i))));
  return [24, 16, 8, 0].map((sh) => Math.floor(v / 2 ** sh) % 256).join('.');
}

/** an IPv6 address in inet_ntop's form (lower case, longest zero run as ::), the zone kept */
function ipv6Canonical(s: string): string | null {
  const [addr, zone] = s.split('%', 2);
  if (!isIPv6(addr)) return null;
  const u = new URL(`http://[${addr}]/`).hostname.slice(1, -1); // WHATWG's serialisation is RFC 5952's
  const v4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(u);
  const text = v4
    ? `::ffff:${[v4[1], v4[2]].flatMap((h) => [parseInt(h, 16) >> 8, parseInt(h, 16) & 255]).join('.')}`
    : u;
  return zone === undefined ? text : `${text}%${zone}`;
}

/**
 * The host name ssh connects to and prints (ssh.c after its first pass): a name lower-cased; an
 * address not, but given in its canonical form when it is a valid one (127.1 → 127.0.0.1, ::0001 → ::1;
 * a form that differs only in case is kept as written).
 */
export function finalHostName(host: string): string {
  const canon = inetAton(host) ?? ipv6Canonical(host);
  if (canon !== null) return canon.toLowerCase() === host.toLowerCase() ? host : canon;
  return looksLikeAddress(host) ? host : host.toLowerCase();
}
