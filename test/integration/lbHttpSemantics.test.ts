// HTTP semantics a backend may rely on, through the built-in LB: informational answers (103, 100)
// before the final one, hop-by-hop fields (those a Connection names included) removed both ways, a
// transfer coding other than chunked answered 502, chunked trailers checked, WebSocket upgrades
// tunnelled, counted and closed by a drain, and error answers that say what happened. Real LB code in
// process, raw backends that answer exactly what the test says, raw clients.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { lbOver } from '../harness/lbThrough';
import { waitFor } from '../harness/net';
import { RawBackend } from '../harness/rawBackend';
import { rawExchange } from '../harness/rawHttp';

const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n';

describe('built-in LB: HTTP semantics both ways (real LB code, raw backends)', function () {
  this.timeout(60_000);
  let backend: RawBackend;
  let lb: Awaited<ReturnType<typeof lbOver>>;
  before(async () => {
    backend = await RawBackend.start();
    lb = await lbOver([backend.addr], { upstreamTimeoutMs: 1000 });
  });
  after(async () => {
    await lb?.lb.close();
    await backend?.stop();
  });
  const send = (wire: string[], answers: number) => rawExchange(lb.port, wire, answers);

  it('forwards 103 Early Hints, then the final answer; only the final answer is counted', async () => {
    backend.on('/early', () => ({ write: ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n', ok] }));
    const before = (await lb.control.stats('/')).backends[0];
    const got = await send(['GET /early HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
    assert.deepEqual(got.statuses, [103, 200], got.text);
    assert.match(got.text, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/s\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.match(got.text, /\r\n\r\nok\n$/);
    const after = (await lb.control.stats('/')).backends[0];
    assert.equal(after.responses['2xx'] - before.responses['2xx'], 1);
    assert.equal(after.responses['1xx'] - before.responses['1xx'], 0);
  });

  it("forwards a backend's 100 Continue (after the LB's own), then its answer", async () => {
    backend.on('/continue', () => ({ write: ['HTTP/1.1 100 Continue\r\n\r\n', ok] }));
    const got = await send(
      ['POST /continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', 'abc'],
      3,
    );
    assert.deepEqual(got.statuses, [100, 100, 200], got.text);
    assert.equal(backend.seen('/continue')[0].body.toString(), 'abc');
  });

  it('removes hop-by-hop fields both ways, those the Connection field names included; Host stays', async () => {
    backend.on('/hop', () => ({
      write: [
        'HTTP/1.1 200 OK\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\nX-Resp-Kept: 2\r\nKeep-Alive: timeout=9\r\n' +
          'Proxy-Connection: keep-alive\r\nTrailer: X-T\r\nUpgrade: foo\r\nContent-Length: 3\r\n\r\nok\n',
      ],
    }));
    const got = await send(
      [
        'GET /hop HTTP/1.1\r\nHost: h.example\r\nConnection: X-Hop, keep-alive, Host\r\nX-Hop: 1\r\nX-Kept: 2\r\n' +
          'Keep-Alive: 300\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: foo\r\n\r\n',
      ],
      1,
    );
    assert.deepEqual(got.statuses, [200], got.text);
    const names = backend.seen('/hop')[0].fields.map(([k]) => k.toLowerCase());
    for (const gone of ['connection', 'x-hop', 'keep-alive', 'te', 'proxy-connection', 'upgrade'])
      assert.ok(!names.includes(gone), `${gone} reached the backend: ${names.join(', ')}`);
    assert.ok(names.includes('x-kept') && names.includes('host'), names.join(', '));
    assert.equal(backend.seen('/hop')[0].fields.find(([k]) => k.toLowerCase() === 'host')?.[1], 'h.example');
    const head = got.text.slice(0, got.text.indexOf('\r\n\r\n')).toLowerCase();
    for (const gone of ['x-resp-hop', 'proxy-connection', 'trailer:', 'upgrade:', 'keep-alive: timeout=9'])
      assert.ok(!head.includes(gone), `${gone} reached the client: ${head}`);
    assert.match(head, /\r\nx-resp-kept: 2\r\n/);
  });

  it('answers 502 to an answer in a transfer coding other than chunked, and counts it against the backend', async () => {
    backend.on('/gzip', () => ({
      write: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
      after: 'close',
    }));
    const before = (await lb.control.stats('/')).backends[0];
    const got = await send(['GET /gzip HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
    assert.deepEqual(got.statuses, [502], got.text);
    assert.match(
      got.text,
      /sent a malformed answer: Transfer-Encoding \\"gzip, chunked\\": only chunked can be forwarded/,
    );
    const after = (await lb.control.stats('/')).backends[0];
    assert.equal(after.errors - before.errors, 1);
  });

  it('refuses a chunked request body whose trailer is malformed (400, as HAProxy); a valid trailer passes', async () => {
    const n = backend.seen('/trailer').length;
    const bad = await send(
      ['POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nnot a field\r\n\r\n'],
      2,
    );
    assert.deepEqual(bad.statuses, [400], bad.text);
    assert.match(bad.text, /malformed chunked body: .*trailer/);
    assert.ok(bad.closed);
    assert.equal(backend.seen('/trailer').length, n, 'nothing reached the backend');
    const good = await send(
      ['POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n'],
      1,
    );
    assert.deepEqual(good.statuses, [200], good.text);
    assert.equal(backend.seen('/trailer')[n].body.toString(), 'abc');
  });

  it('answers what happened: a backend that sends nothing is a 504 that says so, a garbled answer a 502', async () => {
    backend.on('/silent', () => ({ write: [], after: 'hang' }));
    backend.on('/garbled', () => ({ write: ['HTTP/1.1 2OO OK\r\n\r\n'], after: 'close' }));
    const silent = await send(['GET /silent HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
    assert.deepEqual(silent.statuses, [504], silent.text);
    assert.match(silent.text, /backend 127\.0\.0\.1:\d+ sent nothing for 1000 ms/);
    const garbled = await send(['GET /garbled HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
    assert.deepEqual(garbled.statuses, [502], garbled.text);
    assert.match(garbled.text, /sent a malformed answer: malformed status line/);
  });

  it('tunnels a WebSocket upgrade, counts it, and a drain closes it after its timeout', async () => {
    backend.on('/ws', (r) =>
      r.fields.some(([k, v]) => k.toLowerCase() === 'upgrade' && v === 'websocket')
        ? {
            write: ['HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
            echo: true,
          }
        : { write: ['HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n'] },
    );
    const s = connect(lb.port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await waitFor(async () => assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n$/i), 10_000);
    assert.match(text, /\r\nupgrade: websocket\r\n/i);
    s.write('ping-1');
    await waitFor(async () => assert.match(text, /ping-1$/), 10_000);
    const st = (await lb.control.stats('/')).backends[0];
    assert.equal(st.upgrades, 1);
    assert.equal(st.tunnels, 1);
    assert.equal((await lb.control.poolHealth('/')).backends[0].tunnels, 1);
    const r = await lb.control.removeBackend('/', backend.addr, 1);
    assert.deepEqual(r, { drained: true, inflight: 0, tunnelsClosed: 1 });
    await closed;
    await lb.control.addBackend('/', backend.addr);
  });

  it('refuses a 101 to a request that asked for no upgrade (502)', async () => {
    backend.on('/sneaky', () => ({
      write: ['HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
      echo: true,
    }));
    const got = await send(['GET /sneaky HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
    assert.deepEqual(got.statuses, [502], got.text);
  });
});
