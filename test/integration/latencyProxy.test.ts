// The harness's latency-injecting proxy (benchmarks put SSH hosts behind it): bytes arrive intact and
// in order whatever the jitter, an end follows the bytes before it, and no byte arrives sooner than
// the delay (a lower bound the proxy guarantees, not a timing measurement).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { LatencyProxy } from '../harness/latencyProxy';
import { freePort } from '../harness/net';

describe('latency proxy (test harness)', function () {
  this.timeout(30_000);
  let echo: Server;
  let echoPort: number;

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    echoPort = await freePort();
    await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', r));
  });
  after(() => echo.close());

  it('delivers 2 MB in random writes through jitter and a bandwidth cap, intact and in order', async () => {
    const p = await LatencyProxy.start(
      '127.0.0.1',
      await freePort(),
      { host: '127.0.0.1', port: echoPort },
      {
        oneWayMs: 2,
        jitterMs: 5,
        bytesPerSec: 50 << 20,
        maxQueuedBytes: 256 << 10,
      },
    );
    try {
      const data = randomBytes(2 << 20);
      const s = connect(p.listen.port, '127.0.0.1');
      const got: Buffer[] = [];
      s.on('data', (b) => got.push(b));
      const ended = new Promise((r) => s.on('end', r));
      for (let off = 0, i = 0; off < data.length && i < 100_000; i++) {
        const n = 1 + Math.floor(Math.random() * 70_000);
        s.write(data.subarray(off, off + n));
        off += n;
      }
      s.end();
      await ended;
      assert.ok(Buffer.concat(got).equals(data), 'the echoed bytes are the bytes sent');
    } finally {
      await p.stop();
    }
  });

  it('holds every byte back at least the one-way delay, each way', async () => {
    const p = await LatencyProxy.start(
      '127.0.0.1',
      await freePort(),
      { host: '127.0.0.1', port: echoPort },
      {
        oneWayMs: 30,
      },
    );
    try {
      const s = connect(p.listen.port, '127.0.0.1');
      await new Promise((r) => s.on('connect', r));
      const t0 = performance.now();
      s.write('ping');
      await new Promise((r) => s.once('data', r));
      const rtt = performance.now() - t0;
      s.destroy();
      assert.ok(rtt >= 59, `an echo came back after ${rtt.toFixed(1)} ms, under 2 × 30 ms`);
    } finally {
      await p.stop();
    }
  });
});
