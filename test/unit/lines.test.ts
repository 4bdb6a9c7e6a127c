import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter } from '../../core/ssh/lines';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

function linesOf(chunks: Buffer[], maxLine?: number): string[] {
  const got: string[] = [];
  const s = new LineSplitter((l) => got.push(l), maxLine);
  for (const c of chunks) s.push(c);
  s.end();
  return got;
}

/** cuts the bytes at the given offsets (a UTF-8 character may be cut in two) */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('streamed lines (LineSplitter)', () => {
  it('gives the same lines however the bytes were cut, CRLF or LF, split characters included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
          { maxLength: 8 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(400), { maxLength: 10 }),
        (lines, crlf, trailing, at) => {
          const text = lines.join(crlf ? '\r\n' : '\n') + (trailing && lines.length ? '\n' : '');
          // a stream's lines: what ends in a newline, and the rest if the stream ended mid-line
          const want = text.split('\n').map((l) => l.replace(/\r$/, ''));
          if (want.at(-1) === '') want.pop();
          assert.deepEqual(linesOf(cut(Buffer.from(text), at)), want);
        },
      ),
      { seed: fuzzSeed(1117), numRuns: fuzzRuns(300) },
    );
  });

  it('passes a line longer than its bound on in marked pieces, holding no more than the bound', () => {
    const got = linesOf([Buffer.from('x'.repeat(25)), Buffer.from('y\nend')], 10);
    assert.deepEqual(got, ['xxxxxxxxxx…', 'xxxxxxxxxx…', 'xxxxxy', 'end']);
  });
});
