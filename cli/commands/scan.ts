// `fleet scan CIDR...`: ping every address, log in to live ones, run `uname -a`; JSON lines.
import type { Command } from 'commander';
import { requireProgram } from '../../core/local/program';
import { checkScanSize, parseCidr } from '../../core/inventory/cidr';
import { scan } from '../../core/targets/scan';
import { Exit } from '../exitCodes';
import { addSshFlags, hostKeysOf, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerScan(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('scan')
      .description(
        'ping each address of the networks, log in over SSH to live ones and run uname -a (JSON lines in address order)',
      )
      .argument('<cidr...>', 'IPv4 networks, e.g. 10.0.0.0/24')
      .option('--force', 'allow networks larger than a /16'),
  ).action(async (cidrTexts: string[], o: SshFlags & { force?: boolean }) => {
    const cidrs = cidrTexts.map(parseCidr);
    checkScanSize(cidrs, Boolean(o.force));
    requireProgram('ping');
    const ctx = sshContext(io, [], { ...o, hostKeyPolicy: o.hostKeyPolicy ?? 'strict' });
    try {
      await scan(ctx.pool, cidrs, {
        endpoint: ctx.endpointFor,
        sshConcurrency: o.concurrency,
        timeoutMs: (o.timeout ?? 10) * 1000,
        hostKeys: hostKeysOf(ctx),
        onRecord: (r) => io.out(JSON.stringify(r) + '\n'),
      });
    } finally {
      ctx.pool.close();
    }
    io.exitCode = Exit.ok;
  });
}
