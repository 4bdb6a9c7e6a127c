// The LB's chunked-body reader: any body, chunked any way, cut into pieces anywhere, comes out whole and
// ends where the body ends; malformed framing is refused, never guessed at.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkedDecoder, ChunkedError, maxChunkMetaBytes } from '../../lb/front/chunked';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { cutAt } from '../harness/rawHttp';

/** feeds `pieces`; returns the body, and the bytes after it */
function decode(pieces: Buffer[]): { body: Buffer; rest: Buffer; done: boolean } {
  const d = new ChunkedDecoder();
  const body: Buffer[] = [];
  const rest: Buffer[] = [];
  for (const p of pieces) {
    if (d.finished) {
      rest.push(p);
      continue;
    }
    const step = d.push(p);
    body.push(...step.data);
    if (step.done) rest.push(p.subarray(step.used));
  }
  return { body: Buffer.concat(body), rest: Buffer.concat(rest), done: d.finished };
}

function refuses(wire: string, message: RegExp): void {
  assert.throws(
    () => decode([Buffer.from(wire, 'latin1')]),
    (e: Error) => e instanceof ChunkedError && message.test(e.message),
  );
}

describe('LB chunked body reader', () => {
  it('reads chunks, extensions and trailers, and stops at the end of the body', () => {
    const wire = '5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\nGET /next';
    const r = decode([Buffer.from(wire)]);
    assert.equal(r.body.toString(), 'hello, world!!!');
    assert.equal(r.rest.toString(), 'GET /next');
    assert.ok(r.done);
  });

  it('is not done before the last CRLF', () => {
    assert.equal(decode([Buffer.from('3\r\nabc\r\n0\r\n')]).done, false);
    assert.equal(decode([Buffer.from('3\r\nabc\r\n0\r\n\r')]).done, false);
  });

  it('refuses malformed framing', () => {
    refuses('\r\n', /without a size/);
    refuses('0x5\r\nhello\r\n0\r\n\r\n', /followed by "x"/);
    refuses(' 5\r\nhello\r\n0\r\n\r\n', /without a size/);
    refuses('5 \r\nhello\r\n0\r\n\r\n', /followed by byte 0x20/);
    refuses('-1\r\n', /without a size/);
    refuses('5\nhello\r\n0\r\n\r\n', /followed by byte 0x0a/);
    refuses('5\r\rhello', /byte 0x0d where LF/);
    refuses('5\r\nhelloX\r\n', /"X" where CR ends chunk data/);
    refuses('5\r\nhello\rX', /"X" where LF ends chunk data/);
    refuses('5\r\nhello\n0\r\n\r\n', /byte 0x0a where CR/);
    refuses('1000000000000000\r\n', /more than 15 hex digits/);
    refuses('5;a\x00b\r\n', /control character in a chunk extension/);
    refuses('0\r\nX: a\x01\r\n\r\n', /control character in a trailer/);
    refuses('0\r\nX: a\n\r\n', /control character in a trailer/);
    refuses(`1;${'e'.repeat(maxChunkMetaBytes + 1)}\r\n`, /bytes of chunk extensions and trailers/);
  });

  it('property: any body, chunked any way, cut anywhere, reads back whole and ends where it ends', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 10 }),
        fc.boolean(),
        fc.constantFrom('', ';x', ';a=b;c="d e"'),
        fc.constantFrom('', 'X-T: 1\r\n', 'A: 1\r\nB: two\r\n'),
        (bytes, sizes, cuts, upper, ext, trailer) => {
          const body = Buffer.from(bytes);
          const parts: Buffer[] = [];
          for (let off = 0, k = 0; off < body.length; k++) {
            const n = Math.min(sizes[k % sizes.length], body.length - off);
            const hex = upper ? n.toString(16).toUpperCase() : n.toString(16);
            parts.push(Buffer.from(`${hex}${ext}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
            off += n;
          }
          parts.push(Buffer.from(`0${ext}\r\n${trailer}\r\n`), Buffer.from('NEXT'));
          const wire = Buffer.concat(parts);
          const pieces = cutAt(wire, cuts);
          const r = decode(pieces);
          assert.ok(r.done);
          assert.ok(r.body.equals(body));
          assert.equal(r.rest.toString(), 'NEXT');
        },
      ),
      { seed: fuzzSeed(20261126), numRuns: fuzzRuns(200) },
    );
  });

  it('property: any bytes are read or refused with a ChunkedError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.constantFrom(
              ...['\r\n', '0', 'f', ';', '\n', '5\r\nhello\r\n'].map((t) => new Uint8Array(Buffer.from(t))),
            ),
          ),
          { maxLength: 12 },
        ),
        (parts) => {
          try {
            decode(parts.map((p) => Buffer.from(p)));
          } catch (e) {
            assert.ok(e instanceof ChunkedError, String(e));
          }
        },
      ),
      { seed: fuzzSeed(20261126), numRuns: fuzzRuns(500) },
    );
  });
});
