// A byte stream to the agent's unix socket on a host, over an SSH connection. OpenSSH forwards it
// natively (direct-streamlocal@openssh.com). Servers that cannot — Dropbear has no stream-local
// forwarding, a hardened sshd sets AllowStreamLocalForwarding no — get a bridge instead: the Fleet
// runtime's node on the host, started over an exec channel, copying its stdin and stdout to the
// socket. The first refusal on a connection is remembered, so later requests go straight to the bridge.
// A host whose login writes (an rc file that echoes) would put those bytes ahead of the socket's: the
// bridge's stream starts after the wire line's mark on stdout (core/ssh/commandStart.ts).
import type { Client, ClientChannel } from 'ssh2';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors';
import { CommandStart } from '../ssh/commandStart';
import { shellQuote as q } from '../ssh/quote';
import { connectionOf } from '../ssh/connection';
import { commandMarks, loginShellOf, newNonce, wireCommand } from '../ssh/remoteShell';
import { openSession } from '../ssh/sessionOpen';

/** connections whose server refused stream-local forwarding */

/**
 * SSH_OPEN_ADMINISTRATIVELY_PROHIBITED and SSH_OPEN_UNKNOWN_CHANNEL_TYPE (Dropbear): the server will
 * not, ever. OpenSSH answers a missing socket and `AllowStreamLocalForwarding no` alike (2, "open
 * failed"), so then the bridge is tried too, and tells which it was.
 */
const refusals = new Set([1, 3]);

const ready = 'fleet-bridge: connected';
const bridgeScript = [
  "const s = require('net').connect(process.argv[1]);",
  `s.on('connect', () => { process.stderr.write('${ready}\\n'); process.stdin.pipe(s); s.pipe(process.stdout); });`,
  "s.on('error', (e) => { process.stderr.write('fleet-bridge: ' + e.message + '\\n'); process.exit(2); });",
  "s.on('close', () => process.exit(0));",
].join(' ');

/** the command the bridge runs on the host (the runtime that `fleet agent deploy` put there) */
export function bridgeCommand(socketPath: string): string {
  return [
    'n="$HOME/.fleet/agent/current/bin/node"',
    `if [ ! -x "$n" ]; then echo "fleet-bridge: no Fleet runtime at $n to reach the socket with" >&2; exit 127; fi`,
    `exec "$n" -e ${q(bridgeScript)} ${q(socketPath)}`,
  ].join('; ');
}

export function openSocketStream(c: Client, socketPath: string, label: string): Promise<Duplex> {
  const noForwarding = (why: string) =>
    new UnreachableError(
      label,
      `the SSH server does not forward unix sockets (Dropbear, or sshd with AllowStreamLocalForwarding no), and the bridge to ${socketPath} through Fleet's runtime failed: ${why}; is the agent deployed there (fleet agent deploy)?`,
    );
  if (connectionOf(c).noStreamLocal)
    return bridge(c, socketPath, label).catch((why: string) => Promise.reject(noForwarding(why)));
  return new Promise<Duplex>((resolve, reject) =>
    c.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
      if (!err) return resolve(stream);
      const reason = (err as Error & { reason?: number }).reason;
      bridge(c, socketPath, label).then(
        (s) => {
          // the socket is there and the bridge reached it: the server refuses to forward
          connectionOf(c).noStreamLocal = true;
          resolve(s);
        },
        (why: string) =>
          reject(
            reason !== undefined && refusals.has(reason)
              ? noForwarding(why)
              : new UnreachableError(
                  label,
                  `cannot reach the agent socket ${socketPath} over SSH (${err.message}), nor through Fleet's runtime on the host (${why}); is the agent running (fleet agent deploy)?`,
                ),
          ),
      );
    }),
  );
}

/** the exec-channel bridge; resolves once it is connected to the socket, else rejects with the reason (a string) */
function bridge(c: Client, socketPath: string, label: string): Promise<Duplex> {
  const nonce = newNonce();
  const marks = commandMarks(nonce);
  const connect = (ch: ClientChannel) =>
    new Promise<Duplex>((resolve, reject) => {
      let stderr = '';
      let connected = false;
      let streamStart: Buffer | null = null;
      // the login's words and the pid report come before the command's own, on each stream
      let loginSaid = '';
      const errStart = new CommandStart(marks.stderr, (b) => (loginSaid = (loginSaid + b.toString()).slice(-2000)));
      const outStart = new CommandStart(marks.stdout, () => undefined);
      const settle = () => {
        if (connected || streamStart === null || !stderr.includes(ready + '\n')) return;
        connected = true;
        ch.stderr.off('data', onErr);
        ch.stderr.resume();
        // handed over as a stream nobody reads yet (no longer listening leaves it neither flowing nor
        // paused, so its reader's first 'data' listener starts it), the socket's first bytes in front
        ch.off('readable', onReadable);
        if (streamStart.length) ch.unshift(streamStart);
        resolve(ch);
      };
      const onErr = (d: Buffer) => {
        const own = errStart.push(d);
        if (own === null) return;
        stderr += own.toString();
        settle();
      };
      const onOut = (d: Buffer) => {
        const own = outStart.push(d);
        if (own === null) return;
        streamStart = streamStart ? Buffer.concat([streamStart, own]) : own;
        settle();
      };
      const onReadable = () => {
        for (let d: Buffer | null; !connected && (d = ch.read() as Buffer | null) !== null;) onOut(d);
      };
      ch.stderr.on('data', onErr);
      ch.on('readable', onReadable);
      // a bridge that fails may leave its stdout unread to the end, so 'close' may never come: 'exit' does
      const failed = () => {
        if (connected) return;
        connected = true; // settled
        ch.close();
        // the command never started: then what the login said is the reason
        const said = errStart.done ? stderr : loginSaid + errStart.rest().toString();
        const why = said
          .split('\n')
          .filter((l) => l)
          .map((l) => l.replace(/^fleet-bridge: /, ''))
          .join('; ');
        reject(why || 'it ended without a word');
      };
      ch.on('exit', failed);
      ch.on('close', failed);
    });
  return openSession<ClientChannel, Duplex>(
    (cb) => c.exec(wireCommand(bridgeCommand(socketPath), loginShellOf(c), nonce), cb),
    connect,
  ).catch((err: unknown) =>
    Promise.reject(
      typeof err === 'string' ? err : `cannot open an exec channel on ${label}: ${(err as Error).message}`,
    ),
  );
}
