// Which header fields cross the LB, both ways. Hop-by-hop fields (RFC 9110 §7.6.1) belong to one
// connection and are never forwarded: the fixed list below, and every field the message's own
// `Connection` names. Framing (Content-Length, Transfer-Encoding) is written again by whoever sends
// the message on. A client cannot use `Connection` to strip Host from what the backend gets.
import { validField } from './front/requestHead';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  // answered (or not) by this proxy: forwarding it would make the backend answer 100 a second time
  'expect',
  // framing, written again for the next hop
  'content-length',
]);

/** fields a Connection header may not remove */
const kept = new Set(['host']);

/** the lower-case field names a Connection header lists, beyond those always removed (null: none) */
function namedInConnection(raw: readonly string[]): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i];
    if (k.length !== 10 || k.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) {
      const name = t.trim().toLowerCase();
      if (name && !hopByHop.has(name) && !kept.has(name)) (named ??= new Set()).add(name);
    }
  }
  return named;
}

export interface RequestFields {
  /** name, value… to forward (no hop-by-hop field, no X-Forwarded-For, no framing) */
  forward: string[];
  /** the client's X-Forwarded-For values, joined with ", " */
  xff?: string;
  hasHost: boolean;
  /** the client sent a Content-Length (0 is forwarded as it came: a POST without a body says so) */
  hasLength: boolean;
}

/** a client's request fields, as they go to the backend */
export function requestFields(raw: readonly string[]): RequestFields {
  const named = namedInConnection(raw);
  const out: RequestFields = { forward: [], hasHost: false, hasLength: false };
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === 'x-forwarded-for') out.xff = out.xff === undefined ? v : `${out.xff}, ${v}`;
    else if (k === 'content-length') out.hasLength = true;
    else if (!hopByHop.has(k) && !(named !== null && named.has(k))) {
      if (k === 'host') out.hasHost = true;
      out.forward.push(raw[i], v);
    }
  }
  return out;
}

/**
 * A backend's answer fields as they go to the client: without hop-by-hop fields, and without a field
 * HTTP does not allow (a control byte could split the answer). Content-Length stays when `keepLength`
 * (the answer is forwarded with its length); `upgrade` keeps Connection and Upgrade (a 101).
 */
export function answerFields(raw: readonly string[], keepLength: boolean, upgrade = false): string[] {
  const named = upgrade ? null : namedInConnection(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const k = name.toLowerCase();
    const v = raw[i + 1];
    if (k === 'content-length') {
      if (keepLength) out.push(name, v);
      continue;
    }
    if (upgrade && (k === 'connection' || k === 'upgrade')) {
      out.push(name, v);
      continue;
    }
    if (hopByHop.has(k) || (named !== null && named.has(k)) || !validField(name, v)) continue;
    out.push(name, v);
  }
  return out;
}
