// OpenSSH's server announces all its host keys after authentication (`hostkeys-00@openssh.com`,
// for clients that keep known_hosts up to date, UpdateHostKeys). ssh2's client answers every such
// announcement by asking the server to prove each key (`hostkeys-prove-00@openssh.com`): the server
// signs with every host key it has (an RSA signature is milliseconds of its CPU), the client parses
// and verifies each signature, and the result goes to a 'hostkeys' event Fleet never reads. Fleet
// checks the one key of the key exchange against known_hosts and does not rewrite known_hosts from
// announcements, so it ignores them, as OpenSSH's client does with UpdateHostKeys off.
//
// Not answering has a cost of its own: the announcement is the only packet the server sends before
// it confirms the first channel, and sshd leaves Nagle on for sessions without a terminal, so the
// confirmation waits until the announcement is acknowledged; a client with nothing to send delays
// that ACK (Linux: 40 ms). An SSH_MSG_IGNORE (RFC 4253 §11.2: the server drops it) carries the ACK
// at once.
//
// ssh2 has no option for this, so it wraps the client's protocol handler for global requests, which
// exists as soon as `connect()` returns; test/integration/sshWire.test.ts (sshd's log) fails if
// an ssh2 upgrade moves it.
import type { Client } from 'ssh2';

type GlobalRequest = (proto: unknown, name: string, wantReply: boolean, data: unknown) => void;
interface Protocol {
  _handlers?: { GLOBAL_REQUEST?: GlobalRequest };
  requestSuccess?: () => void;
  // how ssh2's own senders (requestFailure, ping) build and send a packet
  _packetRW?: { write?: { allocStart: number; alloc(n: number): Buffer; finalize(p: Buffer): Buffer } };
  _cipher?: { encrypt(packet: Buffer): void };
  _kexinit?: unknown;
}

const SSH_MSG_IGNORE = 2;

/** makes `client` ignore host key announcements; false (nothing changed) when ssh2 is not as expected */
export function ignoreHostKeyAnnouncements(client: Client): boolean {
  const proto = (client as unknown as { _protocol?: Protocol })._protocol;
  const handlers = proto?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!proto || !handlers || typeof original !== 'function' || typeof proto.requestSuccess !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return original(p, name, wantReply, data);
    // OpenSSH sends it without want-reply; a server that wants one is told "fine", as ssh2 would
    if (wantReply) proto.requestSuccess!();
    else sendIgnore(proto);
  };
  return true;
}

/** an empty SSH_MSG_IGNORE, sent now (not during a key exchange, when ssh2 would have to queue it) */
function sendIgnore(proto: Protocol): void {
  const w = proto._packetRW?.write;
  if (!w || !proto._cipher || proto._kexinit !== undefined) return;
  const p = w.allocStart;
  const packet = w.alloc(5); // type, then an empty string (its uint32 length)
  packet[p] = SSH_MSG_IGNORE;
  packet.writeUInt32BE(0, p + 1);
  proto._cipher.encrypt(w.finalize(packet));
}
