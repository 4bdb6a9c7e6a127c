// The proxy listener's own HTTP/1.1 server: node:http's server spent more per request than the proxy
// itself (BENCHMARKS.md), so client connections are read by FrontConnection instead. It keeps what
// node:http gave the LB: a cap on connections, idle, head and request timeouts, and a graceful close
// (idle connections now, busy ones when their answer is whole); and a client timeout on answers the
// client does not take.
import { createServer, type Server } from 'node:net';
import { FrontConnection, type FrontHandler, type FrontLimits } from './connection';

export interface FrontServer {
  server: Server;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/** how often deadlines are checked: a timeout fires up to this much late */
const sweepMs = 500;

export function createFrontServer(
  handler: FrontHandler,
  limits: FrontLimits,
  /** told of each request refused before the handler saw it, by status */
  refused?: (status: number) => void,
): FrontServer {
  const conns = new Set<FrontConnection>();
  // half-open: a client may end its side after its request and still read the answer
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const c = new FrontConnection(socket, handler, limits, refused);
    conns.add(c);
    socket.once('close', () => conns.delete(c));
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of conns)
      if ((c.deadline !== 0 && now > c.deadline) || (c.sendDeadline !== 0 && now > c.sendDeadline)) c.timedOut(now);
  }, sweepMs);
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
  return {
    server,
    closeIdleConnections() {
      for (const c of conns) c.shutdown();
    },
    closeAllConnections() {
      for (const c of conns) c.socket.destroy();
    },
  };
}
