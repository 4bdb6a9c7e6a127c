// A TLS connection to an https:// agent whose certificate must be the pinned one. The handshake
// finishes and the fingerprint is compared before the caller writes a byte: no request and no
// token leaves on a connection to anyone else. The certificate is trusted by its pin alone, not by
// a CA or a name (the agent's certificate is self-signed; the pin is what deploy read over SSH).
import { advice } from '../advice';
import { connect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { AuthError, UnreachableError } from '../errors';

/**
 * An https:// agent's certificate is not the pinned one (`changed`), or none is pinned (`unknown`).
 * Nothing was sent on the connection: no token, no request.
 */
export class AgentTrustError extends AuthError {
  constructor(
    readonly endpoint: string,
    readonly kind: 'unknown' | 'changed',
    readonly got: string,
    readonly want: string | undefined,
    message: string,
  ) {
    super(endpoint, message);
  }
}

interface TcpEndpoint {
  host: string;
  port: number;
  text: string;
}

export function connectPinned(ep: TcpEndpoint, want: string | undefined, timeoutMs: number): Promise<TLSSocket> {
  if (!want)
    return Promise.reject(
      new AgentTrustError(
        ep.text,
        'unknown',
        '',
        undefined,
        `no TLS certificate is pinned for this agent; pin it over SSH with ${advice().agentPin(ep.port)} (${advice().agentListen()} does it too), then try again`,
      ),
    );
  return new Promise((resolve, reject) => {
    const sock = connect({
      host: ep.host,
      port: ep.port,
      // no CA can vouch for a self-signed certificate: the pin below decides, and nothing is sent before it
      rejectUnauthorized: false,
      servername: isIP(ep.host) ? undefined : ep.host,
      minVersion: 'TLSv1.2',
    });
    const timer = setTimeout(
      () =>
        sock.destroy(
          new UnreachableError(ep.text, `no TLS handshake with the agent within ${Math.round(timeoutMs / 1000)} s`),
        ),
      timeoutMs,
    );
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const got = sock.getPeerX509Certificate()?.fingerprint256 ?? '(none)';
      if (got === want) return resolve(sock);
      sock.destroy();
      reject(
        new AgentTrustError(
          ep.text,
          'changed',
          got,
          want,
          `the agent presented a TLS certificate with SHA256 fingerprint ${got}, but the one pinned for it is ${want}: someone may be intercepting the connection, or the agent's key was made anew (a new data dir); nothing was sent. If the change is expected, pin the new certificate over SSH: ${advice().agentPin(ep.port)}`,
        ),
      );
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e instanceof UnreachableError
          ? e
          : new UnreachableError(ep.text, `cannot reach the agent over TLS: ${tlsProblem(e)}`, { cause: e }),
      );
    });
  });
}

/** what a TLS failure most likely means, in words */
function tlsProblem(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  // an agent from before TLS answers a ClientHello as bad HTTP and closes
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|ECONNRESET|EPROTO/.test(code + e.message))
    return `${code || e.message}: it does not speak TLS; an agent from before TLS speaks plain http (upgrade it: ${advice().agentListen()}; meanwhile http:// with ${advice().insecureHttp('<host>')} reaches it on a network you trust)`;
  return code || e.message;
}
