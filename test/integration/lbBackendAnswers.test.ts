// Hostile and broken backend answers through the built-in LB (property): answers made of status lines,
// framing fields, chunks, bare LFs, folds and garbage, cut into pieces, then kept, closed, reset or left
// hanging. Whatever a backend sends, the client gets an answer or a closed connection (never a hang past
// the server timeout), nothing throws in the LB, it goes on answering, and its counters add up: every
// try ended exactly one way (answered, or the backend's error).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lbOver } from '../harness/lbThrough';
import { httpGet, waitFor } from '../harness/net';
import { fuzzing, fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { RawBackend } from '../harness/rawBackend';
import { probedExchange } from '../harness/rawHttp';

const tokens = [
  'HTTP/1.1 200 OK\r\n',
  'HTTP/1.1 103 Early Hints\r\n',
  'HTTP/1.1 100 Continue\r\n',
  'HTTP/1.0 204 No Content\r\n',
  'HTTP/1.1 500 Oops\r\n',
  'HTTP/1.1 101 Switching\r\n',
  'Content-Length: 3\r\n',
  'Content-Length: 10\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: gzip\r\n',
  'Connection: close\r\n',
  'Keep-Alive: timeout=1\r\n',
  'X-A: 1\r\n',
  ' folded\r\n',
  '\r\n',
  '\n',
  'ok\n',
  '3\r\nabc\r\n',
  '0\r\n\r\n',
  '0\r\nX-T: 1\r\n\r\n',
  'zz\r\n',
  'garbage',
  '\x00',
];

describe('built-in LB against broken backend answers (property)', function () {
  this.timeout(fuzzing ? 7_200_000 : 120_000);

  // found by the property (seed 903333732): a chunked answer whose first chunk is malformed in the same
  // read as its head was answered 502 but counted neither as an answer nor as an error
  it('a chunked answer broken right after its head is the backend error it is, counted once', async () => {
    const backend = await RawBackend.start();
    backend.on('/broken', () => ({
      write: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\nHTTP/1.1 100 Continue\r\n'],
      after: 'reset',
    }));
    const lb = await lbOver([backend.addr], {}, false);
    try {
      const got = await probedExchange(lb.port, ['GET /broken HTTP/1.1\r\nHost: x\r\n\r\n'], {
        probe: 'GET /probe HTTP/1.1\r\nHost: x\r\n\r\n',
        boundMs: 5000,
      });
      assert.deepEqual(got.statuses, [502], got.text);
      assert.match(got.text, /sent a malformed answer: a chunk without a size/);
      const t = (await lb.control.stats('/')).backends[0];
      assert.deepEqual([t.requests, t.errors, t.brokenAnswers, t.responses['2xx']], [2, 1, 0, 1]);
    } finally {
      await lb.lb.close();
      await backend.stop();
    }
  });

  it('property: an answer or a close for the client, no exception, the LB goes on, its counters add up', async () => {
    const backend = await RawBackend.start();
    const lb = await lbOver([backend.addr], { upstreamTimeoutMs: 300, connectTimeoutMs: 300 }, false);
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown) => thrown.push(e);
    process.on('uncaughtException', onUncaught);
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 12 }),
          fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 3 }),
          fc.constantFrom('keep' as const, 'close' as const, 'reset' as const, 'hang' as const),
          fc.constantFrom('GET', 'HEAD'),
          async (parts, cuts, after, method) => {
            const path = `/f/${++n}`;
            const text = parts.join('');
            const pieces: string[] = [];
            let at = 0;
            for (const c of cuts) if (at < text.length) pieces.push(text.slice(at, (at += c)));
            if (at < text.length) pieces.push(text.slice(at));
            backend.on(path, () => ({ write: pieces, after }));
            const got = await probedExchange(lb.port, [`${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`], {
              probe: 'GET /probe HTTP/1.1\r\nHost: x\r\n\r\n',
              boundMs: 5000,
            });
            const context = JSON.stringify({ text, cuts, after, method, got: got.text.slice(0, 300) });
            assert.ok(!got.timedOut, `the client waited past every timeout: ${context}`);
            assert.ok(got.statuses.length > 0 || got.closed, context);
            // every try has ended one way, and the LB still answers
            await waitFor(async () => {
              const t = (await lb.control.stats('/')).backends[0];
              const answered = Object.values(t.responses).reduce((a, b) => a + b, 0);
              assert.equal(t.requests, answered + t.errors + (t.clientAborts ?? 0), `${JSON.stringify(t)} ${context}`);
            }, 5000);
            assert.equal(await httpGet(`http://127.0.0.1:${lb.port}/`), 'ok\n');
            assert.deepEqual(thrown.map(String), [], context);
          },
        ),
        { seed: fuzzSeed(20261203), numRuns: fuzzRuns(40), endOnFailure: true },
      );
    } finally {
      process.off('uncaughtException', onUncaught);
      await lb.lb.close();
      await backend.stop();
    }
  });
});
