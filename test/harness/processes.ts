// Every process a test harness starts is registered here and killed by PID when the test
// process ends, however it ends (a failed test, an exception, Ctrl-C).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();

export function spawnTracked(file: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(file, args, { stdio: 'ignore', ...opts, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGTERM then SIGKILL to the process group; resolves when it has exited */
export async function stopTracked(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const t = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      process.kill(child.pid, sig);
    } catch {
      // gone
    }
  }
}

export function killAllTracked(): void {
  for (const c of live) signalGroup(c, 'SIGKILL');
  live.clear();
}

process.once('exit', killAllTracked);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllTracked();
    process.exit(130);
  });
}
