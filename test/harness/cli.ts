// Runs the built `fleet` CLI as a user would: argv in; stdout, stderr and exit code out.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const cliPath = resolve(__dirname, '../../dist/cli.js');
export const testCacheDir = resolve(__dirname, '../../.tools/cache');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** a scratch HOME so ~/.ssh/config and ~/.ssh/known_hosts of the machine are never touched */
export function scratchHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'fleet-home-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  return home;
}

export function fleet(
  args: readonly string[],
  opts: { home?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  return new Promise((resolvePromise, reject) => {
    // the agent's runtime comes from one cache for the whole run (scripts/test-setup.sh fills it)
    const env: NodeJS.ProcessEnv = { FLEET_CACHE_DIR: testCacheDir, ...process.env, ...opts.env };
    // the machine's ssh-agent never takes part, unless a test starts its own and names it
    if (!opts.env?.SSH_AUTH_SOCK) delete env.SSH_AUTH_SOCK;
    if (opts.home) env.HOME = opts.home;
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** args with `flags` put before a `--` (what follows it is a remote command), else at the end */
export function withFlags(args: readonly string[], flags: readonly string[]): string[] {
  const dash = args.includes('--') ? args.indexOf('--') : args.length;
  return [...args.slice(0, dash), ...flags, ...args.slice(dash)];
}
