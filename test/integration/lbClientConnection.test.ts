// The LB's own reading of client connections (lb/front/): HTTP/1.0 and 1.1 answers framed for the
// client, HEAD, 100-continue, timeouts on idle and slow clients, and the framing tricks refused before
// anything reaches a backend. Real LB code in process, a recording backend, raw bytes from the client.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { lbWith, through } from '../harness/lbThrough';
import { RecordingBackend } from '../harness/recordingBackend';

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
      /transfer-encoding: chunked\r\n\r\nc\r\nfirst part, \r\n7\r\nseen 1\n\r\n0\r\n\r\nHTTP\/1\.1 200/,
    );
    assert.ok(!got.closed);
    assert.deepEqual(
      seen.map((r) => r.path),
      ['/chunked', '/b'],
    );
  });

  it('sends no body after HEAD, so the next answer starts right after its head', async () => {
    const { got } = await through(['HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
    assert.deepEqual(got.statuses, [200, 200], got.text);
    assert.match(got.text, /^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  it('answers 100 Continue to a client that waits for it, and forwards the body without the Expect', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port } = await lbWith(backend);
    try {
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
    } finally {
      await lb.close();
      await backend.stop();
    }
  });

  it('answers every request a client sent before ending its side of the connection, then closes', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port } = await lbWith(backend);
    try {
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
    } finally {
      await lb.close();
      await backend.stop();
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
