// Benchmark: the agent's idle RSS, /debug/vars latency (p50/p99) at 200 requests per second, and
// install throughput of a 50 MB zip over loopback TCP.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../core/agentClient/client';
import { agentNodeFlags } from '../core/agentInstall/layout';
import { AgentProcess } from '../test/harness/agentProcess';
import { freePort } from '../test/harness/net';
import { rawZip } from '../test/harness/rawZip';
import { percentile, table } from './util';

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

export async function benchAgent(): Promise<string> {
  const port = await freePort();
  // idle RSS without the deployed runtime's V8 flags, for comparison
  const plain = await AgentProcess.start();
  await new Promise((r) => setTimeout(r, 2000));
  const idlePlain = rssMb(plain.pid);
  await plain.stop();
  const agent = await AgentProcess.start({ listen: `127.0.0.1:${port}`, nodeFlags: agentNodeFlags });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssMb(agent.pid);
    // /debug/vars at a fixed 200 requests per second for 10 s (2000 requests), over keep-alive
    const keep = new Agent({ keepAlive: true, maxSockets: 8 });
    const token = agent.token;
    const lat: number[] = [];
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const t = performance.now();
        const req = request(
          { host: '127.0.0.1', port, path: '/debug/vars', agent: keep, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
              lat.push(performance.now() - t);
              resolve();
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const pending: Promise<void>[] = [];
    const start = performance.now();
    for (let i = 0; i < 2000; i++) {
      const due = start + i * 5;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(one());
    }
    await Promise.all(pending);
    keep.destroy();
    const busy = rssMb(agent.pid);

    // a 50 MB package: one incompressible file (stored), plus the program
    const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
    const zip = join(dir, 'big.zip');
    writeFileSync(
      zip,
      rawZip([
        { name: 'run', data: Buffer.from('#!/bin/sh\nexec sleep 600\n'), mode: 0o100755 },
        { name: 'blob.bin', data: randomBytes(50 * 1024 * 1024) },
      ]),
    );
    const client = new AgentClient(
      { kind: 'http', host: '127.0.0.1', port, text: `http://127.0.0.1:${port}` },
      { token },
    );
    const mb = readFileSync(zip).length / 1024 / 1024;
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await client.install('big', zip, { binary: 'run', args: [] });
      runs.push(performance.now() - t);
    }
    await client.remove('big');
    const best = Math.min(...runs);
    return [
      '### Agent (dist/agent.js, TCP + token on loopback)',
      '',
      table(
        ['measure', 'value', 'goal'],
        [
          [`idle RSS (2 s after start), as deployed (${agentNodeFlags.join(' ')})`, `${idle.toFixed(1)} MB`, '≤ 60 MB'],
          ['idle RSS without those flags', `${idlePlain.toFixed(1)} MB`, ''],
          ['RSS after 2000 /debug/vars', `${busy.toFixed(1)} MB`, ''],
          ['/debug/vars at 200 req/s: p50', `${percentile(lat, 50).toFixed(2)} ms`, ''],
          ['/debug/vars at 200 req/s: p99', `${percentile(lat, 99).toFixed(2)} ms`, '≤ 5 ms'],
          [
            `install of a ${mb.toFixed(0)} MB zip (upload, sha256, unzip, fsync, swap, restart), best of 3`,
            `${(best / 1000).toFixed(2)} s = ${(mb / (best / 1000)).toFixed(0)} MB/s`,
            '≥ 100 MB/s',
          ],
          ['the three installs', runs.map((r) => `${(r / 1000).toFixed(2)} s`).join(' / '), ''],
        ],
      ),
    ].join('\n');
  } finally {
    await agent.stop();
  }
}
