// Helpers for tests where several controllers run one fleet, as a team does: a second clone of the
// service's folder (service.json, its package, its tokens; none of the first one's journals), a
// `fleet` process per controller with its own HOME, and what the agents recorded.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalFleet } from '../../demo/localFleet';
import { buildExamples } from '../../examples/build';
import { freePort } from '../harness/net';
import { cliPath, scratchHome, testCacheDir } from '../harness/cli';
import { spawnTracked, stopTracked } from '../harness/processes';

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

/** controllers a test started, ended by stopFleet if the test left them running */
const started = new Set<ChildProcess>();

/**
 * Stops a fleet whatever a test left behind: its controllers still running are ended, and the
 * leases on its agents are broken, so LocalFleet.stop can remove the packages (a leased package
 * refuses removal) and no program outlives the test.
 */
export async function stopFleet(f: LocalFleet, pkg = 'web'): Promise<void> {
  await Promise.all([...started].map((p) => stopTracked(p)));
  started.clear();
  await Promise.all(f.agents.map((a) => a.client.breakLease(pkg, 'test cleanup').catch(() => undefined)));
  await f.stop();
}

/** a process that drives the fleet (a controller, a CI job's script): stopFleet ends it if it still runs */
export function adopt(p: ChildProcess): void {
  started.add(p);
  p.once('exit', () => started.delete(p));
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
  started.add(proc);
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => (started.delete(proc), r(c))));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** the Addr of each backend of the fleet's service.json, in order */
export function addrs(f: LocalFleet): string[] {
  return f.config.Backends.map((b) => (typeof b === 'string' ? b : b.Addr));
}

/** the commit before leases, rollout records and history: its agent is "an old agent" */
export const agentBeforeLeases = '3c3cc8092284d9afa00ece9a539bb655b1383ddb';

/**
 * Builds the agent of `commit` (its agent/ and core/ from git, bundled with this checkout's
 * node_modules, as esbuild.mjs bundles it) and returns the path of its agent.js. Needs git and the
 * commit in this repository: a shallow clone fails here, saying so.
 */
export async function buildAgentOf(commit: string): Promise<string> {
  const repo = resolve(__dirname, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'old-agent-'));
  const tar = join(dir, 'src.tar');
  try {
    execFileSync('git', ['-C', repo, 'archive', '-o', tar, commit, 'agent', 'core', 'package.json'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `cannot build the agent of commit ${commit} (the agent before leases) with git archive: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}; the test needs git (Debian: apt-get install git) and the repository's history (in a shallow clone: git fetch --unshallow)`,
    );
  }
  execFileSync('tar', ['-xf', tar, '-C', dir]);
  const out = join(dir, 'agent.js');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(dir, 'agent', 'bin.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    nodePaths: [join(repo, 'node_modules')],
    define: { FLEET_VERSION: JSON.stringify('0.1.0-before-leases') },
    logLevel: 'error',
  });
  return out;
}

/** rolloutFleet (test/harness/rolloutFleet.ts) whose agents run `agentJs` */
export async function fleetOfAgents(
  agentJs: string,
  n: number,
  service: Record<string, unknown> = {},
): Promise<LocalFleet> {
  const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
  const ports: number[] = [];
  for (let i = 0; i < 2 + 2 * n; i++) ports.push(await freePort());
  const file = join(mkdtempSync(join(tmpdir(), 'svc-')), 'service.json');
  writeFileSync(
    file,
    JSON.stringify({
      Concurrency: 2,
      CanaryNum: 1,
      MaxFailures: 1,
      Src: 'dist/web-v2.zip',
      LB: `127.0.0.1:${ports[0]}`,
      Pattern: '/',
      Backends: Array.from({ length: n }, (_, i) => ({
        Addr: `127.0.0.1:${ports[2 + i]}`,
        Agent: `http://127.0.0.1:${ports[2 + n + i]}`,
      })),
      Package: { Name: 'web', Binary: 'web', Args: ['--port', '{port}', '--node', 'node-{port}'] },
      SoakSecs: 0.5,
      Retries: 1,
      StepTimeoutSecs: 20,
      Health: { Path: '/healthz', Expect: 'ok', TimeoutSecs: 5 },
      ...service,
    }),
  );
  const f = new LocalFleet({ serviceJson: file, zips, agentJs, lbHttp: `127.0.0.1:${ports[1]}` });
  await f.start();
  return f;
}
