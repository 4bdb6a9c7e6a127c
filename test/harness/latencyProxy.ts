// A TCP proxy that puts a network between a client and a loopback server: every chunk is delivered
// `oneWayMs` (± jitter) after it arrived, in order, in both directions, optionally no faster than
// `bytesPerSec`. These machines have no kernel netem (and tests may not touch the host's qdiscs), so
// the harness adds the latency itself. Bounded: at most `maxQueuedBytes` wait per direction (the
// source is paused beyond that), and every connection ends with its peer.
import type { ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { spawnTracked, stopTracked } from './processes';

export interface LatencyOptions {
  /** added one-way delay, each direction */
  oneWayMs: number;
  /** uniform extra delay in [0, jitterMs) per chunk (order is kept: a chunk never overtakes another) */
  jitterMs?: number;
  /** a bandwidth cap per direction; unlimited when absent */
  bytesPerSec?: number;
  /** the most bytes waiting per direction before the sender is paused (default 4 MiB) */
  maxQueuedBytes?: number;
}

export class LatencyProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly listen: { host: string; port: number },
  ) {}

  /** listens on listenHost:listenPort and forwards each connection to target */
  static async start(
    listenHost: string,
    listenPort: number,
    target: { host: string; port: number },
    opts: LatencyOptions,
  ): Promise<LatencyProxy> {
    const sockets = new Set<Socket>();
    // half-open: an end in one direction must not cut the bytes still on their way in the other
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
      const upstream = connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
      sockets.add(client).add(upstream);
      const forget = (s: Socket) => () => sockets.delete(s);
      client.on('close', forget(client));
      upstream.on('close', forget(upstream));
      delayed(client, upstream, opts);
      delayed(upstream, client, opts);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, listenHost, () => resolve());
    });
    return new LatencyProxy(server, sockets, { host: listenHost, port: listenPort });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** `from`'s bytes reach `to` after the delay, in order; an end or an error follows the bytes before it */
function delayed(from: Socket, to: Socket, o: LatencyOptions): void {
  const queue: Array<{ due: number; chunk: Buffer | null }> = []; // null: the end of the stream
  const max = o.maxQueuedBytes ?? 4 << 20;
  let queued = 0;
  let lastDue = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0].due <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      queued -= chunk.length;
      to.write(chunk);
    }
    if (queued <= max / 2 && from.isPaused()) from.resume();
    if (queue.length) timer = setTimeout(flush, Math.max(0, queue[0].due - now));
  };
  const push = (chunk: Buffer | null) => {
    const now = performance.now();
    const transmit = chunk && o.bytesPerSec ? (chunk.length / o.bytesPerSec) * 1000 : 0;
    const jitter = o.jitterMs ? Math.random() * o.jitterMs : 0;
    // in order: never before the chunk ahead of it; a bandwidth cap serialises transmissions
    lastDue = Math.max(lastDue + transmit, now + o.oneWayMs + jitter + transmit);
    queue.push({ due: lastDue, chunk });
    if (chunk) {
      queued += chunk.length;
      if (queued > max) from.pause();
    }
    if (!timer) timer = setTimeout(flush, Math.max(0, queue[0].due - now));
  };
  from.on('data', (b: Buffer) => push(b));
  from.on('end', () => push(null));
  from.on('error', () => to.destroy());
  from.on('close', () => {
    // the peer went away without an end (reset): after the bytes in flight, so do we
    if (!from.readableEnded) setTimeout(() => to.destroy(), o.oneWayMs);
  });
  to.on('error', () => from.destroy());
}

/**
 * Proxies in a process of their own: a benchmark that times other programs (spawnSync) or measures
 * its own CPU must not share its event loop with the bytes it delays.
 */
export class LatencyProxyProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(
    routes: Array<{ listen: { host: string; port: number }; target: { host: string; port: number } }>,
    opts: LatencyOptions,
  ): Promise<LatencyProxyProcess> {
    const tsx = require.resolve('tsx/cli');
    const child = spawnTracked(process.execPath, [tsx, __filename, JSON.stringify({ routes, opts })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b) => {
        out += b;
        if (out.includes('ready\n')) resolve();
      });
      child.once('exit', (c) => reject(new Error(`latency proxy exited ${c}: ${out}`)));
    });
    return new LatencyProxyProcess(child);
  }

  async stop(): Promise<void> {
    await stopTracked(this.child);
  }
}

if (require.main === module) {
  const { routes, opts } = JSON.parse(process.argv[2]) as {
    routes: Array<{ listen: { host: string; port: number }; target: { host: string; port: number } }>;
    opts: LatencyOptions;
  };
  void Promise.all(routes.map((r) => LatencyProxy.start(r.listen.host, r.listen.port, r.target, opts))).then(() =>
    process.stdout.write('ready\n'),
  );
}
