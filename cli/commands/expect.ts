// `fleet expect HOST SCRIPT.json`: answer a program's interactive prompts over SSH (a pty),
// print the transcript with secrets masked.
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors';
import { readJsonFile } from '../../core/jsonFile';
import { expectScriptSchema, ExpectError, runExpect } from '../../core/ssh/expect';
import { Exit } from '../exitCodes';
import { forHosts } from '../../core/ssh/forHosts';
import { addSshFlags, hostKeysOf, preloadKeys, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerExpect(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('expect')
      .description(
        "drive a program's interactive prompts over SSH with a script (steps of expect/send, fail patterns, secrets masked)",
      )
      .argument('<host>')
      .argument('<script.json>'),
  ).action(async (host: string, file: string, o: SshFlags) => {
    const script = readJsonFile(file, expectScriptSchema);
    const ctx = sshContext(io, [host], o);
    await preloadKeys(ctx);
    // Ctrl-C stops the program (SIGTERM, then SIGKILL after --kill-after); a second one leaves at once
    const abort = new AbortController();
    const offInterrupt = io.onInterrupt(() => (abort.signal.aborted ? io.exit?.(130) : abort.abort()));
    try {
      const [r] = await forHosts(
        ctx.endpoints,
        (ep) =>
          ctx.pool.withClient(ep, (c) =>
            runExpect(c, script, {
              host: ep.label,
              signal: abort.signal,
              killAfterMs: o.killAfter !== undefined ? o.killAfter * 1000 : undefined,
            }),
          ),
        { concurrency: 1, hostKeys: hostKeysOf(ctx) },
      );
      if (!r.ok) {
        const transcript = r.error instanceof ExpectError ? r.error.transcript : '';
        if (transcript) io.out(o.json ? '' : transcript.endsWith('\n') ? transcript : transcript + '\n');
        if (o.json)
          io.out(JSON.stringify({ host: r.host, ok: false, error: errorMessage(r.error), transcript }) + '\n');
        io.err(`fleet expect: ${errorMessage(r.error)}\n`);
        io.exitCode = r.error instanceof ExpectError ? Exit.failed : Exit.unreachable;
        return;
      }
      const res = r.value;
      if (o.json)
        io.out(
          JSON.stringify({
            host: r.host,
            ok: true,
            exitCode: res.exitCode,
            captures: res.captures,
            transcript: res.transcript,
          }) + '\n',
        );
      else io.out(res.transcript.endsWith('\n') ? res.transcript : res.transcript + '\n');
      io.exitCode = res.exitCode === null || res.exitCode === 0 ? Exit.ok : Exit.failed;
    } finally {
      offInterrupt();
      ctx.pool.close();
    }
  });
}
