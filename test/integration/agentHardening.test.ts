// What an odd request or a damaged file must never do to the agent: names like `constructor`,
// a second start of a running package, a wrapper that leaves a child behind on stop, a pid file
// that names no process, an oversized seed install, a token file others can read.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, AgentError } from '../../core/agentClient/client';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching, pidsMatching } from '../harness/agentProcess';
import { freePort, httpGet, waitFor } from '../harness/net';
import { rawZip } from '../harness/rawZip';

const is404 = (e: unknown) => e instanceof AgentError && e.status === 404;

describe('agent hardening (real agent process)', function () {
  this.timeout(120_000);
  let zips: Record<string, string>;
  const tag = `hard-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'hard-'));

  before(async () => {
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
  });
  after(() => killMatching(tag));

  it('names like constructor, toString, __proto__ are packages that do not exist (404), never 500, and state.json stays loadable', async () => {
    const agent = await AgentProcess.start();
    try {
      const c = agent.client();
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        for (const op of ['stop', 'start', 'restart', 'rollback'] as const)
          await assert.rejects(c.action(name, op), is404, `${op} ${name}`);
        await assert.rejects(c.status(name), is404);
        await assert.rejects(c.remove(name), is404);
      }
      assert.deepEqual(await c.list(), []);
      assert.match(await c.metrics(), /^# TYPE /m);
      await agent.kill9();
      await agent.start();
      assert.deepEqual(await agent.client().list(), []);
    } finally {
      await agent.stop();
    }
  });

  it('a damaged record in state.json is reported and skipped; the agent starts and keeps the good ones', async () => {
    const agent = await AgentProcess.start();
    const port = await freePort();
    try {
      await agent
        .client()
        .install('good', zips['web-v1'], { binary: 'web', args: ['--port', String(port), '--node', `${tag}-good`] });
      await agent.kill9();
      const file = join(agent.dataDir, 'state.json');
      const st = JSON.parse(readFileSync(file, 'utf8'));
      st.packages.constructor = { desired: 'stopped' };
      st.packages.broken = { current: { id: 'x' }, desired: 'running' };
      writeFileSync(file, JSON.stringify(st));
      await agent.start();
      assert.match(agent.log, /skipped package constructor: current/);
      assert.match(agent.log, /skipped package broken: current\.sha256/);
      const list = await agent.client().list();
      assert.deepEqual(
        list.map((p) => [p.name, p.state]),
        [['good', 'running']],
      );
    } finally {
      await agent.stop();
      killMatching(`${tag}-good`);
    }
  });

  it('start of a running package is a no-op that says so: one process, the same pid', async () => {
    const agent = await AgentProcess.start();
    const port = await freePort();
    try {
      const c = agent.client();
      const first = await c.install('web', zips['web-v1'], {
        binary: 'web',
        args: ['--port', String(port), '--node', `${tag}-once`],
      });
      const again = await c.action('web', 'start');
      assert.equal(again.pid, first.pid);
      assert.match(again.note ?? '', /already running \(pid \d+\)/);
      assert.equal(pidsMatching(`${tag}-once`).length, 1);
      await c.action('web', 'stop');
      await waitFor(async () => assert.deepEqual(pidsMatching(`${tag}-once`), []), 10_000);
    } finally {
      await agent.stop();
      killMatching(`${tag}-once`);
    }
  });

  it('stop ends the whole process group: a wrapper that exits on TERM leaves no child holding on', async () => {
    const agent = await AgentProcess.start({ flags: ['--grace-ms', '1500'] });
    const child = `${tag}-stubborn-child`;
    const zip = join(dir, 'wrapper.zip');
    writeFileSync(
      zip,
      rawZip([
        {
          name: 'run',
          mode: 0o100755,
          // the child ignores TERM and sleeps on; the wrapper exits at once on TERM
          data: Buffer.from(
            `#!/bin/sh\nsh -c 'trap "" TERM; while :; do sleep 0.2; done' ${child} &\ntrap 'exit 0' TERM\nwhile :; do sleep 0.2; done\n`,
          ),
        },
      ]),
    );
    try {
      const c = agent.client();
      await c.install('wrapper', zip, { binary: 'run', args: [] });
      await waitFor(async () => assert.equal(pidsMatching(child).length, 1), 10_000);
      const st = await c.action('wrapper', 'stop');
      assert.equal(st.state, 'stopped');
      assert.deepEqual(pidsMatching(child), [], 'the child that ignored TERM was killed with the group');
    } finally {
      await agent.stop();
      killMatching(child);
    }
  });

  it('a pid file that names no live process (a zombie was written, startTime null) is not adopted after a restart', async () => {
    const agent = await AgentProcess.start();
    const port = await freePort();
    const node = `${tag}-zombie`;
    try {
      const c = agent.client();
      await c.install('web', zips['web-v1'], { binary: 'web', args: ['--port', String(port), '--node', node] });
      await agent.kill9();
      killMatching(node);
      await waitFor(async () => assert.deepEqual(pidsMatching(node), []), 10_000);
      writeFileSync(join(agent.dataDir, 'run', 'web.pid'), JSON.stringify({ pid: 4_000_000, startTime: null }));
      await agent.start();
      const st = await agent.client().status('web');
      assert.notEqual(st.pid, 4_000_000);
      assert.equal(st.state, 'running');
      await waitFor(async () => assert.match(await httpGet(`http://127.0.0.1:${port}/`), new RegExp(node)), 10_000);
      const stopped = await agent.client().action('web', 'stop');
      assert.equal(stopped.state, 'stopped');
    } finally {
      await agent.stop();
      killMatching(node);
    }
  });

  it("the seed's install route holds to --max-package-bytes and leaves no temp dir behind", async () => {
    const port = await freePort();
    const agent = await AgentProcess.start({
      listen: `127.0.0.1:${port}`,
      flags: ['--max-package-bytes', String(64 * 1024)],
    });
    try {
      const c = new AgentClient(
        { kind: 'http', host: '127.0.0.1', port, text: `http://127.0.0.1:${port}` },
        { token: agent.token },
      );
      const send = (body: object) =>
        fetch(`http://127.0.0.1:${port}/api/v1.0.0/install`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const big = rawZip([{ name: 'run', mode: 0o100755, data: Buffer.alloc(200 * 1024, 1) }]).toString('base64');
      const r = await send({ Name: 'big', Package: big, Binary: 'run' });
      assert.equal(r.status, 413, await r.text());
      const bad = await send({ Name: 'bad', Package: Buffer.from('not a zip').toString('base64'), Binary: 'run' });
      assert.equal(bad.status, 400);
      assert.deepEqual(readdirSync(join(agent.dataDir, 'tmp')), []);
      assert.deepEqual(await c.list(), []);
    } finally {
      await agent.stop();
    }
  });

  it('refuses to start with a token file others can read, naming it', async () => {
    const tokenFile = join(dir, 'loose-token');
    writeFileSync(tokenFile, 'x'.repeat(43) + '\n');
    chmodSync(tokenFile, 0o644);
    await assert.rejects(
      AgentProcess.start({ listen: `127.0.0.1:${await freePort()}`, flags: ['--token-file', tokenFile] }),
      /loose-token: token file is readable by others \(mode 644\); chmod 600 it/,
    );
  });
});
