// The line sent for a command, run by real local shells (sh, bash): what the user wrote runs as
// written (quotes, backslashes, $, several lines), after the marks on stdout and stderr (the pid
// report). A one-line command is eval'd from a quoted word; only a command of several lines goes
// through `$(printf %b …)`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { posixLine } from '../../core/ssh/remoteShell';

describe('posixLine (run by real sh and bash)', () => {
  const commands: Array<[string, string]> = [
    [`printf '%s|' 'a b' "c\\\\d" '$HOME' \\$x; echo`, 'a b|c\\d|$HOME|$x|\n'],
    ['echo one\necho "two  spaces"\nprintf "%s\\n" back\\\\slash', 'one\ntwo  spaces\nback\\slash\n'],
    ["echo 'single '\\'' quote' && echo \"double \\\" quote\"", `single ' quote\ndouble " quote\n`],
  ];
  for (const shell of ['/bin/sh', '/bin/bash']) {
    for (const [cmd, want] of commands) {
      it(`${shell}: ${JSON.stringify(cmd).slice(0, 50)}`, () => {
        const line = posixLine(cmd, 'n0nce');
        assert.ok(!line.includes('\n'), 'the line never spans lines');
        assert.equal(line.includes('printf %b'), cmd.includes('\n'));
        assert.ok(!line.includes('FLEET-OUT n0nce') && !line.includes('FLEET-PID n0nce'), 'no mark in the line itself');
        const r = spawnSync(shell, ['-c', line], { encoding: 'utf8' });
        assert.equal(r.stdout, `FLEET-OUT n0nce\n${want}`, r.stderr);
        assert.match(r.stderr, /^FLEET-PID n0nce \d+ \d+\n$/);
      });
    }
  }
});

describe('posixLine under a shell that traces its input (set -x in an rc file)', () => {
  it('the trace holds no mark: the nonce is put together at run time', () => {
    const r = spawnSync('/bin/bash', ['-xc', posixLine('echo hi', 'n0nce')], { encoding: 'utf8' });
    assert.equal(r.stdout, 'FLEET-OUT n0nce\nhi\n');
    assert.equal(r.stderr.split('FLEET-PID n0nce ').length, 2, r.stderr); // the one real mark only
    assert.ok(!r.stderr.includes('FLEET-OUT n0nce'), r.stderr);
  });
});
