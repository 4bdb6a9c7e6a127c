import assert from 'node:assert/strict';
import { compilePattern, ExpectBuffer, stripAnsi } from '../../core/ssh/expectMatcher';

describe('expect matcher', () => {
  it('matches a prompt split across chunks and without a newline', () => {
    const b = new ExpectBuffer();
    const re = [compilePattern('Do you want to continue? [Y/n] ')];
    b.feed('Reading package lists... Done\nDo you want to con');
    assert.equal(b.take(re), null);
    b.feed('tinue? [Y/n] ');
    assert.equal(b.take(re)?.index, 0);
    assert.equal(b.unread, '');
  });

  it('strips ANSI codes, also when an escape sequence is split across chunks', () => {
    const b = new ExpectBuffer();
    b.feed('\u001b[1mPass');
    b.feed('word\u001b[');
    b.feed('0m: ');
    assert.equal(b.take([compilePattern('Password: ')])?.text, 'Password: ');
    assert.equal(stripAnsi('a\u001b[31mb\u001b]0;title\u0007c\r\n'), 'abc\n');
  });

  it('takes the earliest of several cases (ExpectSwitchCase) and fills named captures', () => {
    const b = new ExpectBuffer();
    b.feed('expect is already the newest version (5.45).\nDo you want to continue? [Y/n] ');
    const m = b.take([
      compilePattern('Do you want to continue? [Y/n]'),
      compilePattern('/is already the newest version \\((?<version>[\\d.]+)\\)/'),
    ]);
    assert.equal(m?.index, 1);
    assert.deepEqual(m?.groups, { version: '5.45' });
  });

  it('treats a pattern as literal text unless it is /regex/', () => {
    assert.ok(compilePattern('a.b').test('a.b'));
    assert.ok(!compilePattern('a.b').test('axb'));
    assert.ok(compilePattern('/a.b/i').test('AXB'));
  });
});
