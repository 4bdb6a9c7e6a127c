// The agent's TCP listener: TLS, with plain HTTP on the same port only for peers on this machine
// (loopback), told apart by the first byte (0x16 opens a TLS handshake). A plain request from
// elsewhere is answered 400 with what to use instead, and closed: its token would have crossed the
// network in clear. Limits against clients that never authenticate: connections in all and per
// peer address (beyond them a connection is closed at once), a deadline for the first byte, the
// TLS handshake and the request head, an idle deadline while a body arrives (server.ts), one for
// the whole request, and a short keep-alive.
import { createServer as createHttp, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createNet, isIP, type Server, type Socket } from 'node:net';

export interface ListenerLimits {
  /** open TCP connections at once; more are closed as they arrive */
  maxConnections: number;
  /** open connections from one peer address */
  maxConnectionsPerAddress: number;
  /** to send the first byte, finish the TLS handshake, and send the request head */
  headTimeoutMs: number;
  /** a whole request, body included (a 1 GiB upload) */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const defaultListenerLimits: ListenerLimits = {
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
  headTimeoutMs: 10_000,
  requestTimeoutMs: 30 * 60_000,
  keepAliveTimeoutMs: 5_000,
};

export interface TcpListenerOptions {
  host: string;
  port: number;
  app: RequestListener;
  tls: { key: string; cert: string };
  /** `loopback`: plain HTTP from peers on this machine; `off`: TLS only */
  plainHttp: 'loopback' | 'off';
  /** the address to tell plain-HTTP clients to use instead */
  httpsUrl: string;
  limits: ListenerLimits;
}

export interface TcpListener {
  server: Server;
  close(): Promise<void>;
}

export async function listenTcp(o: TcpListenerOptions): Promise<TcpListener> {
  const l = o.limits;
  // head deadlines are checked every second (Node's default checks every 30 s)
  const http = createHttp({ connectionsCheckingInterval: 1000 }, o.app);
  const https = createHttps(
    {
      key: o.tls.key,
      cert: o.tls.cert,
      minVersion: 'TLSv1.2',
      handshakeTimeout: l.headTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    o.app,
  );
  for (const s of [http, https]) {
    harden(s, l);
    // they never listen themselves (connections come from `raw`): 'listening' starts Node's own
    // tracking of connections, which enforces the head and request deadlines
    s.emit('listening');
  }
  https.on('tlsClientError', (_e, sock) => sock.destroy());
  const perAddress = new Map<string, number>();
  const raw = createNet((sock: Socket) => {
    const addr = sock.remoteAddress ?? '';
    const n = (perAddress.get(addr) ?? 0) + 1;
    if (n > l.maxConnectionsPerAddress) return void sock.destroy();
    perAddress.set(addr, n);
    sock.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left > 0) perAddress.set(addr, left);
      else perAddress.delete(addr);
    });
    sock.on('error', () => sock.destroy());
    sock.setTimeout(l.headTimeoutMs, () => sock.destroy());
    sock.once('data', (first: Buffer) => {
      sock.pause();
      sock.setTimeout(0);
      sock.unshift(first);
      if (first[0] === 0x16) return void https.emit('connection', sock);
      if (o.plainHttp === 'loopback' && isLoopback(addr)) {
        http.emit('connection', sock);
        return void sock.resume();
      }
      const body = JSON.stringify({
        error: `this agent speaks TLS on this port; use ${o.httpsUrl} (fleet agent deploy pins its certificate), or reach it over ssh://`,
      });
      sock.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  });
  raw.maxConnections = l.maxConnections;
  await new Promise<void>((res, rej) => raw.once('error', rej).listen(o.port, o.host, () => res()));
  return {
    server: raw,
    close: () =>
      new Promise<void>((res) => {
        raw.close(() => res());
        for (const s of [http, https]) {
          s.close();
          s.closeIdleConnections();
        }
      }),
  };
}

function harden(s: HttpServer, l: ListenerLimits): void {
  s.headersTimeout = l.headTimeoutMs;
  s.requestTimeout = l.requestTimeoutMs;
  s.keepAliveTimeout = l.keepAliveTimeoutMs;
}

/** a peer address on this machine: 127.0.0.0/8, ::1, or 127.x mapped into IPv6 */
export function isLoopback(addr: string): boolean {
  const a = addr.replace(/^::ffff:/i, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}
