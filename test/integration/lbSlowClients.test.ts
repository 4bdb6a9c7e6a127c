// Slow clients bounded as HAProxy bounds them: a client that sends its body a byte at a time takes no
// backend connection while it does (the body is read up to 16 KiB first), one that never reads its
// answer is cut after the client timeout, each backend takes a budget of requests at once and the rest
// wait in the pool's queue. With 300 such clients on the LB, a normal GET is still answered and the
// LB's memory stays bounded. Every loop here is bounded in count and time.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import type { Socket } from 'node:net';
import { lbOver } from '../harness/lbThrough';
import { waitFor } from '../harness/net';
import { RecordingBackend } from '../harness/recordingBackend';
import { openRawClient, openSlowClients, rssMiB } from '../harness/slowClients';
import { BuiltinLbProcess } from '../harness/webApps';

/** GET url; the status, or a rejection after `boundMs` (a bound on a wait, not a speed assertion) */
function getStatus(url: string, boundMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(boundMs, () => req.destroy(new Error(`GET ${url}: no answer within ${boundMs} ms`)));
    req.on('error', reject);
  });
}

describe('built-in LB under slow clients', function () {
  this.timeout(120_000);

  it('300 slow clients (150 trickling a body, 150 never reading a 32 MiB answer): a GET is still answered, memory bounded', async () => {
    const backend = await RecordingBackend.start();
    const lb = await BuiltinLbProcess.start();
    const sockets: Socket[] = [];
    try {
      const c = lb.client();
      await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 60 });
      await c.addBackend('/', backend.addr);
      for (let i = 0; i < 20; i++) assert.equal(await getStatus(`${lb.url}/warm`, 30_000), 200);
      const before = rssMiB(lb.proc!.pid!);
      sockets.push(...(await openSlowClients(lb.httpPort, 150, '/slow-body')));
      // every non-reader’s request reached the backend and holds its answer there
      await waitFor(async () => {
        assert.equal(backend.requests.filter((r) => r.path.startsWith('/big')).length, 150);
        const h = await c.poolHealth('/');
        assert.equal(h.backends[0].inflight, 150);
      }, 60_000);
      // the bound is for a machine under load, far above what an answer takes; without the buffering
      // the trickled bodies held every connection to the backend and this GET waited for them (120 s)
      assert.equal(await getStatus(`${lb.url}/normal`, 30_000), 200);
      assert.deepEqual(
        backend.requests.filter((r) => r.path === '/slow-body'),
        [],
        'no trickled body took a backend connection',
      );
      const grew = rssMiB(lb.proc!.pid!) - before;
      // 150 answers of 32 MiB (4.7 GiB) wait on clients that read nothing: the LB keeps a window of each
      assert.ok(grew < 256, `the LB grew by ${grew.toFixed(0)} MiB`);
    } finally {
      for (const s of sockets) s.destroy();
      await lb.stop();
      await backend.stop();
    }
  });

  it('an answer the client takes nothing of is cut after the client timeout, counted as the client’s, its backend freed', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port, control } = await lbOver([backend.addr], { clientTimeouts: { clientTimeoutMs: 1000 } });
    try {
      const s = await openRawClient(port, `GET /big?bytes=${64 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`, false);
      await waitFor(async () => assert.equal(backend.requests.filter((r) => r.path.startsWith('/big')).length, 1));
      // bounded: 20 times the client timeout
      await waitFor(async () => {
        const t = (await control.stats('/')).backends[0];
        assert.equal(t.clientTimeouts, 1, JSON.stringify(t));
        assert.equal(t.errors, 0);
        assert.equal((await control.poolHealth('/')).backends[0].inflight, 0);
      }, 20_000);
      // the client learns it when it reads: a reset, before the answer was whole
      let got = 0;
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.on('data', (d: Buffer) => (got += d.length));
      s.resume();
      await closed;
      assert.ok(got < 64 * 1024 * 1024, `the client got ${got} bytes`);
      await backend.idle(10_000);
    } finally {
      await lb.close();
      await backend.stop();
    }
  });

  it('a client that stalls its body after it began to stream is answered 408, the try counted as its timeout', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port, control } = await lbOver([backend.addr], { clientTimeouts: { requestTimeoutMs: 500 } });
    try {
      // more than the 16 KiB read before a backend connection is taken: the try streams the rest
      const s = await openRawClient(
        port,
        `POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(20_000)}`,
        true,
      );
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      await waitFor(async () => assert.equal(backend.requests.filter((r) => r.path === '/stalled').length, 1));
      await closed; // bounded by the request timeout
      assert.match(text, /^HTTP\/1\.1 408 /);
      await waitFor(async () => {
        const t = (await control.stats('/')).backends[0];
        assert.equal(t.clientTimeouts, 1, JSON.stringify(t));
        assert.equal(t.errors, 0);
        assert.equal((await control.poolHealth('/')).backends[0].inflight, 0);
      });
      await backend.idle(10_000); // its connection to the backend is closed: the backend saw the request end
    } finally {
      await lb.close();
      await backend.stop();
    }
  });

  it('each backend takes its budget of requests at once; the next waits in the queue and goes when one ends', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port, control } = await lbOver([backend.addr], { poolLimits: { maxConnsPerBackend: 2 } });
    const holders: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++)
        holders.push(
          await openRawClient(port, `GET /big?bytes=${64 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`, false),
        );
      await waitFor(async () => assert.equal((await control.poolHealth('/')).backends[0].inflight, 2));
      const queued = getStatus(`http://127.0.0.1:${port}/next`, 30_000);
      await waitFor(async () => assert.equal((await control.stats('/')).front?.queued, 1));
      assert.equal(backend.requests.filter((r) => r.path === '/next').length, 0, 'over the budget: not sent');
      holders[0].destroy();
      assert.equal(await queued, 200);
      assert.equal((await control.stats('/')).front?.queued, 0);
    } finally {
      for (const s of holders) s.destroy();
      await lb.close();
      await backend.stop();
    }
  });
});
