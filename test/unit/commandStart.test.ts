// Where a command's own output starts: whatever a login writes before the wire line's mark (any bytes,
// the mark's own beginning, no final newline) and wherever the channel cuts the stream, the login's
// bytes come out whole and in order, the mark's line is read, and the command's bytes follow intact.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CommandStart } from '../../core/ssh/commandStart';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { cutAt } from '../harness/rawHttp';

const mark = Buffer.from('FLEET-PID 0a1b2c3d4e5f ');

function run(wire: Buffer, cuts: number[]) {
  const login: Buffer[] = [];
  const s = new CommandStart(mark, (b) => login.push(Buffer.from(b)));
  const own: Buffer[] = [];
  for (const piece of cutAt(wire, cuts)) {
    const o = s.push(piece);
    if (o !== null) own.push(Buffer.from(o));
  }
  return { s, login: Buffer.concat(login), own: Buffer.concat(own) };
}

describe('CommandStart', () => {
  it("property: the login's bytes, the mark's line and the command's bytes come apart wherever the stream is cut", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.constantFrom('\n', 'FLEET-', 'FLEET-PID ', 'FLEET-PID 0a1b', 'bash: warning: setlocale\n'),
          ),
          { maxLength: 20 },
        ),
        fc.constantFrom('4242 4242', '77 ?', '', '1 1\r'),
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 30 }),
        (parts, line, command, cuts) => {
          const login = Buffer.concat(parts.map((p) => Buffer.from(p)));
          fc.pre(login.indexOf(mark) < 0);
          const wire = Buffer.concat([login, mark, Buffer.from(`${line}\n`), command]);
          const r = run(wire, cuts);
          assert.ok(r.s.done);
          assert.ok(r.login.equals(login));
          assert.equal(r.s.line, line.replace(/\r$/, ''));
          assert.ok(r.own.equals(Buffer.from(command)));
          assert.equal(r.s.rest().length, 0);
        },
      ),
      { seed: fuzzSeed(20261202), numRuns: fuzzRuns(300) },
    );
  });

  it('property: a stream that ends without the mark loses nothing (login bytes plus what was held back)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom('FLEET-PID ', 'FLEET-PID 0a1b2c3d4e5f 12')),
          {
            maxLength: 10,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 30 }),
        (parts, cuts) => {
          const wire = Buffer.concat(parts.map((p) => Buffer.from(p)));
          fc.pre(wire.indexOf(Buffer.concat([mark, Buffer.from('\n')])) < 0 && wire.indexOf(mark) < 0);
          const r = run(wire, cuts);
          assert.ok(!r.s.done);
          assert.equal(r.own.length, 0);
          assert.ok(Buffer.concat([r.login, r.s.rest()]).equals(wire));
        },
      ),
      { seed: fuzzSeed(20261203), numRuns: fuzzRuns(300) },
    );
  });

  it("a mark whose line never ends is cut after 80 bytes: the command's bytes are not held forever", () => {
    const r = run(Buffer.concat([mark, Buffer.alloc(100, 0x31)]), [10, 10, 10]);
    assert.ok(r.s.done);
    assert.equal(r.s.line, '1'.repeat(80));
    assert.equal(r.own.toString(), '1'.repeat(20));
  });

  it('a stream that ends inside the mark line hands the mark and the line back', () => {
    const r = run(Buffer.concat([Buffer.from('noise '), mark, Buffer.from('12 1')]), [3, 20]);
    assert.ok(!r.s.done);
    assert.equal(r.login.toString(), 'noise ');
    assert.equal(r.s.rest().toString(), `${mark}12 1`);
  });
});
