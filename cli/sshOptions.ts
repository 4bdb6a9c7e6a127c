// The SSH flags every remote command takes (design.md), and what they build: resolved
// endpoints, a host-key checker with its policy, a key store and a connection pool. The flags are
// the command line, as ssh's -o is: --known-hosts replaces a host's UserKnownHostsFile; a
// --host-key-policy given is made stricter by a host's StrictHostKeyChecking, never looser; without
// it the config's value applies, else ask on a terminal and strict without (hostKeyPolicy.ts).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { readPrivateFile } from '../core/token';
import { UsageError } from '../core/errors';
import { loadInventory, inventoryHosts } from '../core/inventory/fleetFile';
import { SshConfig } from '../core/ssh/sshConfig';
import { KeyStore } from '../core/ssh/auth';
import type { SshEndpoint } from '../core/ssh/endpoint';
import { resolveInventoryHost, resolveTarget } from '../core/targets/resolve';
import type { AskHostKeys } from '../core/ssh/askOnce';
import { HostKeyChecker, type HostKeyPolicy, type NewHostKey } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool } from '../core/ssh/pool';
import type { CliIO } from './io';
import { askSecret, askYesNo } from './prompt';

export interface SshFlags {
  user?: string;
  port?: number;
  identity?: string[];
  knownHosts: string;
  /** --known-hosts was given (not its default): it replaces a host's UserKnownHostsFile */
  knownHostsGiven?: boolean;
  hostKeyPolicy?: HostKeyPolicy;
  concurrency: number;
  timeout?: number;
  killAfter?: number;
  json?: boolean;
  inventory?: string;
  group?: string;
  sshConfig?: string;
  jump?: string;
  passwordFile?: string;
  askPassword?: boolean;
}

export function positiveInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new UsageError(`${flag} must be a positive whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

export function wholeNumber(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a whole number of seconds, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

export function addSshFlags(cmd: Command): Command {
  // whether --known-hosts was given, or is its default, decides whether ssh_config's files apply
  cmd.hook('preAction', (c) => {
    c.setOptionValue('knownHostsGiven', c.getOptionValueSource('knownHosts') === 'cli');
  });
  return cmd
    .option('--user <name>', 'SSH user (default: from ~/.ssh/config, else the local user)')
    .option('--port <n>', 'SSH port (default 22)', positiveInt('--port'))
    .option('--identity <file>', 'private key file (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option(
      '--known-hosts <file>',
      "known_hosts file (replaces ssh_config's UserKnownHostsFile; default: that, else ~/.ssh/known_hosts)",
      join(homedir(), '.ssh', 'known_hosts'),
    )
    .addOption(
      new Option(
        '--host-key-policy <policy>',
        "unknown host keys: strict refuses, accept-new pins, ask shows one table (default: ssh_config's StrictHostKeyChecking, else ask on a TTY, else strict; a host's StrictHostKeyChecking may make it stricter)",
      ).choices(['strict', 'accept-new', 'ask']),
    )
    .option('--concurrency <n>', 'hosts at once', positiveInt('--concurrency'), 50)
    .option(
      '--timeout <seconds>',
      'per-host deadline; the remote command is stopped when it passes (see --kill-after)',
      positiveInt('--timeout'),
    )
    .option(
      '--kill-after <seconds>',
      'a command stopped by --timeout, Ctrl-C or an expect deadline gets SIGTERM first (its cleanup runs), then SIGKILL after this many seconds, as timeout -k (default 5; 0: SIGKILL at once)',
      wholeNumber('--kill-after'),
    )
    .option('--inventory <file>', 'take hosts from this fleet.json')
    .option('--group <name>', 'with --inventory: only this group')
    .option('--ssh-config <file>', 'ssh_config to read (default ~/.ssh/config)')
    .option('--jump <hosts>', 'jump hosts, as ProxyJump: user@host:port[,…]')
    .option(
      '--password-file <file>',
      'password for password auth, from a file of mode 0600 (or FLEET_SSH_PASSWORD_FILE); never on the command line',
    )
    .option('--ask-password', 'ask for the password on the terminal, without echo')
    .option('--json', 'machine-readable output, one JSON object per line');
}

export interface SshContext {
  io: CliIO;
  pool: SshPool;
  checker: HostKeyChecker;
  keys: KeyStore;
  endpoints: SshEndpoint[];
  /** builds an endpoint for an address with the same flags (for scans) */
  endpointFor: (address: string) => SshEndpoint;
}

export function sshContext(io: CliIO, targets: readonly string[], f: SshFlags): SshContext {
  const policy: HostKeyPolicy = f.hostKeyPolicy ?? (io.interactive ? 'ask' : 'strict');
  const config = SshConfig.load(f.sshConfig);
  const defaults = { user: f.user, port: f.port, identityFiles: f.identity, jump: f.jump };
  const endpoints = targets.map((t) => resolveTarget(t, config, defaults));
  if (f.inventory) {
    const inv = loadInventory(f.inventory);
    const hosts = inventoryHosts(inv, f.group);
    if (f.group && hosts.length === 0)
      throw new UsageError(`--group ${f.group}: no host of ${f.inventory} is in that group`);
    endpoints.push(...hosts.map((h) => resolveInventoryHost(h, inv, config, defaults)));
  } else if (f.group) throw new UsageError('--group needs --inventory FILE');
  // what the config asks and Fleet will not do (Match exec), said once
  for (const w of config.warnings) io.err(`fleet: ${w}\n`);
  const checker = new HostKeyChecker(new KnownHosts(f.knownHosts), policy, {
    policyGiven: f.hostKeyPolicy !== undefined,
    knownHostsGiven: f.knownHostsGiven ?? true,
    canAsk: io.interactive,
  });
  // FLEET_DEBUG=1: what ssh -v would say (skipped identity files, a ProxyCommand's stderr)
  const debug = io.env.FLEET_DEBUG ? (m: string) => io.err(`fleet debug: ${m}\n`) : undefined;
  const keys = new KeyStore({ passphrase: (q) => askSecret(io, q), password: passwordSource(io, f), debug });
  // as many handshakes in flight as hosts at once (--concurrency): a fan-out to 50 hosts does not wait
  // for the first 32 to finish; per server address the pool still keeps under sshd's MaxStartups
  const pool = new SshPool({ hostKeys: checker, keys, log: debug, maxHandshakes: f.concurrency });
  return { io, pool, checker, keys, endpoints, endpointFor: (a) => resolveTarget(a, config, defaults) };
}

/** where a password comes from: a 0600 file (flag or environment), or a prompt without echo; never argv */
function passwordSource(
  io: CliIO,
  f: SshFlags,
): ((user: string, host: string, role: 'target' | 'jump') => Promise<string | undefined>) | undefined {
  const file = f.passwordFile ?? io.env.FLEET_SSH_PASSWORD_FILE;
  if (file) {
    const pw = readPrivateFile(file, 'password file').replace(/\r?\n$/, '');
    // the file's password is for the hosts named: a jump host on the way never sees it
    return async (_user, _host, role) => (role === 'target' ? pw : undefined);
  }
  if (f.askPassword) {
    // one answer for the hosts named (a fan-out asks once); each jump host is asked for its own
    let forTargets: Promise<string | undefined> | undefined;
    const forJumps = new Map<string, Promise<string | undefined>>();
    return (user, host, role) => {
      if (role === 'target') return (forTargets ??= askSecret(io, `Password for ${user}@${host}: `));
      const key = `${user}@${host}`;
      if (!forJumps.has(key)) forJumps.set(key, askSecret(io, `Password for ${key} (jump host): `));
      return forJumps.get(key)!;
    };
  }
  return undefined;
}

/** loads every identity file up front, so an unreadable key fails before any host is contacted */
export async function preloadKeys(ctx: SshContext): Promise<void> {
  const seen = new Set<string>();
  for (const ep of ctx.endpoints) {
    for (const hop of [...ep.jump, ep]) {
      for (const f of hop.identityFiles) {
        if (seen.has(f)) continue;
        seen.add(f);
        await ctx.keys.load(f, true);
      }
    }
  }
}

/**
 * Under the `ask` policy, hosts with unknown keys fail the first pass; one table of every new
 * fingerprint, one question, then those hosts run again (core/ssh/askOnce.ts).
 */
/** what forHosts needs to ask once about new host keys on this terminal */
export function hostKeysOf(ctx: SshContext): { checker: HostKeyChecker; ask: AskHostKeys } {
  return { checker: ctx.checker, ask: (keys) => askOnTerminal(ctx, keys) };
}

async function askOnTerminal(ctx: SshContext, keys: NewHostKey[]): Promise<string[]> {
  const io = ctx.io;
  const width = Math.max(...keys.map((p) => p.name.length), 4);
  io.err(`The authenticity of ${keys.length} host(s) can't be established:\n`);
  io.err(`  ${'HOST'.padEnd(width)}  TYPE                 FINGERPRINT\n`);
  for (const p of keys) io.err(`  ${p.name.padEnd(width)}  ${p.type.padEnd(20)} ${p.fingerprint}\n`);
  const files = [...new Set(keys.map((k) => k.file ?? ctx.checker.knownHosts.file))].join(', ');
  const yes = await askYesNo(io, `Trust these ${keys.length} host key(s) and add them to ${files}? [y/N] `);
  return yes ? keys.map((k) => k.name) : [];
}
