// One ssh_config given to OpenSSH's own `ssh` and to the built `fleet` CLI, each asked to log in and
// run a command: whether each got in, and what it said. The tests that hold what Fleet does with a
// keyword to what ssh does with it use this. Neither sees the machine's ssh-agent unless a test names one.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet } from './cli';

export interface Login {
  ok: boolean;
  /** stdout and stderr together, for messages */
  said: string;
}

export function requireSshClient(): void {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('ssh is missing: install the Debian package openssh-client');
  }
}

/** writes `lines` as an ssh_config (mode 0600: ssh and Fleet refuse one others can write) */
export function writeConfig(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!extra.SSH_AUTH_SOCK) delete env.SSH_AUTH_SOCK;
  return env;
}

/** `ssh -F config host echo logged-in`, without a terminal (BatchMode: it never asks) */
export function sshLogin(
  config: string,
  host: string,
  opts: { env?: Record<string, string>; args?: string[] } = {},
): Login {
  const r = spawnSync('ssh', ['-F', config, '-o', 'BatchMode=yes', ...(opts.args ?? []), host, 'echo logged-in'], {
    env: envWith(opts.env),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { ok: r.status === 0 && r.stdout.includes('logged-in'), said: `${r.stdout}${r.stderr}`.trim() };
}

/** `fleet run --ssh-config config [flags] host -- echo logged-in`, with HOME `home`, without a terminal */
export async function fleetLogin(
  config: string,
  host: string,
  opts: { home: string; env?: Record<string, string>; flags?: string[] },
): Promise<Login> {
  const r = await fleet(['run', '--ssh-config', config, ...(opts.flags ?? []), host, '--', 'echo', 'logged-in'], {
    home: opts.home,
    env: opts.env,
  });
  return { ok: r.code === 0 && /^logged-in$/m.test(r.stdout), said: `${r.stdout}${r.stderr}`.trim() };
}
