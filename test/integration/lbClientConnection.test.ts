// The LB's own reading of client connections (lb/front/): HTTP/1.0 and 1.1 answers framed for the
// client, HEAD, 100-continue, timeouts on idle and slow clients, and the framing tricks refused before
// anything reaches a backend. Real LB code in process, a recording backend, raw bytes from the client.
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFrontServer } from '../../lb/front/server';
import { serveLb } from '../../lb/server';
import { freePort } from '../harness/net';
import fc from 'fast-check';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { through, withLb } from '../harness/lbThrough';
import { rawExchange } from '../harness/rawHttp';

describe('built-in LB client connections (real LB code, a recording backend)', function () {
  this.timeout(60_000);

  it('answers HTTP/1.0 without chunks and closes; a chunked answer is delimited by the close', async () => {
    const { got, seen } = await through(['GET /chunked HTTP/1.0\r\n\r\n'], 2);
    assert.deepEqual(got.statuses, [200], got.text);
    assert.ok(got.closed, 'closed after the answer');
    assert.match(got.text, /\r\nconnection: close\r\n\r\nfirst part, seen 1\n$/);
    assert.doesNotMatch(got.text, /transfer-encoding/i);
    assert.deepEqual(
      seen.map((r) => r.path),
      ['/chunked'],
    );
  });

  it('re-frames a chunked answer for HTTP/1.1 and reads the next request on the same connection', async () => {
    const { got, seen } = await through(
      ['GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'],
      2,
    );
    assert.deepEqual(got.statuses, [200, 200], got.text);
    assert.match(
      got.text,
      /transfer-encoding: chunked\r\n(?:keep-alive: timeout=5\r\n)\r\nc\r\nfirst part, \r\n7\r\nseen 1\n\r\n0\r\n\r\nHTTP\/1\.1 200/,
    );
    assert.ok(!got.closed);
    // the idle timeout, told so the client does not send on a connection the LB is about to close
    assert.equal(got.text.match(/\r\nkeep-alive: timeout=5\r\n/g)?.length, 2, got.text);
    assert.deepEqual(
      seen.map((r) => r.path),
      ['/chunked', '/b'],
    );
  });

  it('adds the Date an answer lacks, and keeps the one it has; its own error answers have one too', async () => {
    const { got } = await through(['GET /nodate HTTP/1.1\r\nHost: x\r\n\r\nGET /dated HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
    const answers = got.text.split(/(?=^HTTP\/1\.1 )/m);
    assert.equal(answers.length, 2, got.text);
    for (const a of answers)
      assert.equal(a.match(/^date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} [\d:]{8} GMT\r$/gim)?.length, 1, a);
    assert.match(answers[0], /^date: /m); // ours (lower case): the backend sent none
    assert.match(answers[1], /^Date: /m); // the backend's, as it was
    const refusedOne = await through(['GET / HTTP/2.0\r\nHost: x\r\n\r\n'], 2);
    assert.match(refusedOne.got.text, /^date: .+ GMT\r$/m);
  });

  it('sends no body after HEAD, so the next answer starts right after its head', async () => {
    const { got } = await through(['HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
    assert.deepEqual(got.statuses, [200, 200], got.text);
    assert.match(got.text, /^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  it('answers 100 Continue to a client that waits for it, and forwards the body without the Expect', async () => {
    await withLb(async ({ backend, port }) => {
      const text = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        const t = setTimeout(() => (s.destroy(), reject(new Error(`no answer: ${got}`))), 5000);
        s.on('error', reject);
        s.on('data', (d) => {
          got += d.toString('latin1');
          if (got === 'HTTP/1.1 100 Continue\r\n\r\n') s.write('abc');
          if (!got.endsWith('seen 1\n')) return;
          clearTimeout(t);
          s.destroy();
          resolve(got);
        });
        s.write('PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n');
      });
      assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      assert.equal(backend.requests[0].body.toString(), 'abc');
      assert.equal(backend.requests[0].headers.expect, undefined);
    });
  });

  it('answers every request a client sent before ending its side of the connection, then closes', async () => {
    await withLb(async ({ port }) => {
      const text = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        const t = setTimeout(() => (s.destroy(), reject(new Error(`not closed: ${got}`))), 5000);
        s.on('error', reject);
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('end', () => (clearTimeout(t), resolve(got)));
        s.end('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /chunked HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      assert.deepEqual(
        [...text.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]),
        ['200', '200'],
        text,
      );
      assert.match(text, /seen 1\n[^]*connection: close\r\n[^]*seen 2\n\r\n0\r\n\r\n$/);
    });
  });

  // a client's FIN alone may be a half close (it still reads): the LB learns the client is gone when
  // its next write is refused, as HAProxy does without abortonclose
  it('a client that leaves mid-answer ends the request to the backend too', async () => {
    await withLb(async ({ backend, port }) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => s.once('data', r));
      s.destroy();
      for (const deadline = Date.now() + 5000; backend.cutOff === 0 && Date.now() < deadline;)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(backend.cutOff, 1);
    });
  });

  it('a body nobody read (answered 404 before it) ends quietly when the client leaves: the LB goes on', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'lbq-'));
    const lb = await serveLb({ http: `127.0.0.1:${port}`, control: `unix:${join(dir, 'control.sock')}` });
    try {
      for (const body of ['0x5\r\n', '5\r\nhel', '']) {
        const head = 'POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
        const got = await rawExchange(port, [head + body], 1);
        assert.deepEqual(got.statuses, [404], got.text);
      }
      const after = await rawExchange(port, ['GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
      assert.deepEqual(after.statuses, [404], 'the LB still answers');
    } finally {
      await lb.close();
    }
  });

  const refused: [string, string, number][] = [
    ['a folded line hiding a length', 'POST / HTTP/1.1\r\nHost: x\r\nX: a\r\n Content-Length: 5\r\n\r\nhello', 400],
    ['a space before the colon', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello', 400],
    ['two lengths', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello', 400],
    ['a bare LF in the head', 'POST / HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\nhello', 400],
    [
      'a chunk size in 0x',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n',
      400,
    ],
    [
      'a chunk size of 16 hex digits',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n',
      400,
    ],
    [
      'a chunk ended by LF alone',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n',
      400,
    ],
    ['chunked in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 400],
    ['an absolute URL', 'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['HTTP/2 in an HTTP/1 request line', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['a head over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`, 431],
  ];
  for (const [what, wire, status] of refused) {
    it(`refuses ${what} (${status}), says why, closes, and nothing whole reaches the backend`, async () => {
      const { got, seen } = await through([wire, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
      assert.deepEqual(got.statuses, [status], got.text);
      assert.match(got.text, /\{"error":"[^"]+/);
      assert.ok(got.closed, 'the connection was closed');
      assert.deepEqual(
        seen.filter((r) => r.body.length === 5 || r.path === '/after'),
        [],
      );
    });
  }

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const { got } = await through(['GET /a HTTP/1.1\r\nHost: x\r\n\r\n'], 2, {
      clientTimeouts: { keepAliveTimeoutMs: 300 },
    });
    assert.deepEqual(got.statuses, [200], got.text);
    assert.ok(got.closed, 'closed by the LB');
  });

  // (two answers awaited where one comes: the exchange then lasts until the LB closes)
  it('answers 408 to a client that trickles its head, or its body, past the limits', async () => {
    const head = await through(['GET / HTTP/1.1\r\nHo'], 2, { clientTimeouts: { headersTimeoutMs: 300 } });
    assert.deepEqual(head.got.statuses, [408], head.got.text);
    assert.ok(head.got.closed);
    const body = await through(['POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'], 2, {
      clientTimeouts: { requestTimeoutMs: 300 },
    });
    assert.deepEqual(body.got.statuses, [408], body.got.text);
    assert.ok(body.got.closed);
    assert.ok(body.seen.every((r) => r.body.length < 10));
  });
});

describe('LB client connection reader (lb/front, its own handler)', function () {
  this.timeout(30_000);

  it('reads no further request while a client leaves its answers unread', async () => {
    let handled = 0;
    const answer = Buffer.alloc(2048, 'a');
    const front = createFrontServer(
      (_req, res) => {
        handled++;
        res.writeHead(200, ['content-length', String(answer.length)]);
        res.end(answer);
      },
      {
        maxHeadBytes: 16 * 1024,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 10_000,
        clientTimeoutMs: 10_000,
      },
    );
    let served: Socket | undefined;
    front.server.on('connection', (c: Socket) => (served = c));
    await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', () => r()));
    const port = (front.server.address() as AddressInfo).port;
    const s = connect(port, '127.0.0.1');
    try {
      await new Promise((r) => s.once('connect', r));
      s.pause(); // reads nothing: the answers (40 MB in all) pile up in the kernel, then must stop
      const n = 20_000;
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n));
      // bounded wait: until the count stops moving for 300 ms (or 10 s)
      let last = -1;
      for (const deadline = Date.now() + 10_000; handled !== last && Date.now() < deadline;) {
        last = handled;
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(handled < n / 2, `${handled} of ${n} requests read while the client read no answer`);
      // one wait for the client, not one per answer read meanwhile
      assert.ok(served!.listenerCount('drain') <= 1, `${served!.listenerCount('drain')} drain listeners`);
      s.resume(); // and once it reads, all are answered
      for (const deadline = Date.now() + 10_000; handled < n && Date.now() < deadline;)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(handled, n);
    } finally {
      s.destroy();
      front.closeAllConnections();
      await new Promise((r) => front.server.close(r));
    }
  });
});

describe('LB client connection reader: a handler that throws', function () {
  this.timeout(30_000);

  it('answers 500 and closes when it throws before answering; keeps its answer when it throws after', async () => {
    const front = createFrontServer(
      (req, res) => {
        if (req.url === '/after') {
          res.writeHead(200, ['content-length', '3']);
          res.end('ok\n');
        }
        throw new Error('boom');
      },
      {
        maxHeadBytes: 16 * 1024,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 10_000,
        clientTimeoutMs: 10_000,
      },
    );
    await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', () => r()));
    const port = (front.server.address() as AddressInfo).port;
    try {
      const after = await rawExchange(port, ['GET /after HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
      assert.deepEqual(after.statuses, [200], after.text);
      const before = await rawExchange(port, ['GET /before HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
      assert.deepEqual(before.statuses, [500], before.text);
      assert.match(before.text, /"error":"the LB failed on this request: boom"/);
      assert.ok(before.closed);
    } finally {
      front.closeAllConnections();
      await new Promise((r) => front.server.close(r));
    }
  });
});

describe('built-in LB against mangled requests (property)', function () {
  this.timeout(120_000);

  // bytes that have split requests in two parsers' hands: line ends alone, folds, framing fields
  const tokens = [
    '\r',
    '\n',
    '\r\n',
    ' ',
    '\t',
    ':',
    '\x00',
    '\r\n ',
    'Content-Length: 0\r\n',
    'Content-Length: 60\r\n',
    'Transfer-Encoding: chunked\r\n',
    'Transfer-Encoding: \tchunked\r\n',
    ' chunked',
    '0\r\n\r\n',
    'HTTP/1.1\r\n',
  ];
  const smuggledReq = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  const mutation = fc.record({ at: fc.nat(), insert: fc.constantFrom(...tokens), drop: fc.nat({ max: 2 }) });

  it('property: whatever the bytes, the backend answers exactly the requests the LB answers with its answers (no desync)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.constantFrom('length', 'chunked'),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (method, framing, mutations) => {
          const body = `${smuggledReq}tail`;
          const first =
            framing === 'length'
              ? `${method} /first HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`
              : `${method} /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body)}0\r\n\r\n`;
          let wire = first + 'GET /second HTTP/1.1\r\nHost: x\r\n\r\n';
          for (const m of mutations) {
            const at = m.at % wire.length;
            wire = wire.slice(0, at) + m.insert + wire.slice(at + m.drop);
          }
          wire += 'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
          // the exchange lasts until the LB closes: after /last, on an error, or when a slow read times out
          const { got, seen } = await through([wire], 99, {
            clientTimeouts: { headersTimeoutMs: 300, requestTimeoutMs: 300 },
          });
          const answered = [...got.text.matchAll(/\r\nx-seen-path: ([^\r]*)\r\n/g)].map((m) => m[1]);
          const paths = seen.map((r) => r.path);
          const context = JSON.stringify({ wire, text: got.text.slice(0, 600), paths });
          // every answer from the backend is for a request it saw, in order; one more request may have
          // reached it when the LB then refused the rest of that request (its body) itself
          assert.deepEqual(paths.slice(0, answered.length), answered, context);
          assert.ok(paths.length <= answered.length + 1, context);
          if (paths.length > answered.length) {
            const statuses = [...got.text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
            assert.ok(statuses.length > 0 && statuses[statuses.length - 1] >= 400, context);
          }
        },
      ),
      { seed: fuzzSeed(20261127), numRuns: fuzzRuns(20), endOnFailure: true },
    );
  });
});

const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
