// The talk's agent had zip path traversal, shell injection, no authentication, RemoveAll on a
// name of `..`, and never stopped the old program. Each of those is a test here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, AgentError } from '../../core/agentClient/client';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { freePort, httpGet, waitFor } from '../harness/net';
import { rawZip, type RawEntry } from '../harness/rawZip';

interface Raw {
  status: number;
  body: string;
}

/** a raw HTTP request to the agent's TCP port (headers exactly as given) */
function raw(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string | number>; body?: Buffer | string },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false },
      (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => resolve({ status: r.statusCode!, body: b }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('agent security (real agent process)', function () {
  this.timeout(120_000);
  let agent: AgentProcess;
  let port: number;
  let webPort: number;
  let zips: Record<string, string>;
  let tcp: AgentClient;
  const tag = `web-sec-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));

  before(async () => {
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    port = await freePort();
    webPort = await freePort();
    agent = await AgentProcess.start({
      listen: `127.0.0.1:${port}`,
      flags: ['--max-package-bytes', String(20 * 1024 * 1024)],
    });
    tcp = new AgentClient(
      { kind: 'http', host: '127.0.0.1', port, text: `http://127.0.0.1:${port}` },
      { token: agent.token },
    );
    await tcp.install('web', zips['web-v1'], { binary: 'web', args: ['--port', String(webPort), '--node', tag] });
  });
  after(async () => {
    await agent?.stop();
    killMatching(tag);
  });

  async function expectUntouched(): Promise<void> {
    const s = await tcp.status('web');
    assert.equal(s.state, 'running');
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${webPort}/`)), /\(v1\)/);
    assert.deepEqual(readdirSync(join(agent.dataDir, 'staging')), []);
    assert.deepEqual(readdirSync(join(agent.dataDir, 'tmp')), []);
  }

  const hostile: Array<[string, () => RawEntry[], RegExp]> = [
    [
      'a ../ entry',
      () => [
        { name: '../escaped.txt', data: Buffer.from('x') },
        { name: 'web', data: Buffer.from('#!/bin/sh\n'), mode: 0o100755 },
      ],
      /\.\.|invalid relative path/,
    ],
    ['an absolute path', () => [{ name: '/tmp/fleet-abs-escape.txt', data: Buffer.from('x') }], /absolute path/],
    [
      'a symlink entry then a file written through it',
      () => [
        { name: 'link', data: Buffer.from(dir), mode: 0o120777 },
        { name: 'link/through-symlink.txt', data: Buffer.from('pwned') },
      ],
      /symlink/,
    ],
    ['a backslash name', () => [{ name: '..\\..\\evil.txt', data: Buffer.from('x') }], /backslash|invalid/],
    ['a device entry', () => [{ name: 'dev', data: Buffer.alloc(0), mode: 0o020644 }], /special file/],
    [
      '100k entries',
      () => Array.from({ length: 100_000 }, (_, i) => ({ name: `f${i}` })),
      /100000 entries; the limit is 10000/,
    ],
    ['a zip bomb', () => [{ name: 'bomb', data: Buffer.alloc(200 * 1024 * 1024), deflate: true }], /zip bomb/],
    [
      'a zip bomb of many small entries (about 110 KB unpacking to 105 MiB, each entry 1 MiB) with a runnable binary',
      () => {
        const mib = Buffer.alloc(1024 * 1024);
        return [
          { name: 'web', data: Buffer.from('#!/bin/sh\nexec sleep 600\n'), mode: 0o100755 },
          ...Array.from({ length: 105 }, (_, i) => ({ name: `part${i}`, data: mib, deflate: true })),
        ];
      },
      /unpacks to 1101005\d\d \(\d+:1\); refusing a likely zip bomb/,
    ],
  ];
  for (const [what, entries, message] of hostile) {
    it(`rejects ${what} with 400, writing nothing outside staging, the running version untouched`, async () => {
      const zip = join(dir, 'hostile.zip');
      writeFileSync(zip, rawZip(entries()));
      await assert.rejects(
        tcp.install('web', zip, { binary: 'web', args: [] }),
        (e: AgentError) => e.status === 400 && message.test(e.message),
      );
      assert.equal(existsSync(join(dir, 'through-symlink.txt')), false);
      assert.equal(existsSync('/tmp/fleet-abs-escape.txt'), false);
      assert.equal(existsSync(join(agent.dataDir, 'escaped.txt')), false);
      await expectUntouched();
    });
  }

  it('rejects a binary outside the package or not executable', async () => {
    await assert.rejects(
      tcp.install('web', zips['web-v2'], { binary: '../../../bin/sh', args: [] }),
      /must be a relative path inside the package/,
    );
    await assert.rejects(tcp.install('web', zips['web-v2'], { binary: 'build.json', args: [] }), /is not executable/);
    await assert.rejects(tcp.install('web', zips['web-v2'], { binary: 'nope', args: [] }), /is not in the package/);
    await expectUntouched();
  });

  for (const name of ['..', '.', 'a%2Fb', '%24(id)', '-rf', 'x'.repeat(65)]) {
    it(`rejects the package name ${decodeURIComponent(name)}`, async () => {
      const r = await raw(port, {
        method: 'POST',
        path: `/api/v1/packages/${name}/stop`,
        headers: { authorization: `Bearer ${agent.token}` },
      });
      assert.ok(r.status === 400 || r.status === 404, `${r.status} ${r.body}`);
      assert.ok(JSON.parse(r.body).error);
      await expectUntouched();
    });
  }

  it('passes args with ; $() backticks and newlines to the program literally (no shell)', async () => {
    const canary = join(dir, `canary-${process.pid}`);
    const args = [
      `; touch ${canary}`,
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `a\nb && touch ${canary}`,
      "'quoted'",
    ];
    const zip = join(dir, 'argv.zip');
    writeFileSync(
      zip,
      rawZip([
        {
          name: 'argv',
          mode: 0o100755,
          data: Buffer.from(
            `#!/usr/bin/env node\nrequire('fs').writeFileSync('argv.json', JSON.stringify(process.argv.slice(2)));\nsetTimeout(() => {}, 60000);\n`,
          ),
        },
      ]),
    );
    const s = await tcp.install('argv', zip, { binary: 'argv', args });
    const file = join(agent.dataDir, 'packages', 'argv', s.version, 'argv.json');
    const got = await waitFor(async () => JSON.parse(readFileSync(file, 'utf8')));
    assert.deepEqual(got, args);
    assert.equal(existsSync(canary), false);
    await tcp.remove('argv');
  });

  it('refuses requests without the token or with a wrong one (401), with no side effect', async () => {
    const none = await raw(port, { method: 'POST', path: '/api/v1/packages/web/stop' });
    assert.equal(none.status, 401);
    const wrong = await raw(port, {
      method: 'POST',
      path: '/api/v1/packages/web/stop',
      headers: { authorization: `Bearer ${'x'.repeat(agent.token.length)}` },
    });
    assert.equal(wrong.status, 401);
    const put = await raw(port, {
      method: 'PUT',
      path: '/api/v1/packages/other',
      headers: { 'content-type': 'application/zip', 'x-fleet-package': '{"binary":"web"}' },
      body: readFileSync(zips['web-v2']),
    });
    assert.equal(put.status, 401);
    await expectUntouched();
    assert.deepEqual(
      (await tcp.list()).map((p) => p.name),
      ['web'],
    );
  });

  it('refuses any Origin header and a foreign Host (403), even with the token', async () => {
    const auth = { authorization: `Bearer ${agent.token}` };
    const origin = await raw(port, {
      method: 'POST',
      path: '/api/v1/packages/web/stop',
      headers: { ...auth, origin: 'http://evil.example' },
    });
    assert.equal(origin.status, 403);
    assert.match(JSON.parse(origin.body).error, /Origin/);
    const host = await raw(port, { path: '/api/v1/packages', headers: { ...auth, host: 'evil.example' } });
    assert.equal(host.status, 403);
    assert.match(JSON.parse(host.body).error, /does not name this agent/);
    await expectUntouched();
  });

  it('answers 413 to a body over the limit and keeps its memory bounded', async () => {
    const declared = await raw(port, {
      method: 'PUT',
      path: '/api/v1/packages/big',
      headers: {
        authorization: `Bearer ${agent.token}`,
        'content-type': 'application/zip',
        'x-fleet-package': '{"binary":"x"}',
        'content-length': 1024 ** 3,
      },
    });
    assert.equal(declared.status, 413);
    // chunked, no length: 200 MB streamed against a 20 MB limit
    const status = await new Promise<number>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/v1/packages/big',
          agent: false,
          headers: {
            authorization: `Bearer ${agent.token}`,
            'content-type': 'application/zip',
            'x-fleet-package': '{"binary":"x"}',
          },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode!);
        },
      );
      req.on('error', () => resolve(-1));
      const chunk = Buffer.alloc(1024 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 200 && req.write(chunk)) sent++;
        if (sent < 200) req.once('drain', () => (sent++, pump()));
        else req.end();
      };
      pump();
    });
    assert.ok(status === 413 || status === -1, `status ${status}`);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))![1]);
    assert.ok(rssKb < 150 * 1024, `agent RSS ${rssKb} kB after a 200 MB upload`);
    await expectUntouched();
  });

  it('lets exactly one of 10 concurrent installs of a name proceed; the others get 409', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        tcp.install('web', zips['web-v1'], { binary: 'web', args: ['--port', String(webPort), '--node', tag] }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const conflicts = results.filter((r) => r.status === 'rejected' && (r.reason as AgentError).status === 409);
    assert.equal(ok.length, 1);
    assert.equal(conflicts.length, 9);
    await waitFor(() => httpGet(`http://127.0.0.1:${webPort}/healthz`));
  });

  it('answers errors as JSON {error}', async () => {
    const r = await raw(port, { path: '/nope', headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(JSON.parse(r.body)), ['error']);
  });
});
