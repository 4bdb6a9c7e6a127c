// The line sent for a command, run by real local shells (sh, bash): what the user wrote runs as
// written (quotes, backslashes, $, several lines), after the pid report on stderr. A one-line command
// is eval'd from a quoted word; only a command of several lines goes through `$(printf %b …)`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pidMarker, posixLine } from '../../core/ssh/remoteShell';

describe('posixLine (run by real sh and bash)', () => {
  const commands: Array<[string, string]> = [
    [`printf '%s|' 'a b' "c\\\\d" '$HOME' \\$x; echo`, 'a b|c\\d|$HOME|$x|\n'],
    ['echo one\necho "two  spaces"\nprintf "%s\\n" back\\\\slash', 'one\ntwo  spaces\nback\\slash\n'],
    ["echo 'single '\\'' quote' && echo \"double \\\" quote\"", `single ' quote\ndouble " quote\n`],
  ];
  for (const shell of ['/bin/sh', '/bin/bash']) {
    for (const [cmd, want] of commands) {
      it(`${shell}: ${JSON.stringify(cmd).slice(0, 50)}`, () => {
        const line = posixLine(cmd);
        assert.ok(!line.includes('\n'), 'the line never spans lines');
        assert.equal(line.includes('printf %b'), cmd.includes('\n'));
        const r = spawnSync(shell, ['-c', line], { encoding: 'utf8' });
        assert.equal(r.stdout, want, r.stderr);
        assert.match(r.stderr, new RegExp(`^${pidMarker}\\d+ \\d+\\n`));
      });
    }
  }
});
