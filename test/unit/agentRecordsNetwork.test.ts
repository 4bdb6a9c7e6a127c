// Lease, history and rollout records come from the network, written by other controllers and
// carried by agents a controller does not control: whatever an agent answers, the client hands on
// only what its schema allows (or a typed error), the merge of records never throws, and nothing
// with a control character reaches a person's terminal (properties). Plus the merge's rules.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  AgentClient,
  AgentError,
  AgentTooOldError,
  LeaseHeldError,
  LeaseLostError,
  MalformedAnswerError,
} from '../../core/agentClient/client';
import { describeLease, type RolloutRecord } from '../../core/protocol/agentRecords';
import { describeEntry, mergeTimeline } from '../../core/rollout/fleetHistory';
import { mergeRollout, type AgentRead } from '../../core/rollout/fleetRecords';
import { describeEvent, foldProgress } from '../../core/rollout/progress';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

// eslint-disable-next-line no-control-regex -- what must never reach a terminal
const control = /[\u0000-\u001f\u007f-\u009f]/;
const sha = (c: string) => c.repeat(64);
const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();

/** an agent that answers whatever the test says next */
async function fakeAgent(): Promise<{
  client: AgentClient;
  next: (status: number, body: unknown) => void;
  close: () => Promise<void>;
}> {
  const path = join(mkdtempSync(join(tmpdir(), 'fake-agent-')), 'agent.sock');
  let answer: { status: number; body: string } = { status: 200, body: 'null' };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body));
  });
  await new Promise<void>((r) => server.listen(path, () => r()));
  return {
    client: new AgentClient({ kind: 'unix', path, text: `unix:${path}` }),
    next: (status, body) => (answer = { status, body: typeof body === 'string' ? body : (JSON.stringify(body) ?? '') }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const typed = (e: unknown) =>
  e instanceof MalformedAnswerError ||
  e instanceof AgentError ||
  e instanceof LeaseHeldError ||
  e instanceof LeaseLostError ||
  e instanceof AgentTooOldError;

/** a value shaped like an answer, with hostile strings and numbers where fields go */
const hostile = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.constantFrom('\u001b[31mred', 'a\u0000b', '2026-12-02T10:00:00Z', sha('a'), 'ci', 'install', 'ok'),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        'lease',
        'holder',
        'user',
        'machine',
        'tool',
        'pid',
        'ci',
        'entries',
        'seq',
        'at',
        'action',
        'outcome',
        'by',
        'detail',
        'record',
        'events',
        'rolloutId',
        'service',
        'sha256',
        'expired',
        'package',
        'pruned',
        'via',
        'forced',
        '__proto__',
      ),
      tie('value'),
      { maxKeys: 6 },
    ),
  ),
})).value;

const goodLease = {
  package: 'web',
  holder: { user: 'alice', machine: 'm', tool: 'cli', pid: 1 },
  rolloutId: 'r1',
  service: { path: '/s.json', sha256: sha('a') },
  sha256: sha('b'),
  ttlSecs: 60,
  since: at(0),
  renewedAt: at(0),
  expiresAt: at(60),
  expiresInSecs: 60,
  expired: false,
};

describe('lease, history and rollout records from the network', () => {
  it('whatever an agent answers, the client returns what the schema allows or a typed error, printable (property)', async () => {
    const a = await fakeAgent();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(200, 200, 200, 404, 409, 423, 500),
          fc.oneof(
            hostile,
            fc.constant({ error: 'no such route; see GET /api/v1/packages' }),
            fc.record({ lease: fc.oneof(hostile, fc.constant(goodLease)) }),
            fc.record({ entries: fc.array(hostile, { maxLength: 3 }), package: fc.string(), pruned: fc.integer() }),
            fc.constant('not json {'),
          ),
          fc.constantFrom('lease', 'history', 'rollout', 'take', 'renew'),
          async (status, body, call) => {
            a.next(status, body);
            let out: unknown;
            try {
              const c = a.client;
              out =
                call === 'lease'
                  ? await c.lease('web')
                  : call === 'history'
                    ? await c.history('web')
                    : call === 'rollout'
                      ? await c.rolloutRecord('web')
                      : call === 'take'
                        ? await c.takeLease('web', {
                            leaseId: '0'.repeat(32),
                            holder: goodLease.holder as never,
                            rolloutId: 'r',
                            service: goodLease.service,
                            sha256: sha('b'),
                            ttlSecs: 10,
                          })
                        : await c.renewLease('web', '0'.repeat(32));
            } catch (e) {
              assert.ok(typed(e), `untyped error: ${e}`);
              if (e instanceof LeaseHeldError || e instanceof LeaseLostError)
                assert.doesNotMatch(e.message, control, 'a refusal names the holder only from a checked lease');
              return;
            }
            if (call === 'lease' && out) assert.doesNotMatch(describeLease(out as never), control);
            if (call === 'history')
              for (const e of mergeTimeline([{ endpoint: 'x', backends: ['b'], answer: out as never }]))
                assert.doesNotMatch(describeEntry(e), control);
          },
        ),
        { numRuns: fuzzRuns(400), seed: fuzzSeed(3302) },
      );
    } finally {
      await a.close();
    }
  });

  it('an agent answering null or {} where a lease goes is a malformed answer, not a crash (found by seed 3302)', async () => {
    const a = await fakeAgent();
    try {
      for (const body of [null, {}, [], 'null'])
        for (const call of [
          () => a.client.lease('web'),
          () => a.client.renewLease('web', '0'.repeat(32)),
          () => a.client.rolloutRecord('web'),
        ]) {
          a.next(200, body);
          await assert.rejects(call(), MalformedAnswerError);
        }
    } finally {
      await a.close();
    }
  });

  it("merging any agents' records never throws; only events a journal holds are folded, and they read printable (property)", () => {
    const event = fc.oneof(
      hostile,
      fc.record(
        {
          t: fc.constantFrom(
            'plan',
            'step',
            'backend',
            'note',
            'end',
            'lease',
            'resume',
            'paused',
            'soak',
            'found',
            'finalize',
            'analysis',
          ),
          at: fc.constantFrom(at(1), at(2), 'yesterday'),
          backend: fc.constantFrom('10.0.0.1:80', '10.0.0.2:80', '\u001b[2J'),
          step: fc.constantFrom('cp', 'findApp', 'rm -rf /'),
          phase: fc.constantFrom('start', 'done', 'failed', 'x'),
          attempt: fc.oneof(fc.integer(), fc.constant(1)),
          text: fc.string(),
          id: fc.constantFrom('r1', 'r2'),
          file: fc.constant('/s.json'),
          sha256: fc.constantFrom(sha('b'), null, 'nope'),
          canaries: fc.constant(['10.0.0.1:80']),
          rest: fc.constant(['10.0.0.2:80']),
          concurrency: fc.constant(1),
          maxFailures: fc.constant(0),
          state: fc.constantFrom('ESSuccess', 'Bogus'),
          failures: fc.integer(),
          result: fc.constantFrom('done', 'failed'),
        },
        { requiredKeys: ['t', 'at'] },
      ),
    );
    const record = fc.record({
      package: fc.constant('web'),
      rolloutId: fc.constantFrom('r1', 'r2'),
      service: fc.constant({ path: '/s.json', sha256: sha('a') }),
      sha256: fc.constant(sha('b')),
      updatedAt: fc.constant(at(3)),
      events: fc.array(fc.record({ seq: fc.integer({ min: 1, max: 50 }), event }), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(fc.option(record), { minLength: 1, maxLength: 4 }), (records) => {
        const reads: AgentRead[] = records.map((r, i) => ({
          endpoint: `a${i}`,
          backends: [`10.0.0.${i + 1}:80`],
          record: r as RolloutRecord | null,
          lease: null,
        }));
        const m = mergeRollout(reads);
        if (!m) return;
        const p = foldProgress(['10.0.0.1:80', '10.0.0.2:80'], 1, m.events);
        for (const e of m.events) assert.doesNotMatch(describeEvent(e), control);
        for (const line of p.log) assert.doesNotMatch(line, control);
        for (let i = 1; i < m.events.length; i++) assert.ok((m.events[i - 1].seq ?? 0) <= (m.events[i].seq ?? 0));
      }),
      { numRuns: fuzzRuns(400), seed: fuzzSeed(3303) },
    );
  });

  it('takes the newest rollout the agents recorded, each global event once, each agent its own backend', () => {
    const plan = (id: string, s: number) => ({
      t: 'plan',
      id,
      file: '/s.json',
      sha256: sha('b'),
      canaries: ['10.0.0.1:80'],
      rest: ['10.0.0.2:80'],
      concurrency: 1,
      maxFailures: 0,
      at: at(s),
    });
    const rec = (id: string, events: Array<[number, object]>): RolloutRecord => ({
      package: 'web',
      rolloutId: id,
      service: { path: '/s.json', sha256: sha('a') },
      sha256: sha('b'),
      updatedAt: at(9),
      events: events.map(([seq, event]) => ({ seq, event: { ...event, seq } })),
    });
    const step = (b: string, s: number) => ({
      t: 'step',
      backend: b,
      step: 'cp',
      phase: 'start',
      attempt: 1,
      at: at(s),
    });
    const reads: AgentRead[] = [
      {
        endpoint: 'a1',
        backends: ['10.0.0.1:80'],
        lease: null,
        record: rec('new', [
          [1, plan('new', 5)],
          [2, step('10.0.0.1:80', 6)],
        ]),
      },
      {
        endpoint: 'a2',
        backends: ['10.0.0.2:80'],
        lease: null,
        record: rec('new', [
          [1, plan('new', 5)],
          [3, step('10.0.0.2:80', 7)],
        ]),
      },
      { endpoint: 'a3', backends: ['10.0.0.3:80'], lease: null, record: rec('old', [[1, plan('old', 1)]]) },
    ];
    const m = mergeRollout(reads)!;
    assert.equal(m.rolloutId, 'new');
    assert.deepEqual(
      m.events.map((e) => `${e.seq} ${e.t}`),
      ['1 plan', '2 step', '3 step'],
    );
    assert.deepEqual(m.problems, []);
  });
});
