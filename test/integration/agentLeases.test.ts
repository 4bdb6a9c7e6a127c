// The agent's leases, rollout records and history, against a real agent process: a lease refuses a
// second controller and every change by hand with the holder named, a forced change goes through and
// is recorded, an expired lease is taken over (the old holder learns it lost it), leases survive a
// kill -9 of the agent, only the holder records progress, the read-only token reads and changes
// nothing, and hostile requests are answered 400 without touching anything.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AgentError, LeaseHeldError, LeaseLostError, type AgentClient } from '../../core/agentClient/client';
import type { Actor, LeaseRequest } from '../../core/protocol/agentRecords';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { freePort, waitFor } from '../harness/net';

const alice: Actor = { user: 'alice', machine: 'laptop', tool: 'cli', pid: 4242 };
const ci: Actor = {
  user: 'bob',
  machine: 'runner-3',
  tool: 'ci',
  pid: 77,
  ci: { provider: 'github', job: 'acme/web run 9' },
};
const sha = (c: string) => c.repeat(64);

function leaseReq(holder: Actor, rolloutId: string, ttlSecs = 60): LeaseRequest {
  return {
    leaseId: randomBytes(16).toString('hex'),
    holder,
    rolloutId,
    service: { path: '/src/web/service.json', sha256: sha('a') },
    sha256: sha('b'),
    ttlSecs,
  };
}

/** a raw request on the agent's socket: status and body, whatever it is */
function raw(
  socket: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        // Node sends a GET's or DELETE's body unframed unless it is told its length
        headers: {
          host: 'localhost',
          ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
          ...headers,
        },
        agent: false,
      },
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

describe('agent leases, rollout records and history (real agent process)', function () {
  this.timeout(120_000);
  const tag = `leases-${process.pid}`;
  let agent: AgentProcess;
  let c: AgentClient;
  let zips: Record<string, string>;
  let webPort: number;
  const install = (client: AgentClient, zip = 'web-v1', force?: string) =>
    client.install(
      'web',
      zips[zip],
      { binary: 'web', args: ['--port', String(webPort), '--node', tag] },
      force !== undefined ? { force } : {},
    );

  before(async () => {
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    webPort = await freePort();
    agent = await AgentProcess.start({ listen: `127.0.0.1:${await freePort()}` });
    c = agent.client();
    await install(c);
  });
  after(async () => {
    await agent?.stop();
    killMatching(tag);
  });

  it('grants a lease, refuses a second controller naming the holder, and never shows the lease id', async () => {
    const mine = leaseReq(alice, 'r-1');
    const g = await c.takeLease('web', mine);
    assert.equal(g.lease.holder.user, 'alice');
    assert.equal(g.lease.expired, false);
    assert.equal(g.tookOver, null);
    // a take repeated with the same id (its answer lost) is granted again
    assert.equal((await c.takeLease('web', mine)).lease.since, g.lease.since);
    await assert.rejects(c.takeLease('web', leaseReq(ci, 'r-2')), (e: unknown) => {
      assert.ok(e instanceof LeaseHeldError, String(e));
      assert.equal(e.lease?.holder.user, 'alice');
      assert.match(e.message, /alice@laptop \(the fleet CLI, pid 4242\), rollout r-1 of \/src\/web\/service\.json/);
      return true;
    });
    const seen = await raw(agent.socket, 'GET', '/api/v1/packages/web/lease');
    assert.doesNotMatch(seen.body, new RegExp(mine.leaseId));
    await c.releaseLease('web', mine.leaseId, 'ESSuccess');
    assert.equal(await c.lease('web'), null);
  });

  it('refuses every change by hand of a leased package with the holder named; a forced one goes through, recorded', async () => {
    const held = leaseReq(ci, 'r-3');
    await c.takeLease('web', held);
    try {
      const before = await c.status('web');
      const refused = (e: unknown) =>
        e instanceof LeaseHeldError && /github job acme\/web run 9 \(bob@runner-3, pid 77\)/.test(e.message);
      await assert.rejects(install(c, 'web-v2'), refused);
      for (const op of ['stop', 'start', 'restart', 'rollback'] as const)
        await assert.rejects(c.action('web', op), refused);
      await assert.rejects(c.remove('web'), refused);
      const after = await c.status('web');
      assert.deepEqual([after.pid, after.version], [before.pid, before.version], 'nothing changed');
      // forced: it happens, and the history says who forced it, why, and whose lease it broke through
      const forced = await install(c, 'web-v2', 'hotfix for INC-7');
      assert.notEqual(forced.version, before.version);
      const h = (await c.history('web')).entries;
      const last = h.at(-1)!;
      assert.equal(last.action, 'install');
      assert.equal(last.outcome, 'ok');
      assert.equal(last.forced, true);
      assert.equal(last.sha256, forced.sha256);
      assert.match(last.detail ?? '', /forced \(hotfix for INC-7\) while held by github job acme\/web run 9/);
      assert.equal(
        h.filter((e) => e.outcome === 'refused' && e.rolloutId === null).length >= 6,
        true,
        'each refused change is recorded',
      );
      assert.equal((await c.lease('web'))?.rolloutId, 'r-3', 'the lease stays');
      // the holder's own changes go through under its lease, and carry its rollout id
      c.useLease('web', held.leaseId);
      await c.action('web', 'restart');
      assert.equal((await c.history('web')).entries.at(-1)!.rolloutId, 'r-3');
    } finally {
      c.useLease('web', undefined);
      await c.releaseLease('web', held.leaseId, 'Aborted');
    }
  });

  it('an expired lease is taken over; the old holder learns it lost the package and can change nothing', async () => {
    const old = leaseReq(alice, 'r-4', 2);
    await c.takeLease('web', old);
    await waitFor(async () => assert.equal((await c.lease('web'))?.expired, true), 30_000);
    const next = leaseReq(ci, 'r-5');
    const g = await c.takeLease('web', next);
    assert.equal(g.tookOver?.rolloutId, 'r-4');
    await assert.rejects(
      c.renewLease('web', old.leaseId),
      (e: unknown) => e instanceof LeaseLostError && e.lease?.rolloutId === 'r-5',
    );
    const stale = agent.client();
    stale.useLease('web', old.leaseId);
    await assert.rejects(stale.action('web', 'stop'), LeaseHeldError);
    await assert.rejects(
      stale.recordEvents('web', old.leaseId, {
        rolloutId: 'r-4',
        service: old.service,
        sha256: old.sha256,
        events: [{ seq: 1, event: { t: 'resume', at: new Date().toISOString() } }],
      }),
      LeaseLostError,
    );
    const took = (await c.history('web')).entries.find((e) => e.action === 'lease' && e.rolloutId === 'r-5')!;
    assert.match(took.detail ?? '', /took over the expired lease of alice@laptop .*rollout r-4/);
    await c.releaseLease('web', next.leaseId, 'ESSuccess');
  });

  it('keeps its leases across a kill -9 of the agent', async () => {
    const l = leaseReq(alice, 'r-6');
    await c.takeLease('web', l);
    await agent.kill9();
    await agent.start();
    const after = await c.lease('web');
    assert.equal(after?.rolloutId, 'r-6');
    await assert.rejects(c.action('web', 'stop'), LeaseHeldError);
    await c.releaseLease('web', l.leaseId, 'Paused');
  });

  it("records a rollout's events from its lease holder only; a new rollout starts the record anew; bounded", async () => {
    const l = leaseReq(alice, 'r-7');
    await c.takeLease('web', l);
    const ev = (seq: number) => ({
      seq,
      event: { t: 'note' as const, at: new Date().toISOString(), backend: 'b', text: `n${seq}` },
    });
    const body = (events: Array<ReturnType<typeof ev>>, rolloutId = 'r-7') => ({
      rolloutId,
      service: l.service,
      sha256: l.sha256,
      events,
    });
    await c.recordEvents('web', l.leaseId, body([ev(1), ev(2)]));
    await assert.rejects(c.recordEvents('web', randomBytes(16).toString('hex'), body([ev(3)])), LeaseLostError);
    await assert.rejects(
      c.recordEvents('web', l.leaseId, body([ev(3)], 'r-other')),
      (e: unknown) => e instanceof AgentError && e.status === 400,
    );
    const rec = await c.rolloutRecord('web');
    assert.equal(rec?.rolloutId, 'r-7');
    assert.deepEqual(
      rec?.events.map((e) => e.seq),
      [1, 2],
    );
    // 5000 events at most: the 5001st is refused with 413, and what was recorded stays
    for (let next = 3; next <= 5000; next += 500)
      await c.recordEvents(
        'web',
        l.leaseId,
        body(Array.from({ length: Math.min(500, 5001 - next) }, (_, k) => ev(next + k))),
      );
    await assert.rejects(
      c.recordEvents('web', l.leaseId, body([ev(9999)])),
      (e: unknown) => e instanceof AgentError && e.status === 413,
    );
    assert.equal((await c.rolloutRecord('web'))?.events.length, 5000);
    await c.releaseLease('web', l.leaseId, 'ESSuccess');
    const l2 = leaseReq(alice, 'r-8');
    await c.takeLease('web', l2);
    await c.recordEvents('web', l2.leaseId, { ...body([ev(1)], 'r-8') });
    assert.deepEqual((await c.rolloutRecord('web'))?.events.length, 1);
    await c.releaseLease('web', l2.leaseId, 'ESSuccess');
  });

  it('the read-only token reads leases, records and history, and may take, renew, release or record nothing', async () => {
    const ro = agent.httpsClient(agent.readToken);
    const l = leaseReq(alice, 'r-9');
    await c.takeLease('web', l);
    try {
      assert.equal((await ro.lease('web'))?.rolloutId, 'r-9');
      assert.ok((await ro.history('web')).entries.length > 0);
      await ro.rolloutRecord('web');
      const readOnly = (e: unknown) => e instanceof AgentError && e.status === 403 && /read-only/.test(e.message);
      await assert.rejects(ro.takeLease('web', leaseReq(ci, 'r-10')), readOnly);
      await assert.rejects(ro.renewLease('web', l.leaseId), readOnly);
      await assert.rejects(ro.releaseLease('web', l.leaseId, 'ESSuccess'), readOnly);
      await assert.rejects(ro.breakLease('web', 'x'), readOnly);
      await assert.rejects(
        ro.recordEvents('web', l.leaseId, {
          rolloutId: 'r-9',
          service: l.service,
          sha256: l.sha256,
          events: [{ seq: 1, event: { t: 'paused', at: new Date().toISOString() } }],
        }),
        readOnly,
      );
      assert.equal((await c.lease('web'))?.rolloutId, 'r-9');
    } finally {
      await c.releaseLease('web', l.leaseId, 'ESSuccess');
    }
  });

  it('a broken lease is recorded with who broke it and why', async () => {
    const l = leaseReq(alice, 'r-11');
    await c.takeLease('web', l);
    const bob = agent.client();
    await bob.breakLease('web', 'alice is on holiday');
    assert.equal(await c.lease('web'), null);
    const e = (await c.history('web')).entries.at(-1)!;
    assert.equal(e.action, 'break');
    assert.equal(e.forced, true);
    assert.match(e.detail ?? '', /broke the lease of alice@laptop .*: alice is on holiday/);
    await assert.rejects(c.renewLease('web', l.leaseId), LeaseLostError);
  });

  it('hostile lease requests, headers and event bodies get 400 and change nothing (property)', async () => {
    const holder = leaseReq(alice, 'r-12');
    await c.takeLease('web', holder);
    const ctl = fc
      .integer({ min: 0, max: 0x9f })
      .filter((n) => n < 0x20 || n >= 0x7f)
      .map((n) => String.fromCharCode(n));
    const nasty = fc.oneof(
      fc.string(),
      fc.tuple(fc.string(), ctl, fc.string()).map(([a, b, d]) => a + b + d),
      fc.constantFrom('', 'x'.repeat(5000), '\u001b[2J', '__proto__', 'constructor'),
    );
    const actor = fc.record({
      user: nasty,
      machine: nasty,
      tool: fc.constantFrom('cli', 'ci', 'root', ''),
      pid: fc.oneof(fc.integer(), fc.double()),
    });
    const bodies = fc.oneof(
      fc.json(),
      fc
        .record({
          leaseId: fc.oneof(nasty, fc.constant(randomBytes(16).toString('hex'))),
          holder: fc.oneof(actor, fc.constant(alice)),
          rolloutId: nasty,
          service: fc.record({ path: nasty, sha256: nasty }),
          sha256: nasty,
          ttlSecs: fc.oneof(fc.integer(), fc.double(), fc.constant(1e9)),
        })
        .map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ['POST', '/api/v1/packages/web/lease'],
          ['PUT', '/api/v1/packages/web/lease'],
          ['DELETE', '/api/v1/packages/web/lease?outcome=%1b'],
          ['POST', '/api/v1/packages/web/rollout'],
          ['POST', '/api/v1/packages/web/stop'],
          ['GET', '/api/v1/packages/web/history?limit=-1'],
        ),
        bodies,
        fc.record(
          {
            actor: fc.oneof(
              nasty,
              actor.map((a) => JSON.stringify(a)),
            ),
            lease: nasty,
            force: nasty,
          },
          { requiredKeys: [] },
        ),
        async ([method, path], body, h) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          // a header Node cannot send is not a request that reaches the agent
          const safe = (v: string) => !/[^\t\x20-\x7e\x80-\xff]/.test(v);
          if (h.actor !== undefined && safe(h.actor)) headers['x-fleet-actor'] = h.actor;
          if (h.lease !== undefined && safe(h.lease)) headers['x-fleet-lease'] = h.lease;
          if (h.force !== undefined && safe(h.force) && method !== 'POST') headers['x-fleet-force'] = h.force;
          const r = await raw(agent.socket, method, path, body, headers);
          assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.body}`);
          assert.ok([200, 204, 400, 409, 413, 423].includes(r.status), `${method} ${path}: ${r.status} ${r.body}`);
          if (r.status >= 400) assert.equal(typeof JSON.parse(r.body).error, 'string');
        },
      ),
      { numRuns: fuzzRuns(150, 4000), seed: fuzzSeed(3232) },
    );
    // still alice's, and the package still runs what it ran
    assert.equal((await c.lease('web'))?.rolloutId, 'r-12');
    const h = await c.history('web');
    for (const e of h.entries)
      assert.doesNotMatch(JSON.stringify(e), /\\u001b|\\u0000/, 'no control character in history');
    await c.releaseLease('web', holder.leaseId, 'ESSuccess');
  });
});
