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
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 50 }), fc.constantFrom('\n', '\nab12', '\nab12-7', 'ab12-7 ')), {
          maxLength: 20,
        }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }),
        (parts, cuts) => {
          const marker = Buffer.from('\nab12-7 ');
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

  it('holds back no more than could be the marker', () => {
    const seen: string[] = [];
    const u = new UntilMarker(Buffer.from('\nMARK '), (b) => seen.push(b.toString()));
    assert.equal(u.push(Buffer.from('hello\nMA')), null);
    assert.deepEqual(seen, ['hel']); // "lo\nMA" could be the marker's start
    assert.equal(u.push(Buffer.from('X and on')), null);
    assert.equal(seen.join(''), 'hello\nMAX a');
    assert.equal(u.rest().toString(), 'nd on');
  });
});
