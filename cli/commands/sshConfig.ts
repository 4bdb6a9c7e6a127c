// `fleet ssh-config HOST...`: what Fleet resolves from ssh_config for each host, in `ssh -G`'s format
// and order, so it can be diffed against ssh's own resolution (ssh prints more keywords: keep its lines
// for the keywords Fleet prints):
//   diff <(fleet ssh-config web1) <(ssh -G web1 | awk 'NR==FNR{k[$1];next} $1 in k' <(fleet ssh-config web1) -)
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { parseTarget } from '../../core/inventory/target';
import { SshConfig } from '../../core/ssh/sshConfig';
import { dumpResolved } from '../../core/ssh/sshConfigDump';
import { positiveInt } from '../sshOptions';
import type { CliIO } from '../io';

export function registerSshConfig(program: Command, io: CliIO): void {
  program
    .command('ssh-config')
    .description("what Fleet resolves from ~/.ssh/config for each host, in ssh -G's format (diff it against ssh -G)")
    .argument('[hosts...]', 'names as you would give them to fleet run (user@host:port, ~/.ssh/config names)')
    .option(
      '--ssh-config <file>',
      'ssh_config to read alone, as ssh -F (default ~/.ssh/config, then /etc/ssh/ssh_config)',
    )
    .option('--user <name>', 'as ssh -l')
    .option('--port <n>', 'as ssh -p', positiveInt('--port'))
    .option('--identity <file>', 'as ssh -i (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--jump <hosts>', 'as ssh -J: user@host:port[,…]')
    .action(
      (
        hosts: string[],
        o: { sshConfig?: string; user?: string; port?: number; identity?: string[]; jump?: string },
      ) => {
        if (hosts.length === 0) throw new UsageError('no host given: use fleet ssh-config HOST...');
        const config = SshConfig.load(o.sshConfig);
        const blocks = hosts.map((h) => {
          const t = parseTarget(h);
          return dumpResolved(
            config.resolve(t.host, {
              user: t.user ?? o.user,
              port: t.port ?? o.port,
              identityFiles: o.identity,
              jump: o.jump,
            }),
          );
        });
        for (const w of config.warnings) io.err(`fleet: ${w}\n`);
        io.out(blocks.join('\n'));
      },
    );
}
