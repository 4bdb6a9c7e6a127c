// OpenSSH's server announces all its host keys after authentication (`hostkeys-00@openssh.com`,
// for clients that keep known_hosts up to date, UpdateHostKeys). ssh2's client answers every such
// announcement by asking the server to prove each key (`hostkeys-prove-00@openssh.com`): the server
// signs with every host key it has (an RSA signature is milliseconds of its CPU), the client parses
// and verifies each signature, and the result goes to a 'hostkeys' event Fleet never reads. Fleet
// checks the one key of the key exchange against known_hosts and does not rewrite known_hosts from
// announcements, so it ignores them, as OpenSSH's client does with UpdateHostKeys off.
//
// ssh2 has no option for this, so it wraps the client's protocol handler for global requests, which
// exists as soon as `connect()` returns; test/integration/sshWire.test.ts (sshd's log) fails if
// an ssh2 upgrade moves it.
import type { Client } from 'ssh2';

type GlobalRequest = (proto: unknown, name: string, wantReply: boolean, data: unknown) => void;
interface Protocol {
  _handlers?: { GLOBAL_REQUEST?: GlobalRequest };
  requestSuccess?: () => void;
}

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
  };
  return true;
}
