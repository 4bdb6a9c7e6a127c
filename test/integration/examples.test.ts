// The sample apps behind the demo: web's routes and flags, qotd surviving an empty line.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildExamples } from '../../examples/build';
import { freePort, httpGet } from '../harness/net';
import { spawnTracked, stopTracked } from '../harness/processes';
import { waitForPort } from '../harness/sshFleet';
import { WebApp } from '../harness/webApps';

describe('sample apps', function () {
  this.timeout(30_000);

  it('web says its node and version, answers /healthz and /installedAt; the broken build fails its health check', async () => {
    const v2 = new WebApp(await freePort(), 'n-42', 'v2');
    const broken = new WebApp(await freePort(), 'n-43', 'v2', true);
    await Promise.all([v2.start(), broken.start()]);
    try {
      assert.equal(await httpGet(`http://${v2.addr}/`), 'Hello web from replaced node n-42 (v2)\n');
      assert.equal(await httpGet(`http://${v2.addr}/healthz`), 'ok');
      assert.ok(!Number.isNaN(Date.parse(await httpGet(`http://${v2.addr}/installedAt`))));
      await assert.rejects(httpGet(`http://${broken.addr}/healthz`), /500 broken/);
    } finally {
      await Promise.all([v2.stop(), broken.stop()]);
    }
  });

  it('qotd answers a quote per line, an empty line included, and keeps serving', async () => {
    const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    const dir = mkdtempSync(join(tmpdir(), 'qotd-'));
    execFileSync('unzip', ['-q', zips.qotd, '-d', dir]);
    const port = await freePort();
    const p = spawnTracked(join(dir, 'qotd'), ['--port', String(port)]);
    try {
      await waitForPort('127.0.0.1', port, 5000);
      const talk = (send: string) =>
        new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => s.write(send));
          let got = '';
          s.on('data', (d) => {
            got += d;
            if (got.split('\n').length > send.split('\n').length - 1 || send === '') s.end();
          });
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
      assert.match(await talk('\n'), /^Golf is a good walk spoiled\n$/);
      assert.equal((await talk('\n\n')).trim().split('\n').length, 2);
      assert.match(await talk(''), /\S+\n/);
      assert.equal(p.exitCode, null, 'qotd is still running');
    } finally {
      await stopTracked(p);
    }
  });
});
