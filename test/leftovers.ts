// Run by scripts/test.sh after each test phase: every process the tests started must be gone. A
// process counts as the tests' when its command line or working directory lies in the run's TMPDIR
// (sshd configs, agents' data dirs, homes, browser profiles all live there) or its environment
// carries the run's FLEET_TEST_RUN marker. Leftovers are listed, killed, and fail the run.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const phase = process.argv[2] ?? 'tests';
const runDir = process.env.TMPDIR ?? '';
const marker = process.env.FLEET_TEST_RUN ?? '';
if (!runDir || !marker) {
  process.stderr.write('leftovers: TMPDIR and FLEET_TEST_RUN must be set (scripts/test.sh sets them)\n');
  process.exit(2);
}

function parentOf(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  return Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) || 0;
}

/** this process and its ancestors (the shell and npm running the phases) carry the marker too */
function ancestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1; pid = parentOf(pid)) out.add(pid);
  return out;
}

/** this checker's own children (tsx's esbuild service) are not the tests' */
function isOurs(pid: number): boolean {
  for (let p = parentOf(pid), hops = 0; p > 1 && hops < 64; p = parentOf(p), hops++) if (p === process.pid) return true;
  return false;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

const skip = ancestors();

function scan(): Array<{ pid: number; cmd: string; why: string }> {
  const left: Array<{ pid: number; cmd: string; why: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || skip.has(Number(d)) || isOurs(Number(d))) continue;
    const stat = read(`/proc/${d}/stat`);
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    const cmd = (read(`/proc/${d}/cmdline`) ?? '').split('\0').join(' ').trim();
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${d}/cwd`);
    } catch {
      // gone meanwhile
    }
    const env = read(`/proc/${d}/environ`) ?? '';
    const why = cmd.includes(runDir)
      ? 'its command line is in the run dir'
      : cwd.startsWith(runDir)
        ? `it runs in ${cwd}`
        : env.split('\0').includes(`FLEET_TEST_RUN=${marker}`)
          ? 'it inherited the test run'
          : '';
    if (why) left.push({ pid: Number(d), cmd: cmd || `(pid ${d})`, why });
  }
  return left;
}

// a child whose parent just exited may take a moment to see its pipes close (esbuild's service does):
// what is still alive 3 s after the phase ended has outlived it
let left = scan();
for (const deadline = Date.now() + 3000; left.length > 0 && Date.now() < deadline; left = scan()) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
}
if (left.length === 0) process.exit(0);
process.stderr.write(
  `leftovers: ${phase} left ${left.length} process(es) running; each is a bug in a test's cleanup (killed now):\n`,
);
for (const p of left) {
  process.stderr.write(`  ${p.pid} ${p.cmd.slice(0, 200)} (${p.why})\n`);
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // gone
  }
}
process.exit(1);
