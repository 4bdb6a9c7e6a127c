// What the built-in LB forwards is exactly what the client sent: every body framed (Content-Length or
// chunked), nothing a client hides in a body reaches the backend as a request of its own, pipelined
// requests stay whole. Real LB code (serveLb) in process, a recording backend, raw bytes from the client.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lbWith, through } from '../harness/lbThrough';
import { cutAt } from '../harness/rawHttp';
import { RecordingBackend } from '../harness/recordingBackend';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

describe('built-in LB framing (real LB code, a recording backend)', function () {
  this.timeout(60_000);

  for (const method of ['DELETE', 'OPTIONS', 'GET', 'POST']) {
    it(`${method} with a chunked body holding a request: the backend sees one request, the body intact`, async () => {
      const { got, seen } = await through(
        [`${method} /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk(smuggled), '0\r\n\r\n'],
        1,
      );
      assert.deepEqual(got.statuses, [200], got.text);
      assert.deepEqual(
        seen.map((r) => `${r.method} ${r.path}`),
        [`${method} /first`],
      );
      assert.equal(seen[0].body.toString(), smuggled);
    });
  }

  it('a GET with Content-Length forwards its body, so the next request on the connection is not eaten', async () => {
    const { got, seen } = await through(
      ['GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n'],
      2,
    );
    assert.deepEqual(got.statuses, [200, 200], got.text);
    assert.deepEqual(
      seen.map((r) => [r.method, r.path, r.body.toString()]),
      [
        ['GET', '/a', 'hello'],
        ['GET', '/b', ''],
      ],
    );
  });

  it('refuses a transfer coding it cannot forward (501) and Content-Length with Transfer-Encoding (400); the backend sees nothing', async () => {
    const gz = await through(
      ['POST /z HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', chunk('xx'), '0\r\n\r\n'],
      1,
    );
    assert.deepEqual(gz.got.statuses, [501], gz.got.text);
    const both = await through(
      [
        'POST /z HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
        chunk('xx'),
        '0\r\n\r\n',
      ],
      1,
    );
    assert.deepEqual(both.got.statuses, [400], both.got.text);
    assert.deepEqual([...gz.seen, ...both.seen], []);
  });

  it('a chunked body over the limit is cut off with 413 and the connection closed; nothing whole reaches the backend', async () => {
    const big = 'x'.repeat(600);
    const { got, seen } = await through(
      [
        'POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
        chunk(big),
        chunk(big),
        '0\r\n\r\n',
        'GET /after HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      2,
      { maxBodyBytes: 1000 },
    );
    assert.deepEqual(got.statuses, [413], got.text);
    assert.ok(got.closed, 'the connection was closed');
    assert.ok(
      seen.every((r) => r.path !== '/after' && r.body.length <= 1000),
      JSON.stringify(seen.map((r) => [r.path, r.body.length])),
    );
  });

  it('refuses connections beyond --max-connections', async () => {
    const backend = await RecordingBackend.start();
    const { lb, port } = await lbWith(backend, { maxConnections: 2 });
    const { connect } = await import('node:net');
    const open = (): Promise<{ closedAtOnce: boolean; s: import('node:net').Socket }> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1');
        let closed = false;
        s.on('close', () => (closed = true));
        s.on('error', () => undefined);
        s.on('connect', () => setTimeout(() => resolve({ closedAtOnce: closed, s }), 200));
      });
    try {
      const conns = [await open(), await open(), await open()];
      assert.deepEqual(
        conns.map((c) => c.closedAtOnce),
        [false, false, true],
      );
      conns.forEach((c) => c.s.destroy());
    } finally {
      await lb.close();
      await backend.stop();
    }
  });

  it('sets X-Forwarded-For from the connection, after what the client claimed', async () => {
    const { seen } = await through(['GET /x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n'], 1);
    assert.equal(seen[0].headers['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
  });

  it('header values beyond ASCII pass byte for byte, both ways (UTF-8 and latin1 alike)', async () => {
    // HTTP header values are opaque bytes; a backend sending a UTF-8 filename must not break the answer
    const value = Buffer.from('attachment; filename="café ☃.txt" \xff', 'utf8');
    const { got, seen } = await through(
      [Buffer.concat([Buffer.from('GET /x HTTP/1.1\r\nHost: x\r\nX-Echo: '), value, Buffer.from('\r\n\r\n')])],
      1,
    );
    assert.deepEqual(got.statuses, [200], got.text);
    assert.equal(seen[0].headers['x-echo'], value.toString('latin1'));
    assert.ok(got.text.includes(`x-echo: ${value.toString('latin1')}\r\n`), got.text);
  });

  it('property: pipelined requests with any framing, split anywhere, reach the backend exactly as sent', async () => {
    const body = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 200 }),
      fc.constant(smuggled),
      fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a).toString('latin1')),
    );
    const req = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
      body,
      framing: fc.constantFrom('length', 'chunked', 'none'),
      chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(req, { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 8 }),
        async (reqs, cuts) => {
          // a body needs framing; HEAD gets none (its answer has no body to wait for either way)
          const sent = reqs.map((r, i) => ({
            ...r,
            body: r.framing === 'none' || r.method === 'HEAD' ? '' : r.body,
            path: `/r${i}`,
          }));
          const wire = Buffer.concat(
            sent.map((r) => {
              const bytes = Buffer.from(r.body, 'latin1');
              let head = `${r.method} ${r.path} HTTP/1.1\r\nHost: x\r\n`;
              if (r.framing === 'length' && r.method !== 'HEAD')
                return Buffer.concat([Buffer.from(head + `Content-Length: ${bytes.length}\r\n\r\n`), bytes]);
              if (r.framing !== 'chunked' || r.method === 'HEAD') return Buffer.from(head + '\r\n');
              head += 'Transfer-Encoding: chunked\r\n\r\n';
              const parts: Buffer[] = [Buffer.from(head)];
              let off = 0;
              for (let k = 0; off < bytes.length; k++) {
                const n = Math.min(r.chunkSizes[k % r.chunkSizes.length], bytes.length - off);
                parts.push(Buffer.from(`${n.toString(16)}\r\n`), bytes.subarray(off, off + n), Buffer.from('\r\n'));
                off += n;
              }
              parts.push(Buffer.from('0\r\n\r\n'));
              return Buffer.concat(parts);
            }),
          );
          const pieces = cutAt(wire, cuts);
          const { got, seen } = await through(pieces, sent.length);
          assert.deepEqual(
            got.statuses,
            sent.map(() => 200),
            got.text.slice(0, 500),
          );
          const key = (m: string, p: string, b: string) => `${m} ${p} ${Buffer.from(b, 'latin1').toString('base64')}`;
          assert.deepEqual(
            seen.map((r) => key(r.method, r.path, r.body.toString('latin1'))).sort(),
            sent.map((r) => key(r.method, r.path, r.body)).sort(),
          );
        },
      ),
      { seed: fuzzSeed(20261126), numRuns: fuzzRuns(25), endOnFailure: true },
    );
  });
});
