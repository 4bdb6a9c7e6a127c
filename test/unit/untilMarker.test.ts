// The marker reader under the kept shell: whatever the output holds and wherever the channel cuts it,
// what comes before the marker is passed on whole and in order, and what follows is handed back.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UntilMarker } from '../../core/ssh/untilMarker';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { cutAt } from '../harness/rawHttp';

describe('UntilMarker', () => {
  it('property: output cut anywhere comes out whole, and the bytes after the marker are handed back', () => {
    fc.assert(
      fc.property(
        // output that may hold the marker's beginning, or all of it but its last byte
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 50 }), fc.constantFrom('\n', 'ab', 'ab12', 'ab12-7', 'ab12-')), {
          maxLength: 20,
        }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }),
        (parts, cuts) => {
          const marker = Buffer.from('ab12-7 ');
          const output = Buffer.concat(parts.map((p) => Buffer.from(p)));
          fc.pre(output.indexOf(marker) < 0);
          const wire = Buffer.concat([output, marker, Buffer.from('0\nrest')]);
          const seen: Buffer[] = [];
          const u = new UntilMarker(marker, (b) => seen.push(Buffer.from(b)));
          const after: Buffer[] = [];
          for (const piece of cutAt(wire, cuts)) {
            const a = u.push(piece);
            if (a !== null) after.push(a);
          }
          assert.ok(u.done);
          assert.ok(Buffer.concat(seen).equals(output));
          assert.equal(Buffer.concat(after).toString(), '0\nrest');
        },
      ),
      { seed: fuzzSeed(20261126), numRuns: fuzzRuns(300) },
    );
  });

  it("holds back only what is the marker's beginning: a line shows while the command runs", () => {
    const seen: string[] = [];
    const u = new UntilMarker(Buffer.from('MARK '), (b) => seen.push(b.toString()));
    assert.equal(u.push(Buffer.from('a line\n')), null);
    assert.deepEqual(seen, ['a line\n']);
    assert.equal(u.push(Buffer.from('hello MA')), null);
    assert.deepEqual(seen, ['a line\n', 'hello ']); // "MA" may be the marker's start
    assert.equal(u.push(Buffer.from('X and on')), null);
    assert.equal(seen.join(''), 'a line\nhello MAX and on');
    assert.equal(u.rest().toString(), '');
    assert.equal(u.push(Buffer.from('MARK 0\n'))?.toString(), '0\n');
  });
});
