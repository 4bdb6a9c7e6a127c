// `fleet run TARGETS -- CMD...`: one command on many hosts, identical outputs grouped under
// their host lists, then `N ok, N failed, N unreachable`. `--stream`: each line as it arrives,
// `host | line`, until the commands end or Ctrl-C stops them (exit 130).
import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import { errorMessage, UsageError } from '../../core/errors';
import { runOnHosts, type HostResult } from '../../core/ssh/fanout';
import { formatGroups, formatSummary, summarize } from '../../core/ssh/group';
import { shellJoin } from '../../core/ssh/quote';
import { Exit } from '../exitCodes';
import { addSshFlags, hostKeysOf, preloadKeys, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerRun(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('run')
      .description('run a command on hosts; each argument after -- stays one word on the remote shell')
      .argument('[targets...]', 'user@host:port or ~/.ssh/config names, then -- and the command')
      .option(
        '--stream',
        'print each line as it arrives, prefixed with its host (tail -f, journalctl -f: until Ctrl-C, which stops them)',
      ),
  ).action(async (args: string[], o: SshFlags & { stream?: boolean }) => {
    const raw = io.argv;
    const dash = raw.indexOf('--');
    const argv = dash >= 0 ? raw.slice(dash + 1) : [];
    const targets = dash >= 0 ? args.slice(0, args.length - argv.length) : args;
    if (argv.length === 0) throw new UsageError('no command given: use fleet run TARGETS -- CMD [ARGS...]');
    if (targets.length === 0 && !o.inventory)
      throw new UsageError('no targets given: name hosts before -- or use --inventory FILE');
    const ctx = sshContext(io, targets, o);
    await preloadKeys(ctx);
    // Ctrl-C (the way a streamed `tail -f` ends): every remote command is stopped (SIGTERM, then
    // SIGKILL after --kill-after), then the summary; a second Ctrl-C leaves at once
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per running host, each removed when it ends
    const offInterrupt = io.onInterrupt(() => {
      if (abort.signal.aborted) io.exit?.(130);
      else abort.abort(new Error('stopped by Ctrl-C'));
    });
    const width = Math.min(24, Math.max(...ctx.endpoints.map((e) => e.label.length)));
    const streamLine = (host: string, stream: 'stdout' | 'stderr', line: string) => {
      const text = o.json ? JSON.stringify({ host, stream, line }) + '\n' : `${host.padEnd(width)} | ${line}\n`;
      if (stream === 'stdout' || o.json) io.out(text);
      else io.err(text);
    };
    let results: HostResult[];
    try {
      results = await runOnHosts(ctx.pool, ctx.endpoints, shellJoin(argv), {
        concurrency: o.stream ? Math.max(o.concurrency, ctx.endpoints.length) : o.concurrency,
        timeoutMs: o.timeout ? o.timeout * 1000 : undefined,
        killAfterMs: o.killAfter !== undefined ? o.killAfter * 1000 : undefined,
        signal: abort.signal,
        hostKeys: hostKeysOf(ctx),
        // streamed: each host keeps only what its result line needs, however long it runs
        ...(o.stream ? { onLine: streamLine, maxOutputBytes: 64 * 1024 } : {}),
      });
    } finally {
      offInterrupt();
      ctx.pool.close();
    }
    if (o.stream) {
      const failed = results.filter((r) => r.error || r.exitCode !== 0);
      for (const r of failed)
        io.err(
          `${r.host.padEnd(width)} | ${r.error ? errorMessage(r.error) : r.signal ? `killed by SIG${r.signal}` : `exit ${r.exitCode}`}\n`,
        );
      io.out(`${formatSummary(summarize(results))}${abort.signal.aborted ? ' (stopped by Ctrl-C)' : ''}\n`);
      io.exitCode = abort.signal.aborted ? 130 : exitOf(results);
      return;
    }
    if (o.json) {
      for (const r of results) io.out(JSON.stringify({ ...r, error: r.error ? r.error.message : null }) + '\n');
    } else io.out(formatGroups(results) + (abort.signal.aborted ? '(stopped by Ctrl-C)\n' : ''));
    io.exitCode = abort.signal.aborted ? 130 : exitOf(results);
  });
}

function exitOf(results: readonly HostResult[]): number {
  const s = summarize(results);
  return s.unreachable > 0 ? Exit.unreachable : s.failed > 0 ? Exit.failed : Exit.ok;
}
