// The order of a streamed command's output against its pid report, with a scripted channel: sshd
// reads stdout and stderr from two pipes, so stdout written right after the report can reach us
// first (seen in CI: `web1 | ui-test-42` missing from Run Command's stream while the summary had it).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { execCommand } from '../../core/ssh/exec';

type Step = ['out' | 'err', string] | ['exit', number];

/** a Client whose exec answers each call with the next script, event by event */
function scriptedClient(...scripts: Step[][]): Client & { commands: string[] } {
  const commands: string[] = [];
  const client = {
    commands,
    exec(cmd: string, cb: (err: Error | undefined, ch: EventEmitter) => void) {
      commands.push(cmd);
      const script = scripts.shift()!;
      const ch = Object.assign(new EventEmitter(), { stderr: new EventEmitter(), close() {}, signal() {} });
      cb(undefined, ch);
      setImmediate(() => {
        for (const [kind, v] of script) {
          if (kind === 'out') ch.emit('data', Buffer.from(v as string));
          else if (kind === 'err') ch.stderr.emit('data', Buffer.from(v as string));
          else ch.emit('exit', v);
        }
        ch.emit('close');
      });
      return client;
    },
  };
  return client as unknown as Client & { commands: string[] };
}

/** runs `command` on `c`, collecting what was streamed to stdout and stderr */
async function streamed(c: Client, command: string) {
  const out: string[] = [];
  const err: string[] = [];
  const r = await execCommand(c, command, {
    onStdout: (b) => out.push(b.toString()),
    onStderr: (b) => err.push(b.toString()),
  });
  return { out, err, r };
}

describe('streamed exec output and the pid report', () => {
  it('streams stdout that arrived before the pid report, in order, once the report comes', async () => {
    const c = scriptedClient([
      ['out', 'ui-test-42\n'],
      ['err', 'FLEET-PID 4242 4242\n'],
      ['out', 'Linux\n'],
      ['err', 'warning\n'],
      ['exit', 0],
    ]);
    const { out, err, r } = await streamed(c, 'echo ui-test-42; uname -s');
    assert.deepEqual(out, ['ui-test-42\n', 'Linux\n']);
    assert.equal(err.join(''), 'warning\n');
    assert.equal(r.stdout, 'ui-test-42\nLinux\n');
    assert.equal(r.stderr, 'warning\n');
  });

  it('streams nothing of a login shell that refused the line, then the retry through /bin/sh', async () => {
    const c = scriptedClient(
      [
        ['err', "fish: Unsupported use of '='.\n"],
        ['exit', 127],
      ],
      [
        ['out', 'hello\n'],
        ['err', 'FLEET-PID 77 77\n'],
        ['exit', 0],
      ],
    );
    const { out, err, r } = await streamed(c, 'echo hello');
    assert.equal(c.commands.length, 2);
    assert.match(c.commands[1], /^exec \/bin\/sh -c /);
    assert.deepEqual(out, ['hello\n']);
    assert.deepEqual(err, []);
    assert.equal(r.exitCode, 0);
  });
});
