// `fleet run TARGETS -- CMD...`: one command on many hosts, identical outputs grouped under
// their host lists, then `N ok, N failed, N unreachable`.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { runOnHosts, type HostResult } from '../../core/ssh/fanout';
import { formatGroups, summarize } from '../../core/ssh/group';
import { shellJoin } from '../../core/ssh/quote';
import { Exit } from '../exitCodes';
import { addSshFlags, preloadKeys, sshContext, withHostKeyPrompt, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerRun(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('run')
      .description('run a command on hosts; each argument after -- stays one word on the remote shell')
      .argument('[targets...]', 'user@host:port or ~/.ssh/config names, then -- and the command'),
  ).action(async (args: string[], o: SshFlags) => {
    const raw = io.argv;
    const dash = raw.indexOf('--');
    const argv = dash >= 0 ? raw.slice(dash + 1) : [];
    const targets = dash >= 0 ? args.slice(0, args.length - argv.length) : args;
    if (argv.length === 0) throw new UsageError('no command given: use fleet run TARGETS -- CMD [ARGS...]');
    if (targets.length === 0 && !o.inventory)
      throw new UsageError('no targets given: name hosts before -- or use --inventory FILE');
    const ctx = sshContext(io, targets, o);
    await preloadKeys(ctx);
    let results: HostResult[];
    try {
      results = await withHostKeyPrompt(ctx, ctx.endpoints, (eps) =>
        runOnHosts(ctx.pool, eps, shellJoin(argv), {
          concurrency: o.concurrency,
          timeoutMs: o.timeout ? o.timeout * 1000 : undefined,
        }),
      );
    } finally {
      ctx.pool.close();
    }
    if (o.json) {
      for (const r of results) io.out(JSON.stringify({ ...r, error: r.error ? r.error.message : null }) + '\n');
    } else io.out(formatGroups(results));
    const s = summarize(results);
    io.exitCode = s.unreachable > 0 ? Exit.unreachable : s.failed > 0 ? Exit.failed : Exit.ok;
  });
}
