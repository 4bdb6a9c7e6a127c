// The agent's TCP listener speaks TLS with a certificate it made itself; clients pin it and send
// nothing to a server with another one; a read-only token reads metrics and status and changes
// nothing; an agent from before TLS gets an error that says what to do. Real agent processes, and
// openssl as the reference reader of the certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTls } from 'node:tls';
import fc from 'fast-check';
import { makeSelfSigned } from '../../agent/selfSignedCert';
import { AgentClient, AgentError, AgentTrustError } from '../../core/agentClient/client';
import { KnownAgents } from '../../core/agentClient/knownAgents';
import { UnreachableError, UsageError } from '../../core/errors';
import { isReadOnlyRequest } from '../../core/protocol/agent';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { freePort, waitFor } from '../harness/net';

const httpsEp = (port: number) => ({
  kind: 'https' as const,
  host: '127.0.0.1',
  port,
  text: `https://127.0.0.1:${port}`,
});

function listen(s: Server | ReturnType<typeof createTls>, port: number): Promise<void> {
  return new Promise((res) => s.listen(port, '127.0.0.1', () => res()));
}

describe('agent TLS and credentials (real agent process)', function () {
  this.timeout(120_000);
  const tag = `tls-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
  let agent: AgentProcess;
  let port: number;
  let zips: Record<string, string>;
  const stopLater: Array<() => unknown> = [];

  before(async () => {
    if (!existsSync('/usr/bin/openssl')) throw new Error('openssl is missing: install the Debian package openssl');
    zips = await buildExamples(join(dir, 'zips'));
    port = await freePort();
    agent = await AgentProcess.start({ listen: `127.0.0.1:${port}` });
    await agent.httpsClient().install('web', zips['web-v1'], {
      binary: 'web',
      args: ['--port', String(await freePort()), '--node', tag],
    });
  });
  after(async () => {
    await agent?.stop();
    for (const s of stopLater) await s();
    killMatching(tag);
  });

  it('makes a P-256 certificate for fleet-agent that openssl reads and verifies, and reports its fingerprint', async () => {
    const text = execFileSync('openssl', ['x509', '-in', agent.certFile, '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /Public-Key: \(256 bit\)/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.match(text, /DNS:fleet-agent/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /Not After : Dec 31 23:59:59 9999 GMT/);
    const verify = execFileSync('openssl', ['verify', '-CAfile', agent.certFile, agent.certFile], { encoding: 'utf8' });
    assert.match(verify, /: OK/);
    const fp = execFileSync('openssl', ['x509', '-in', agent.certFile, '-noout', '-fingerprint', '-sha256'], {
      encoding: 'utf8',
    });
    assert.equal(fp.trim().split('=')[1], agent.fingerprint);
    const info = await agent.httpsClient().info();
    assert.equal(info.tlsFingerprint, agent.fingerprint);
    assert.equal(info.listen, `127.0.0.1:${port}`);
    // a TLS client that trusts the certificate as its CA accepts it for the name fleet-agent
    const authorized = await new Promise<boolean>((res, rej) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(agent.certFile), servername: 'fleet-agent' });
      s.once('secureConnect', () => (res(s.authorized), s.destroy())).once('error', rej);
    });
    assert.equal(authorized, true);
    // over TLS any Host is fine (Prometheus sends the target's DNS name; no web page gets past the certificate)
    const status = await new Promise<number>((res, rej) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
        s.write(
          `GET /healthz HTTP/1.1\r\nHost: agent.example:${port}\r\nAuthorization: Bearer ${agent.readToken}\r\n\r\n`,
        ),
      );
      s.once('data', (d) => (res(Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1])), s.destroy())).once('error', rej);
    });
    assert.equal(status, 200);
  });

  it('an https client pins the certificate from the known-agents file: none pinned is refused, pinned works', async () => {
    const known = new KnownAgents(join(dir, 'known_agents.json'));
    const c = new AgentClient(httpsEp(port), { token: agent.token, knownAgents: known });
    await assert.rejects(
      c.list(),
      (e) => e instanceof AgentTrustError && e.kind === 'unknown' && /fleet agent pin/.test(e.message),
    );
    known.pin('127.0.0.1', port, readFileSync(agent.certFile, 'utf8'), 'test');
    assert.deepEqual(
      (await c.list()).map((p) => p.name),
      ['web'],
    );
  });

  it('a server with another certificate gets no byte of the request; the error names both fingerprints and what to do', async () => {
    const other = makeSelfSigned(['fleet-agent']);
    let received = '';
    const connections: Array<Promise<void>> = [];
    // what it decrypts (after a handshake), and each TCP connection's end
    const mitm = createTls({ key: other.keyPem, cert: other.certPem }, (s) => {
      s.on('data', (d) => {
        received += d;
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
      });
      s.on('error', () => undefined);
    });
    mitm.on('tlsClientError', () => undefined);
    mitm.on('connection', (raw) => connections.push(new Promise((res) => raw.once('close', () => res()))));
    const mitmPort = await freePort();
    await listen(mitm, mitmPort);
    stopLater.push(() => mitm.close());
    const c = new AgentClient(httpsEp(mitmPort), { token: agent.token, fingerprint: agent.fingerprint });
    const otherFp = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], {
      input: other.certPem,
      encoding: 'utf8',
    })
      .trim()
      .split('=')[1];
    await assert.rejects(
      c.install('web', zips['web-v2'], { binary: 'web', args: [] }),
      (e) =>
        e instanceof AgentTrustError &&
        e.kind === 'changed' &&
        e.message.includes(otherFp) &&
        e.message.includes(agent.fingerprint) &&
        /nothing was sent.*fleet agent pin/.test(e.message),
    );
    await waitFor(async () => assert.equal(connections.length, 1), 10_000);
    await connections[0];
    assert.equal(received, '', 'the impostor received request bytes');
  });

  it('the read-only token reads metrics and status, and everything that changes packages (and the logs) is 403', async () => {
    const ro = agent.httpsClient(agent.readToken);
    const before = await ro.status('web');
    assert.match(await ro.metrics(), /^node_memory_MemTotal_bytes /m);
    assert.equal((await ro.list())[0].name, 'web');
    assert.equal((await ro.info()).tlsFingerprint, agent.fingerprint);
    assert.ok((await ro.stats())['system-mem']);
    const refused = (e: unknown) => e instanceof AgentError && e.status === 403 && /read-only/.test(e.message);
    await assert.rejects(ro.install('web', zips['web-v2'], { binary: 'web', args: [] }), refused);
    for (const op of ['stop', 'start', 'restart', 'rollback'] as const)
      await assert.rejects(ro.action('web', op), refused);
    await assert.rejects(ro.remove('web'), refused);
    await assert.rejects(ro.logs('web'), refused);
    const after = await ro.status('web');
    assert.equal(after.pid, before.pid);
    assert.equal(after.version, before.version);
    assert.equal(after.state, 'running');
  });

  it('any method and path with the read-only token: 2xx only where isReadOnlyRequest allows, and nothing changes (property)', async () => {
    const before = await agent.client().status('web');
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
    const heads = [
      '/api/v1/packages',
      '/API/V1/PACKAGES',
      '/api/v1/packages/',
      '//api/v1/packages',
      '/metrics',
      '/metrics/',
    ];
    const tails = [
      '',
      '/web',
      '/web/',
      '/web/stop',
      '/web/STOP',
      '/web/logs',
      '/web/rollback',
      '/web/restart',
      '/%77eb/stop',
      '/web%2Fstop',
      '/web/stop?tail=1',
      '/web/../web/stop',
      '/./web/start',
      '/web/start/',
    ];
    const others = [
      '/healthz',
      '/debug/vars',
      '/api/v1/agent',
      '/api/v1.0.0/install',
      '/api/v1/agent/../packages/web/stop',
    ];
    const path = fc.oneof(
      fc.tuple(fc.constantFrom(...heads), fc.constantFrom(...tails)).map(([h, t]) => h + t),
      fc.constantFrom(...others),
    );
    const ask = (method: string, p: string) =>
      new Promise<number>((res, rej) => {
        const r = request(
          {
            host: '127.0.0.1',
            port,
            method,
            path: p,
            agent: false,
            headers: {
              authorization: `Bearer ${agent.readToken}`,
              'content-type': 'application/zip',
              'x-fleet-package': '{"binary":"web"}',
            },
          },
          (x) => (x.resume(), res(x.statusCode!)),
        );
        r.on('error', rej);
        r.end(method === 'PUT' || method === 'POST' ? readFileSync(zips['web-v2']) : undefined);
      });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), path, async (m, p) => {
        const status = await ask(m, p);
        if (status < 300) assert.ok(isReadOnlyRequest(m, p.split('?')[0]), `${m} ${p} answered ${status}`);
      }),
      { numRuns: fuzzRuns(60, 2000), seed: fuzzSeed(2626) },
    );
    const after = await agent.client().status('web');
    assert.deepEqual([after.pid, after.version, after.state], [before.pid, before.version, 'running']);
  });

  it('an agent from before TLS (plain node:http) gets an error that says it does not speak TLS and how to upgrade', async () => {
    // what such an agent is: Express on node:http, which answers a TLS ClientHello as bad HTTP
    const old = createHttp((_q, s) => s.end('{}'));
    const oldPort = await freePort();
    await listen(old, oldPort);
    stopLater.push(() => old.close());
    const c = new AgentClient(httpsEp(oldPort), { token: agent.token, fingerprint: agent.fingerprint });
    await assert.rejects(
      c.list(),
      (e) =>
        e instanceof UnreachableError && /does not speak TLS.*fleet agent deploy .*--insecure-http/.test(e.message),
    );
  });

  it('plain http to this agent works from loopback; with --plain-http off it is refused with the https address', async () => {
    const plain = new AgentClient(
      { kind: 'http', host: '127.0.0.1', port, text: `http://127.0.0.1:${port}` },
      { token: agent.token },
    );
    assert.equal((await plain.list())[0].name, 'web');
    const p2 = await freePort();
    const strict = await AgentProcess.start({ listen: `127.0.0.1:${p2}`, flags: ['--plain-http', 'off'] });
    try {
      const c = new AgentClient(
        { kind: 'http', host: '127.0.0.1', port: p2, text: `http://127.0.0.1:${p2}` },
        { token: strict.token },
      );
      await assert.rejects(
        c.list(),
        (e) =>
          e instanceof AgentError &&
          e.status === 400 &&
          new RegExp(`speaks TLS.*use https://127\\.0\\.0\\.1:${p2}`).test(e.message),
      );
      assert.deepEqual(await strict.httpsClient().list(), []);
    } finally {
      await strict.stop();
    }
  });

  it('a client refuses plain http to an agent on another machine unless the user named the host', () => {
    const ep = { kind: 'http' as const, host: '10.9.8.7', port: 9125, text: 'http://10.9.8.7:9125' };
    assert.throws(
      () => new AgentClient(ep, { token: 'x'.repeat(32), insecureHttp: [] }),
      (e) =>
        e instanceof UsageError && /in clear.*https:\/\/10\.9\.8\.7:9125.*--insecure-http 10\.9\.8\.7/.test(e.message),
    );
    new AgentClient(ep, { token: 'x'.repeat(32), insecureHttp: ['10.9.8.7'] });
    process.env.FLEET_AGENT_INSECURE_HTTP = 'a.example, 10.9.8.7';
    try {
      new AgentClient(ep, { token: 'x'.repeat(32) });
    } finally {
      delete process.env.FLEET_AGENT_INSECURE_HTTP;
    }
    for (const host of ['127.0.0.5', 'localhost', '::1'])
      new AgentClient({ kind: 'http', host, port: 1, text: `http://${host}:1` }, { insecureHttp: [] });
  });

  it('refuses to start when the read-only token file holds the full token', async () => {
    const d = mkdtempSync(join(tmpdir(), 'same-token-'));
    writeFileSync(join(d, 'same'), 'y'.repeat(40), { mode: 0o600 });
    await assert.rejects(
      AgentProcess.start({
        dataDir: d,
        listen: `127.0.0.1:${await freePort()}`,
        flags: ['--token-file', join(d, 'same'), '--read-token-file', join(d, 'same')],
      }),
      /hold the same token/,
    );
  });
});
