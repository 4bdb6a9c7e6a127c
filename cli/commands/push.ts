// `fleet push TARGETS LOCAL REMOTE`: SFTP upload to many hosts, sha256 verified on each host,
// renamed into place atomically; an operation on the fan-out (core/ssh/forHosts.ts); progress on a
// terminal.
import { accessSync, constants, statSync } from 'node:fs';
import type { Command } from 'commander';
import { cannotRead, errorMessage, UsageError, ValidationError } from '../../core/errors';
import { forHosts } from '../../core/ssh/forHosts';
import { pushFile, sha256File } from '../../core/ssh/sftpPush';
import { exitOf } from '../exitCodes';
import { addSshFlags, hostKeysOf, preloadKeys, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerPush(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('push')
      .description('copy a file to hosts over SFTP; sha256 checked on each host, then renamed into place')
      .argument('<args...>', 'TARGETS... LOCAL REMOTE (targets may also come from --inventory)'),
  ).action(async (args: string[], o: SshFlags) => {
    if (args.length < 2 || (args.length < 3 && !o.inventory))
      throw new UsageError('usage: fleet push TARGETS... LOCAL REMOTE');
    const remote = args[args.length - 1];
    const local = args[args.length - 2];
    const targets = args.slice(0, -2);
    try {
      accessSync(local, constants.R_OK);
    } catch (e) {
      throw new ValidationError(local, '', cannotRead(e));
    }
    const size = statSync(local).size;
    const sha = await sha256File(local);
    const ctx = sshContext(io, targets, o);
    await preloadKeys(ctx);
    const total = size * ctx.endpoints.length;
    const sent = new Map<string, number>();
    let last = 0;
    const progress = (host: string, bytes: number) => {
      sent.set(host, bytes);
      if (!io.stderrIsTTY || o.json || Date.now() - last < 200) return;
      last = Date.now();
      const done = [...sent.values()].reduce((a, b) => a + b, 0);
      io.err(`\rfleet push: ${((done / total) * 100).toFixed(0)}% of ${(total / 1048576).toFixed(1)} MiB`);
    };
    try {
      const outcomes = await forHosts(
        ctx.endpoints,
        (ep) => pushFile(ctx.pool, ep, local, remote, { sha256: sha, onProgress: (b) => progress(ep.label, b) }),
        {
          concurrency: o.concurrency,
          hostKeys: hostKeysOf(ctx),
          onOutcome: (r) =>
            io.out(
              o.json
                ? JSON.stringify(r.ok ? { ...r.value, error: null } : { host: r.host, error: errorMessage(r.error) }) +
                    '\n'
                : r.ok
                  ? `${r.host}: ${remote} ok (${r.value.bytes} bytes, sha256 ${r.value.sha256.slice(0, 16)}…, ${r.value.durationMs} ms${r.value.via === 'exec' ? ', over an exec channel: the host has no SFTP' : ''})\n`
                  : `${r.host}: FAILED: ${errorMessage(r.error)}\n`,
            ),
        },
      );
      io.exitCode = exitOf(outcomes);
    } finally {
      ctx.pool.close();
      if (io.stderrIsTTY && !o.json) io.err('\n');
    }
  });
}
