// Helpers for tests where several controllers run one fleet, as a team does: a second clone of the
// service's folder (service.json, its package, its tokens; none of the first one's journals), a
// `fleet` process per controller with its own HOME, and what the agents recorded.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { LocalFleet } from '../../demo/localFleet';
import { cliPath, scratchHome, testCacheDir } from '../harness/cli';
import { spawnTracked } from '../harness/processes';

/** a copy of the fleet's service folder, as another person's clone of the repository has it */
export function cloneServiceFolder(f: LocalFleet): string {
  const dir = mkdtempSync(join(tmpdir(), 'clone-'));
  for (const name of ['service.json', 'agent-token', 'lb-token']) copyFileSync(join(f.dir, name), join(dir, name));
  mkdirSync(join(dir, 'dist'));
  for (const z of readdirSync(join(f.dir, 'dist'))) copyFileSync(join(f.dir, 'dist', z), join(dir, 'dist', z));
  return join(dir, 'service.json');
}

export interface Controller {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `fleet ARGS` as its own process, with its own HOME (another person, another machine) */
export function controller(args: string[], env: NodeJS.ProcessEnv = {}, home = scratchHome()): Controller {
  const proc = spawnTracked(process.execPath, [cliPath, ...args], {
    env: { FLEET_CACHE_DIR: testCacheDir, ...process.env, HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** the Addr of each backend of the fleet's service.json, in order */
export function addrs(f: LocalFleet): string[] {
  return f.config.Backends.map((b) => (typeof b === 'string' ? b : b.Addr));
}
