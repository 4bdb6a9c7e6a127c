// `fleet hostkeys scan TARGETS [--accept]`: collect host keys concurrently (no login), print one
// fingerprint table; --accept pins the new ones in known_hosts in OpenSSH format.
import type { Command } from 'commander';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { scanHostKeys } from '../../core/ssh/hostKeyScan';
import { UsageError } from '../../core/errors';
import { Exit } from '../exitCodes';
import { addSshFlags, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerHostkeys(program: Command, io: CliIO): void {
  const hk = program.command('hostkeys').description('host keys: scan and pin');
  addSshFlags(
    hk
      .command('scan')
      .description('collect host keys (key exchange only, no login) and print their fingerprints')
      .argument('[targets...]')
      .option('--accept', 'pin every new key in known_hosts (changed keys are never replaced)'),
  ).action(async (targets: string[], o: SshFlags & { accept?: boolean }) => {
    if (targets.length === 0 && !o.inventory) throw new UsageError('no targets: name hosts or use --inventory FILE');
    const ctx = sshContext(io, targets, o);
    const known = new KnownHosts(o.knownHosts);
    const keys = await scanHostKeys(ctx.endpoints, known, {
      concurrency: o.concurrency,
      timeoutMs: (o.timeout ?? 10) * 1000,
    });
    if (o.json) keys.forEach((k) => io.out(JSON.stringify({ ...k, key: k.key?.toString('base64') }) + '\n'));
    else {
      const w = Math.max(4, ...keys.map((k) => k.name.length));
      io.out(`${'HOST'.padEnd(w)}  ${'STATUS'.padEnd(8)} ${'TYPE'.padEnd(20)} FINGERPRINT\n`);
      for (const k of keys)
        io.out(
          `${k.name.padEnd(w)}  ${k.status.padEnd(8)} ${(k.type ?? '-').padEnd(20)} ${k.fingerprint ?? k.error}\n`,
        );
    }
    const fresh = keys.filter((k) => k.status === 'new');
    if (o.accept && fresh.length) {
      known.append(fresh.map((k) => ({ name: k.name, key: k.key! })));
      io.err(`fleet hostkeys: pinned ${fresh.length} new key(s) in ${o.knownHosts}\n`);
    }
    const changed = keys.filter((k) => k.status === 'changed' || k.status === 'revoked');
    for (const k of changed)
      io.err(
        `fleet hostkeys: ${k.name}: key ${k.status}; not pinned. If expected: ssh-keygen -f ${o.knownHosts} -R '${k.name}'\n`,
      );
    io.exitCode = keys.some((k) => k.status === 'error') || changed.length ? Exit.unreachable : Exit.ok;
  });
}
