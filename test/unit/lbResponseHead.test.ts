// The LB's reading of a backend's answer head (lb/upstream/responseHead.ts): the framing of its body,
// what makes it malformed, where it ends, and that any bytes give a head or a MalformedAnswer.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { headEnd, MalformedAnswer, parseResponseHead } from '../../lb/upstream/responseHead';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

const parse = (text: string, method = 'GET') => parseResponseHead(text, method);
const malformed = (text: string, message: RegExp, method = 'GET') =>
  assert.throws(
    () => parse(text, method),
    (e: Error) => e instanceof MalformedAnswer && message.test(e.message),
  );

describe('LB answer head', () => {
  it('frames the body by its length, chunked, until the close, or not at all', () => {
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n').framing, { kind: 'length', bytes: 5 });
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\n\r\n').framing, { kind: 'close' });
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD').framing, { kind: 'none' });
    for (const s of [103, 204, 304])
      assert.deepEqual(parse(`HTTP/1.1 ${s} X\r\nContent-Length: 5\r\n\r\n`).framing, { kind: 'none' });
    // chunked wins over a length (RFC 9112 §6.3); a list of one repeated length is that length
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n').framing, {
      kind: 'chunked',
    });
    assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n').framing, { kind: 'length', bytes: 3 });
  });

  it('reads whether the backend keeps the connection, and for how long', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').close, true);
    assert.equal(parse('HTTP/1.0 200 OK\r\n\r\n').close, true);
    assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n').close, false);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\n\r\n').keepAliveSecs, 5);
  });

  it('unfolds folded lines and reads bare LFs, as HAProxy does', () => {
    const h = parse('HTTP/1.1 200 OK\nX-A: 1\n  2\nContent-Length: 0\n\n');
    assert.deepEqual(h.rawHeaders, ['X-A', '1 2', 'Content-Length', '0']);
  });

  it('refuses what cannot be forwarded as it is', () => {
    malformed('HTTP/1.1 2OO OK\r\n\r\n', /malformed status line/);
    malformed('ok\n', /malformed status line/);
    malformed('HTTP/1.1 600 Odd\r\n\r\n', /outside 100-599/);
    malformed('HTTP/1.1 099 Odd\r\n\r\n', /outside 100-599/);
    malformed('HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\n', /malformed header line/);
    malformed('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /two different Content-Length/);
    malformed('HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n', /not a number of bytes/);
    malformed('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /not a number of bytes/);
    malformed('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /only chunked can be forwarded/);
    malformed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', /only chunked/);
  });

  it('finds the end of a head: CRLF CRLF, LF LF or LF CRLF, whatever follows', () => {
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody\n\nmore')), 25);
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\nA: 1\n\nbody')), 22);
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\nA: 1\n\r\nbody')), 23);
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\n')), -1);
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\n\r')), -1);
  });

  it('property: any bytes give a head or a MalformedAnswer, never another exception', () => {
    const tokens = [
      'HTTP/1.1 ',
      'HTTP/1.0 ',
      '200',
      '101',
      '1',
      ' OK',
      '\r\n',
      '\n',
      ' ',
      '\t',
      ':',
      'Content-Length',
      'Transfer-Encoding',
      'chunked',
      ', ',
      '5',
      'Connection',
      'close',
      'Keep-Alive',
      'timeout=',
      '\x00',
      '\xff',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 })), { maxLength: 30 }),
        fc.constantFrom('GET', 'HEAD'),
        (parts, method) => {
          const buf = Buffer.from(parts.join('') + '\r\n\r\n', 'latin1');
          const end = headEnd(buf);
          assert.ok(end > 0 && end <= buf.length);
          try {
            const h = parse(buf.toString('latin1', 0, end), method);
            assert.ok(h.status >= 100 && h.status <= 599);
          } catch (e) {
            assert.ok(e instanceof MalformedAnswer, String(e));
          }
        },
      ),
      { seed: fuzzSeed(20261202), numRuns: fuzzRuns(500) },
    );
  });
});
