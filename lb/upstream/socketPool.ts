// The LB's TCP connections to one backend: kept alive between requests (the newest idle one is used
// first, so the others age out), at most one request on each at a time, never more open than the
// backend's budget allows (the caller counts tries against it; tunnels hold theirs). An idle connection
// is closed before the backend would close it (its `Keep-Alive: timeout=N`, less a second, else 4 s):
// a request written on a connection the backend is closing is the race keep-alive is known for. A
// sweep twice a second closes idle connections past their time and times out exchanges.
import { connect, type Socket } from 'node:net';

/** what uses a connection: one exchange (a request and its answer) at a time */
export interface ConnUser {
  /** when the exchange gives up waiting on the backend (0: not waiting) */
  deadline: number;
  onConnect(): void;
  onData(d: Buffer): void;
  /** the backend ended its side */
  onEnd(): void;
  onClose(error: NodeJS.ErrnoException | undefined): void;
  timedOut(): void;
}

export interface UpstreamConn {
  socket: Socket;
  connected: boolean;
  idleUntil: number;
  user: ConnUser | null;
  error?: NodeJS.ErrnoException;
}

/** how long an idle connection is kept when the backend does not say */
const defaultIdleMs = 4000;
/** never kept idle longer than this, whatever the backend says */
const maxIdleMs = 60_000;
/** how often idle connections and exchange deadlines are checked */
const sweepMs = 500;

const pools = new Set<SocketPool>();
let sweeper: NodeJS.Timeout | undefined;

export class SocketPool {
  private idle: UpstreamConn[] = [];
  private readonly all = new Set<UpstreamConn>();

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    pools.add(this);
    if (!sweeper) {
      sweeper = setInterval(sweepAll, sweepMs);
      sweeper.unref();
    }
  }

  /** open connections, idle and in use */
  get open(): number {
    return this.all.size;
  }

  /** a kept-alive connection (the newest idle one), or a new one; its user is set by whoever takes it */
  take(): UpstreamConn {
    const now = Date.now();
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (!c.socket.destroyed && !c.socket.readableEnded && c.idleUntil > now) return c;
      c.socket.destroy();
    }
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const c: UpstreamConn = { socket, connected: false, idleUntil: 0, user: null };
    this.all.add(c);
    socket.on('connect', () => {
      c.connected = true;
      c.user?.onConnect();
    });
    socket.on('data', (d: Buffer) => (c.user ? c.user.onData(d) : socket.destroy()));
    socket.on('end', () => (c.user ? c.user.onEnd() : socket.destroy()));
    socket.on('error', (e: NodeJS.ErrnoException) => (c.error ??= e));
    socket.on('close', () => {
      this.all.delete(c);
      const u = c.user;
      c.user = null;
      u?.onClose(c.error);
    });
    return c;
  }

  /** the exchange is done and the connection may carry another request, for `keepAliveSecs` (0: the default) */
  give(c: UpstreamConn, keepAliveSecs: number): void {
    c.user = null;
    if (c.socket.destroyed || c.socket.readableEnded) return void c.socket.destroy();
    const keep = keepAliveSecs > 0 ? Math.min(keepAliveSecs * 1000 - 1000, maxIdleMs) : defaultIdleMs;
    if (keep <= 0) return void c.socket.destroy();
    c.idleUntil = Date.now() + keep;
    this.idle.push(c);
  }

  /** the exchange is done and the connection cannot be reused */
  discard(c: UpstreamConn): void {
    c.user = null;
    c.socket.destroy();
  }

  sweep(now: number): void {
    if (this.idle.length > 0 && this.idle[0].idleUntil <= now)
      this.idle = this.idle.filter((c) => c.idleUntil > now || (c.socket.destroy(), false));
    for (const c of this.all) if (c.user && c.user.deadline !== 0 && now > c.user.deadline) c.user.timedOut();
  }

  /** closes every connection, idle or not */
  close(): void {
    pools.delete(this);
    for (const c of this.all) c.socket.destroy();
    this.idle = [];
  }
}

function sweepAll(): void {
  const now = Date.now();
  for (const p of pools) p.sweep(now);
}
