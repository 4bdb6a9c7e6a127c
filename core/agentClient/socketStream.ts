// A byte stream to the agent's unix socket on a host, over an SSH connection. OpenSSH forwards it
// natively (direct-streamlocal@openssh.com). Servers that cannot — Dropbear has no stream-local
// forwarding, a hardened sshd sets AllowStreamLocalForwarding no — get a bridge instead: the Fleet
// runtime's node on the host, started over an exec channel, copying its stdin and stdout to the
// socket. The first refusal on a connection is remembered, so later requests go straight to the bridge.
import type { Client } from 'ssh2';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors';
import { shellQuote as q } from '../ssh/quote';
import { pidMarker } from '../ssh/remoteProcess';
import { loginShellOf, wireCommand } from '../ssh/remoteShell';

/** connections whose server refused stream-local forwarding */
const noStreamLocal = new WeakSet<Client>();

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
  if (noStreamLocal.has(c))
    return bridge(c, socketPath, label).catch((why: string) => Promise.reject(noForwarding(why)));
  return new Promise<Duplex>((resolve, reject) =>
    c.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
      if (!err) return resolve(stream);
      const reason = (err as Error & { reason?: number }).reason;
      bridge(c, socketPath, label).then(
        (s) => {
          noStreamLocal.add(c); // the socket is there and the bridge reached it: the server refuses to forward
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
  return new Promise<Duplex>((resolve, reject) =>
    c.exec(wireCommand(bridgeCommand(socketPath), loginShellOf(c)), (err, ch) => {
      if (err) return reject(`cannot open an exec channel on ${label}: ${err.message}`);
      let stderr = '';
      let connected = false;
      const onErr = (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes(ready + '\n')) {
          connected = true;
          ch.stderr.off('data', onErr);
          ch.stderr.resume();
          resolve(ch);
        }
      };
      ch.stderr.on('data', onErr);
      // the stdout side is not read before the bridge connects, so 'close' may never come: 'exit' does
      const failed = () => {
        if (connected) return;
        connected = true; // settled
        ch.close();
        const why = stderr
          .split('\n')
          .filter((l) => l && !l.startsWith(pidMarker))
          .map((l) => l.replace(/^fleet-bridge: /, ''))
          .join('; ');
        reject(why || 'it ended without a word');
      };
      ch.on('exit', failed);
      ch.on('close', failed);
    }),
  );
}
