// Benchmark: GET / through the built-in LB and through HAProxy, alone and while 300 slow clients hold
// connections to it (150 sending one byte of a POST body, 150 never reading a 32 MiB answer), with wrk;
// and each LB's resident memory with the slow clients on it. The issue this answers: such clients made a
// normal GET wait more than 6 s through the built-in LB, and none through HAProxy.
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { RecordingBackend } from '../test/harness/recordingBackend';
import { openSlowClients, rssMiB } from '../test/harness/slowClients';
import { BuiltinLbProcess, HaproxyProcess } from '../test/harness/webApps';
import { requireTool, table } from './util';

/** wrk, run without blocking this process: the backend and the slow clients live in it */
function wrk(url: string, secs: number): Promise<{ rps: string; p50: string; p99: string; bad: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(requireTool('wrk', 'wrk'), ['-t1', '-c8', `-d${secs}s`, '--latency', url]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk failed: ${out}`));
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]).toFixed(0),
        p50: /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '?',
        p99: /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '?',
        bad: /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0] ?? '',
      });
    });
  });
}

/** 150 clients trickling a body and 150 never reading a large answer, each on its own connection */
async function slowClients(port: number): Promise<Socket[]> {
  const out = await openSlowClients(port, 150, '/slow');
  await new Promise((r) => setTimeout(r, 2000)); // their requests settle (a bench, not a test)
  return out;
}

export async function benchLbSlowClients(secs = 5): Promise<string> {
  const backend = await RecordingBackend.start();
  const lb = await BuiltinLbProcess.start();
  const c = lb.client();
  await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 1 });
  await c.addBackend('/', backend.addr);
  const haproxy = await HaproxyProcess.start([backend.addr]);
  const rows: string[][] = [];
  try {
    for (const [name, url, port, pid] of [
      ['built-in LB', `${lb.url}/`, lb.httpPort, lb.proc!.pid!],
      ['HAProxy 2.6', `${haproxy.url}/`, haproxy.httpPort, haproxy.proc!.pid!],
    ] as const) {
      await wrk(url, 1);
      const alone = await wrk(url, secs);
      const before = rssMiB(pid);
      const slow = await slowClients(port);
      try {
        const withSlow = await wrk(url, secs);
        const grew = rssMiB(pid) - before;
        if (alone.bad || withSlow.bad) throw new Error(`wrk saw errors through ${name}: ${alone.bad} ${withSlow.bad}`);
        rows.push([
          name,
          alone.rps,
          alone.p50,
          alone.p99,
          withSlow.rps,
          withSlow.p50,
          withSlow.p99,
          `${grew.toFixed(0)} MiB`,
        ]);
      } finally {
        for (const s of slow) s.destroy();
      }
    }
  } finally {
    await lb.stop();
    await haproxy.stop();
    await backend.stop();
  }
  return [
    `### GET / alone and beside 300 slow clients (wrk -t1 -c8 -d${secs}s; 150 clients trickling a POST body, 150 never reading a 32 MiB answer)`,
    '',
    table(['LB', 'req/s alone', 'p50', 'p99', 'req/s with slow clients', 'p50', 'p99', 'LB memory grew by'], rows),
  ].join('\n');
}
