// The order of a streamed command's output against its marks, with a scripted channel: sshd reads
// stdout and stderr from two pipes, so stdout written right after the pid report can reach us first
// (seen in CI: `web1 | ui-test-42` missing from Run Command's stream while the summary had it), and a
// login may write on both before the command starts (rc files, "Could not chdir to home directory").
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { execCommand } from '../../core/ssh/exec';

type Step = ['out' | 'err', string] | ['exit', number];

/** `<OUT>` and `<PID>` in a script stand for the wire line's marks, with the nonce of the command sent */
function marksIn(text: string, command: string): string {
  const nonce = /FLEET-OUT %s[^0-9a-f]*([0-9a-f]{12})/.exec(command)?.[1] ?? 'none';
  return text.replaceAll('<OUT>', `FLEET-OUT ${nonce}`).replaceAll('<PID>', `FLEET-PID ${nonce}`);
}

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
          if (kind === 'out') ch.emit('data', Buffer.from(marksIn(v as string, cmd)));
          else if (kind === 'err') ch.stderr.emit('data', Buffer.from(marksIn(v as string, cmd)));
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
      ['out', '<OUT>\nui-test-42\n'],
      ['err', '<PID> 4242 4242\n'],
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
        ['out', '<OUT>\nhello\n'],
        ['err', '<PID> 77 77\n'],
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

  it("keeps what the login wrote before the marks apart, on both streams, cut anywhere (the issue's hosts)", async () => {
    const c = scriptedClient([
      ['err', 'bash: warning: setlocale: LC_ALL: cannot change locale (xx_YY.UTF-8)\nCould not chdir to home'],
      ['out', 'Welcome to web1\n'],
      ['err', ' directory /home/gone: No such file or directory\n<PID> 99 99'],
      ['out', 'no newline from the rc<OUT>\nout-1\n'],
      ['err', '\nerr-1\n'],
      ['out', 'out-2\n'],
      ['exit', 3],
    ]);
    const { out, err, r } = await streamed(c, 'cmd');
    assert.equal(out.join(''), 'out-1\nout-2\n');
    assert.equal(err.join(''), 'err-1\n');
    assert.equal(r.stdout, 'out-1\nout-2\n');
    assert.equal(r.stderr, 'err-1\n');
    assert.equal(r.exitCode, 3);
    assert.deepEqual(r.login, {
      stdout: 'Welcome to web1\nno newline from the rc',
      stderr:
        'bash: warning: setlocale: LC_ALL: cannot change locale (xx_YY.UTF-8)\nCould not chdir to home directory /home/gone: No such file or directory\n',
    });
  });

  it('a command that never started (no marks) keeps every byte as its output, streams none', async () => {
    const c = scriptedClient([
      ['out', 'partial FLEET-OU'],
      ['err', 'This account is currently not available.\n'],
      ['exit', 1],
    ]);
    const { out, err, r } = await streamed(c, 'cmd');
    assert.deepEqual(out, []);
    assert.deepEqual(err, []);
    assert.equal(r.stdout, 'partial FLEET-OU');
    assert.equal(r.stderr, 'This account is currently not available.\n');
    assert.equal(r.login, undefined);
  });
});
