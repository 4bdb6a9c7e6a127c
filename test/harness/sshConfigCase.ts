// A case of ssh_config resolved by Fleet and by `ssh -G` (OpenSSH, run as a test user whose
// ~/.ssh holds the case's files, with exactly the environment Fleet is given), and the comparison:
// the same value for every keyword Fleet resolves, or the same refusal at the same file and line,
// apart from the deliberate limits a case names (test/fixtures/sshConfig/README.md).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from '../../core/errors';
import { SshConfig, type CommandLine } from '../../core/ssh/sshConfig';
import { dumpedKeywords, dumpResolved } from '../../core/ssh/sshConfigDump';
import type { TestUser } from './testUser';

export interface Case {
  name: string;
  description: string;
  /** relative to ~/.ssh; `config` is the one read */
  files: Record<string, string>;
  hosts: string[];
  args: string[];
  env: Record<string, string>;
  modes: Array<[string, number]>;
  /** ssh accepts, Fleet refuses at this file and line, for these hosts (all when empty) */
  fleetRefuses?: { file: string; line: number; hosts: string[] };
  limit?: 'match-exec' | 'newer-keyword';
}

/** a corpus file (test/fixtures/sshConfig/NAME.conf) as a case */
export function loadCase(dir: string, file: string): Case {
  const text = readFileSync(join(dir, file), 'utf8');
  const parts = text.split(/^=== (.+)\r?\n/m);
  const files: Record<string, string> = { config: parts[0] };
  for (let i = 1; i < parts.length; i += 2) files[parts[i]] = parts[i + 1];
  const directive = (name: string) =>
    [...parts[0].matchAll(new RegExp(`^# ${name}: (.*?)\\r?$`, 'gm'))].map((m) => m[1].trim());
  const [where, ...refusedHosts] = directive('fleet-refuses')[0]?.split(/\s+/) ?? [];
  const refuses = where?.split(':');
  return {
    name: file.replace(/\.conf$/, ''),
    description: /^# (.*?)\r?$/m.exec(parts[0])?.[1] ?? file,
    files,
    hosts: directive('hosts')[0]?.split(/\s+/) ?? [],
    args: directive('args')[0]?.split(/\s+/) ?? [],
    env: Object.fromEntries(directive('env').map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string])),
    modes: directive('mode').map((m) => {
      const [f, mode] = m.split(/\s+/);
      return [f, parseInt(mode, 8)] as [string, number];
    }),
    fleetRefuses: refuses ? { file: refuses[0], line: Number(refuses[1]), hosts: refusedHosts } : undefined,
    limit: directive('limit')[0] as Case['limit'],
  };
}

/** ssh's -l -p -i -J as Fleet's command line */
export function commandLine(args: string[]): CommandLine {
  const cmd: { user?: string; port?: number; identityFiles: string[]; jump?: string } = { identityFiles: [] };
  for (let i = 0; i < args.length; i += 2) {
    const v = args[i + 1];
    if (args[i] === '-l') cmd.user = v;
    else if (args[i] === '-p') cmd.port = Number(v);
    else if (args[i] === '-i') cmd.identityFiles.push(v);
    else if (args[i] === '-J') cmd.jump = v;
    else throw new Error(`corpus: unknown argument ${args[i]}`);
  }
  return cmd;
}

/**
 * `ssh -G` for each host, as the test user with exactly the environment Fleet is given: one runuser
 * and one shell for the case (a process each per host would cost twice the time), hosts and
 * arguments as argv, each host's output (stdout and stderr) ended by its exit status
 */
function sshG(u: TestUser, env: Record<string, string>, args: string[], hosts: string[]) {
  const script = 'for h in "$@"; do ssh -G -F "$0" $FLEET_SSH_ARGS -- "$h" 2>&1; echo "=== $?"; done';
  const vars = Object.entries({ ...env, FLEET_SSH_ARGS: args.join(' ') }).map(([k, v]) => `${k}=${v}`);
  const cfg = join(u.home, '.ssh', 'config');
  return new Promise<Array<{ code: number; out: string }>>((resolve, reject) => {
    execFile(
      'runuser',
      ['-u', u.name, '--', 'env', '-i', ...vars, 'sh', '-fc', script, cfg, ...hosts],
      { encoding: 'utf8' },
      (err, out) => {
        if (err) return reject(err);
        const parts = out.split(/^=== (\d+)\n/m);
        resolve(hosts.map((_, i) => ({ out: parts[2 * i], code: Number(parts[2 * i + 1]) })));
      },
    );
  });
}

const keywordSet = new Set(dumpedKeywords);

/** the tree's files and directories to the user (no process per case) */
function chownTree(dir: string, u: TestUser): void {
  chownSync(dir, u.uid, u.gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) chownTree(join(dir, e.name), u);
    else chownSync(join(dir, e.name), u.uid, u.gid);
  }
}

/** ssh -G's lines for the keywords Fleet resolves, in its order */
function theirLines(out: string): string[] {
  return out.split('\n').filter((l) => keywordSet.has(l.split(' ')[0]));
}

/** where ssh says it refused the config: every `FILE line N` (or `FILE: line N`) it printed */
function sshRefusalsAt(err: string): string[] {
  return [...err.matchAll(/(\S+?):? line (\d+)/g)].map((m) => `${basename(m[1])} line ${m[2]}`);
}

/** resolves every host of the case with Fleet and with ssh -G, and asserts they agree */
export async function compareCase(u: TestUser, c: Case): Promise<void> {
  const ssh = join(u.home, '.ssh');
  rmSync(ssh, { recursive: true, force: true });
  mkdirSync(ssh, { mode: 0o700 });
  for (const [name, text] of Object.entries(c.files)) {
    mkdirSync(dirname(join(ssh, name)), { recursive: true });
    writeFileSync(join(ssh, name), text, { mode: 0o600 });
  }
  chownTree(ssh, u);
  for (const [f, mode] of c.modes) chmodSync(join(ssh, f), mode);
  const env = { HOME: u.home, USER: u.name, LOGNAME: u.name, PATH: '/usr/bin:/bin', ...c.env };
  const local = { home: u.home, localUser: u.name, localHost: hostname(), uid: u.uid, env };
  // a config ssh refuses for any host is refused by load; one it refuses for some hosts, by resolve
  const config = refusalOf(() => SshConfig.load(join(ssh, 'config'), local));
  const cmd = commandLine(c.args);
  if (c.limit === 'match-exec') {
    // what ssh resolves when every Match exec command fails is what Fleet resolves
    const never = c.files.config.replace(/^(\s*Match\b.*?\bexec)[ \t]+("[^"]*"|\S+)/gim, '$1 false');
    writeFileSync(join(ssh, 'config'), never);
  }
  const theirs = await sshG(u, env, c.args, c.hosts);
  c.hosts.forEach((host, i) => {
    const ssh = theirs[i];
    const where = `${c.name}, host ${JSON.stringify(host)}`;
    const ours =
      config instanceof ValidationError
        ? config
        : refusalOf(() => dumpResolved(config.resolve(host, cmd)).trimEnd().split('\n'));
    if (c.limit === 'newer-keyword') {
      assert.notEqual(ssh.code, 0, `${where}: OpenSSH 9.2 refuses the newer keyword`);
      assert.ok(Array.isArray(ours), `${where}: Fleet reads it: ${(ours as Error).message}`);
      return;
    }
    if (c.fleetRefuses && (c.fleetRefuses.hosts.length === 0 || c.fleetRefuses.hosts.includes(host))) {
      assert.equal(ssh.code, 0, `${where}: ssh accepts it: ${ssh.out}`);
      if (Array.isArray(ours)) return assert.fail(`${where}: Fleet should refuse it, resolved ${ours.join(' | ')}`);
      assert.equal(basename(ours.file), c.fleetRefuses.file, `${where}: ${ours.message}`);
      return assert.equal(ours.field.split(':')[0], `line ${c.fleetRefuses.line}`, `${where}: ${ours.message}`);
    }
    if (ssh.code !== 0) {
      assert.ok(!Array.isArray(ours), `${where}: ssh refuses the config (${ssh.out.trim()}), Fleet resolved it`);
      // ssh names every bad line, then gives up; Fleet names the first it meets, one of them
      const at = sshRefusalsAt(ssh.out);
      const fleetAt = `${basename(ours.file)} ${ours.field.split(':')[0]}`;
      if (at.length) assert.ok(at.includes(fleetAt), `${where}: ssh: ${ssh.out.trim()}; Fleet: ${ours.message}`);
      return;
    }
    assert.ok(Array.isArray(ours), `${where}: ssh resolves it, Fleet refused: ${(ours as Error).message}`);
    assert.deepEqual(ours, theirLines(ssh.out), where);
  });
  if (c.limit === 'match-exec')
    assert.match((config as SshConfig).warnings.join('\n'), /Match exec is not run by Fleet/);
}

/** what fn returns, or the ValidationError it throws (any other error is a failure) */
function refusalOf<T>(fn: () => T): T | ValidationError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
}
