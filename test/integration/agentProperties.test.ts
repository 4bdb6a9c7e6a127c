// The agent API under random sequences of operations, some concurrent, on odd names: it never
// answers 500, state.json always loads (a restart brings back the same packages), at most one process
// runs per package, and `list` agrees with the processes that run. A real agent process.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AgentProcess, killMatching, pidsMatching } from '../harness/agentProcess';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { rawZip } from '../harness/rawZip';

interface Answer {
  status: number;
  body: string;
}

function call(
  socket: string,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, method, path, headers: { host: 'localhost', ...headers }, agent: false },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const names = [
  'web',
  'constructor',
  '__proto__',
  'toString',
  '..',
  '.',
  'a%2Fb',
  'ü',
  '-rf',
  'x'.repeat(64),
  'x'.repeat(65),
  'pkg.1',
];
const ops = [
  'install',
  'install-bad',
  'start',
  'stop',
  'restart',
  'rollback',
  'remove',
  'status',
  'logs',
  'list',
] as const;

describe('agent API properties (real agent process)', function () {
  this.timeout(600_000);
  const tag = `prop-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'prop-'));
  let agent: AgentProcess;
  const good = join(dir, 'good.zip');
  const bad = join(dir, 'bad.zip');

  before(async () => {
    // the program loops with the package's tag in its command line, so the test can count its processes
    writeFileSync(
      good,
      rawZip([
        { name: 'run', mode: 0o100755, data: Buffer.from(`#!/bin/sh\nexec sh -c 'while :; do sleep 1; done' "$1"\n`) },
      ]),
    );
    writeFileSync(bad, rawZip([{ name: '../escape', mode: 0o100755, data: Buffer.from('#!/bin/sh\n') }]));
    agent = await AgentProcess.start({ flags: ['--grace-ms', '500'] });
  });
  after(async () => {
    await agent?.stop();
    killMatching(tag);
  });

  it('never answers 500; list, state.json and the running processes always agree', async () => {
    const step = fc.record({ op: fc.constantFrom(...ops), name: fc.constantFrom(...names) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        async (batches) => {
          const sock = agent.socket;
          for (const batch of batches) {
            // the steps of a batch run at once: the agent serializes per name, answers 409 for a busy one
            const answers = await Promise.all(
              batch.map(({ op, name }) => {
                const p = `/api/v1/packages/${encodeURIComponent(name)}`;
                const tagged = `${tag}-${Buffer.from(name).toString('hex')}`;
                switch (op) {
                  case 'install':
                  case 'install-bad':
                    return call(sock, 'PUT', p, readFileSync(op === 'install' ? good : bad), {
                      'content-type': 'application/zip',
                      'x-fleet-package': JSON.stringify({
                        binary: op === 'install' ? 'run' : 'escape',
                        args: [tagged],
                      }),
                    });
                  case 'status':
                    return call(sock, 'GET', p);
                  case 'logs':
                    return call(sock, 'GET', `${p}/logs?tail=5`);
                  case 'list':
                    return call(sock, 'GET', '/api/v1/packages');
                  case 'remove':
                    return call(sock, 'DELETE', p);
                  default:
                    return call(sock, 'POST', `${p}/${op}`);
                }
              }),
            );
            answers.forEach((a, i) =>
              assert.ok(a.status < 500, `${batch[i].op} ${batch[i].name}: ${a.status} ${a.body}`),
            );
            await assertAgrees(sock);
          }
          // a restart loads state.json and brings back the same packages
          const before = JSON.parse((await call(sock, 'GET', '/api/v1/packages')).body).map(
            (p: { name: string; desired: string }) => `${p.name}:${p.desired}`,
          );
          await agent.kill9();
          await agent.start();
          const after = JSON.parse((await call(agent.socket, 'GET', '/api/v1/packages')).body).map(
            (p: { name: string; desired: string }) => `${p.name}:${p.desired}`,
          );
          assert.deepEqual(after, before);
          await assertAgrees(agent.socket);
          // clean slate for the next case
          for (const n of after.map((s: string) => s.split(':')[0]))
            await call(agent.socket, 'DELETE', `/api/v1/packages/${encodeURIComponent(n)}`);
          assert.deepEqual(pidsMatching(tag), []);
        },
      ),
      { seed: fuzzSeed(20261127), numRuns: fuzzRuns(4, 100), endOnFailure: true },
    );

    /** list says running ⇔ exactly one process of that package runs (after operations settle) */
    async function assertAgrees(sock: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const list = JSON.parse((await call(sock, 'GET', '/api/v1/packages')).body) as Array<{
          name: string;
          state: string;
        }>;
        const problems: string[] = [];
        for (const p of list) {
          const n = pidsMatching(`${tag}-${Buffer.from(p.name).toString('hex')}`).length;
          if (p.state === 'running' && n !== 1) problems.push(`${p.name} is running with ${n} processes`);
          if ((p.state === 'stopped' || p.state === 'crashed') && n !== 0)
            problems.push(`${p.name} is ${p.state} with ${n} processes`);
        }
        const listed = new Set(list.map((p) => `${tag}-${Buffer.from(p.name).toString('hex')}`));
        for (const name of names) {
          const t = `${tag}-${Buffer.from(name).toString('hex')}`;
          if (!listed.has(t) && pidsMatching(t).length) problems.push(`${name} is not listed but runs`);
        }
        if (problems.length === 0) return;
        if (Date.now() > deadline) assert.fail(problems.join('; '));
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
});
