// The built-in LB against HAProxy 2.6 (Debian's), differentially: every case of the corpus
// (lbDifferentialCorpus.ts: raw client requests, raw backend answers) goes through both, with the same
// timeouts and retries, and their outcomes are compared by class: the status classes of the answers,
// whether the connection carried a next request, what the backend received (method, path, body, field
// names), what came back through a tunnel. A difference is either a bug, or a choice named in the case
// and written in lb/README.md (checked below).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lbOver } from '../harness/lbThrough';
import { freePort } from '../harness/net';
import { RawBackend, type RawRequest } from '../harness/rawBackend';
import { probedExchange } from '../harness/rawHttp';
import { HaproxyProcess } from '../harness/webApps';
import { corpus, type Case, type Outcome } from './lbDifferentialCorpus';

/** the same limits on both sides (ms) */
const limits = { connect: 1000, server: 1000, client: 2000, httpRequest: 2000, retries: 1 };

const lbOptions = {
  connectTimeoutMs: limits.connect,
  upstreamTimeoutMs: limits.server,
  clientTimeouts: {
    headersTimeoutMs: limits.httpRequest,
    requestTimeoutMs: limits.httpRequest,
    clientTimeoutMs: limits.client,
    keepAliveTimeoutMs: limits.client,
  },
};

/** a field each proxy writes for its own connection, never compared */
const ownField = new Set(['connection']);

function received(r: RawRequest): string {
  const names = [...new Set(r.fields.map(([k]) => k.toLowerCase()).filter((k) => !ownField.has(k)))].sort();
  const trailers = r.trailers ? ` trailers=${JSON.stringify(r.trailers.toLowerCase())}` : '';
  return `${r.method} ${r.path} body=${JSON.stringify(r.body.toString('latin1'))} fields=${names.join(',')}${trailers}`;
}

const classOf = (s: number) => `${Math.floor(s / 100)}xx`;

async function outcome(port: number, backend: RawBackend, c: Case): Promise<Outcome> {
  const path = `/d/${c.name}`;
  const before = backend.seen(path).length;
  const r = await probedExchange(
    port,
    c.request.map((p) => p.replaceAll('PATH', path)),
    { probe: `GET /p/${c.name} HTTP/1.1\r\nHost: x\r\n\r\n`, tunnelBytes: c.tunnel, boundMs: 5000 },
  );
  assert.ok(!r.timedOut, `${c.name}: nothing decided within 5 s: ${JSON.stringify(r.text.slice(0, 300))}`);
  return {
    answers: r.statuses.length ? r.statuses.map(classOf) : ['none'],
    closed: r.closed,
    backend: backend.seen(path).slice(before).map(received),
    ...(r.tunnel !== undefined ? { tunnel: r.tunnel } : {}),
  };
}

describe('built-in LB against HAProxy 2.6: the differential corpus', function () {
  this.timeout(120_000);
  let backend: RawBackend;
  let lb: Awaited<ReturnType<typeof lbOver>>;
  let haproxy: HaproxyProcess;
  before(async () => {
    backend = await RawBackend.start();
    for (const c of corpus) if (c.answer) backend.on(`/d/${c.name}`, () => c.answer!);
    lb = await lbOver([backend.addr], lbOptions, false);
    haproxy = await HaproxyProcess.startPlain([backend.addr], limits);
  });
  after(async () => {
    await lb?.lb.close();
    await haproxy?.stop();
    await backend?.stop();
  });

  for (const c of corpus) {
    it(`${c.name}: ${c.choice ? `differs by choice (${c.choice.id})` : 'the same outcome'}`, async () => {
      const ours = await outcome(lb.port, backend, c);
      const theirs = await outcome(haproxy.httpPort, backend, c);
      const both = `built-in LB: ${JSON.stringify(ours)}\nHAProxy:     ${JSON.stringify(theirs)}`;
      if (!c.choice) return assert.deepEqual(ours, theirs, both);
      assert.notDeepEqual(ours, theirs, `${c.choice.id} no longer differs: update lb/README.md\n${both}`);
      for (const [k, v] of Object.entries(c.choice.lb)) assert.deepEqual(ours[k as keyof Outcome], v, `${k}\n${both}`);
    });
  }

  it('every choice the corpus names is written in lb/README.md', () => {
    const readme = readFileSync(join(__dirname, '../../lb/README.md'), 'utf8');
    const ids = [...new Set(corpus.flatMap((c) => (c.choice ? [c.choice.id] : [])))];
    assert.deepEqual(
      ids.filter((id) => !readme.includes(`**${id}**`)),
      [],
    );
  });
});

describe('built-in LB against HAProxy 2.6: a backend that refuses connections', function () {
  this.timeout(60_000);

  it('both answer 5xx after their retry, and keep the client connection', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const backend = await RawBackend.start(); // answers only the probes' requests on the other side: none here
    const lb = await lbOver([dead], lbOptions, false);
    const haproxy = await HaproxyProcess.startPlain([dead], limits);
    try {
      const c: Case = { name: 'refused', request: ['GET PATH HTTP/1.1\r\nHost: x\r\n\r\n'] };
      const ours = await outcome(lb.port, backend, c);
      const theirs = await outcome(haproxy.httpPort, backend, c);
      assert.deepEqual(ours.answers, ['5xx']);
      assert.deepEqual(ours.answers, theirs.answers);
    } finally {
      await lb.lb.close();
      await haproxy.stop();
      await backend.stop();
    }
  });
});
