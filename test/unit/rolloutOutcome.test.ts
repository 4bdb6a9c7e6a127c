// The panel's words for how a rollout stands (extension/rollout/outcome.ts, buttonHints.ts,
// journalExtras.ts), from journal events as the engine writes them: what each backend serves now,
// the outcome's sentence, what Resume would do or why it is off, and each canary's analysis series.
import assert from 'node:assert/strict';
import type { WindowSummary } from '../../core/rollout/analysis';
import { stepNames } from '../../core/rollout/constants';
import type { JournalEvent, NewEvent } from '../../core/rollout/journal';
import { foldProgress } from '../../core/rollout/progress';
import { buttons } from '../../extension/rollout/buttonHints';
import { foldExtras } from '../../extension/rollout/journalExtras';
import { describeOutcome, rowNow } from '../../extension/rollout/outcome';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const names: Record<string, string> = { [OLD]: 'web-v1.zip', [NEW]: 'web-v2-flaky.zip' };
const label = (sha: string | null | undefined) => (sha ? (names[sha] ?? sha.slice(0, 8)) : 'nothing');
const [A, B, C] = ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094'];

/** events stamped one second apart from a fixed start */
function journal(...events: NewEvent[]): JournalEvent[] {
  const t0 = Date.parse('2026-12-02T10:00:00Z');
  return events.map((e, i) => ({ ...e, at: new Date(t0 + i * 1000).toISOString() }) as JournalEvent);
}

const plan: NewEvent = {
  t: 'plan',
  id: 'r1',
  file: '/x/service.json',
  sha256: NEW,
  canaries: [A],
  rest: [B, C],
  concurrency: 2,
  maxFailures: 0,
};

function upgrade(addr: string, upTo: number = stepNames.length): NewEvent[] {
  const out: NewEvent[] = [
    { t: 'found', backend: addr, sha256: OLD, version: 'x-aaaa', installedAt: '2026-12-01T00:00:00Z' },
  ];
  stepNames.slice(0, upTo).forEach((step, i) => {
    out.push({ t: 'step', backend: addr, step, phase: 'start', attempt: 1 });
    out.push({ t: 'step', backend: addr, step, phase: 'done', attempt: 1, next: stepNames[i + 1] ?? 'done' });
  });
  if (upTo === stepNames.length) out.push({ t: 'backend', backend: addr, result: 'done' });
  return out;
}

const w = (requests: number, errors: number, ms: number): WindowSummary => ({
  requests,
  errors,
  errorRate: requests ? errors / requests : null,
  latencyMs: ms,
  latencyKind: 'p95',
});

const failedCanary = journal(
  plan,
  ...upgrade(A),
  { t: 'soak', backend: A, phase: 'start', secs: 5 },
  {
    t: 'analysis',
    backend: A,
    final: false,
    verdict: 'pending',
    canary: w(10, 2, 3),
    baseline: w(40, 0, 3),
    reasons: [],
  },
  {
    t: 'analysis',
    backend: A,
    final: false,
    verdict: 'fail',
    canary: w(40, 10, 3),
    baseline: w(160, 0, 3),
    reasons: ['canary error rate 25.0 % (10 of 40) is over MaxErrorRate 5.0 %'],
  },
  {
    t: 'backend',
    backend: A,
    result: 'failed',
    error: 'canary analysis failed: canary error rate 25.0 % (10 of 40) is over MaxErrorRate 5.0 %',
  },
  { t: 'finalize', backend: A, outcome: 'rolledBack', detail: 'x-aaaa' },
  { t: 'finalize', backend: A, outcome: 'readded', detail: '' },
  { t: 'end', state: 'ESCanaryFailure', failures: 1 },
);

const fold = (events: JournalEvent[]) => ({ progress: foldProgress([A, B, C], 1, events), extras: foldExtras(events) });

describe('rollout outcome in words', () => {
  it('a canary failed by its analysis and rolled back: the sentence says what serves now; Resume is off and says why', () => {
    const { progress, extras } = fold(failedCanary);
    const o = describeOutcome({ progress, finals: extras.finals, label })!;
    assert.equal(o.sentence, `Rolled back: the canary ${A} serves web-v1.zip again; 0 of 3 upgraded in 23 s`);
    assert.equal(o.tone, 'bad');
    assert.match(o.detail!, /^canary analysis failed: canary error rate 25\.0 %/);
    assert.equal(o.next, 'The other 2 backends were not touched. Fix the package, point Src at it, and Start.');
    // its row shows the final state, not "old → new"
    assert.deepEqual(rowNow(progress.rows[0], { progress, finals: extras.finals, label }), {
      text: 'web-v1.zip again',
      tone: 'old',
      note: 'rolled back to x-aaaa',
      before: 'web-v1.zip',
    });
    assert.deepEqual(rowNow(progress.rows[1], { progress, finals: extras.finals, label }), {
      text: 'not touched',
      tone: 'none',
    });
    const b = buttons({
      progress,
      srcSha: NEW,
      resumable: true,
      running: false,
      elsewhere: false,
      label,
      backends: 3,
      canaries: 1,
    });
    assert.equal(b.can.resume, false);
    assert.equal(b.hints.resume.label, 'Retry Canary');
    assert.match(
      b.hints.resume.title,
      /^The canary analysis judged web-v2-flaky\.zip bad: Resume would roll the same package out again/,
    );
    assert.equal(b.can.start, true);
    assert.match(b.hints.start.title, /^Start again: every backend gets web-v2-flaky\.zip once more/);
    // Src changed since: Start promises the new package, Resume is off
    const changed = buttons({
      progress,
      srcSha: 'c'.repeat(64),
      resumable: false,
      running: false,
      elsewhere: false,
      label,
      backends: 3,
      canaries: 1,
    });
    assert.equal(
      changed.hints.start.title,
      'Start a new rollout of cccccccc (the last one rolled out web-v2-flaky.zip)',
    );
    assert.match(
      changed.hints.resume.title,
      /^Src changed since this rollout \(it rolled out web-v2-flaky\.zip, Src is now cccccccc\)/,
    );
  });

  it('the analysis as a series: one point per look, seconds since the soak began, ended by the failing look', () => {
    const { extras } = fold(failedCanary);
    assert.equal(extras.canaries.length, 1);
    const s = extras.canaries[0];
    assert.equal(s.backend, A);
    assert.equal(s.soakSecs, 5);
    assert.equal(s.ended, true);
    assert.deepEqual(
      s.points.map((p) => [p.t, p.verdict, p.canary.errorRate, p.baseline.errorRate]),
      [
        [1, 'pending', 0.2, 0],
        [2, 'fail', 0.25, 0],
      ],
    );
    assert.deepEqual(s.reasons, ['canary error rate 25.0 % (10 of 40) is over MaxErrorRate 5.0 %']);
    // the Prometheus query's number rides along, look by look (null: no data)
    const withProm = foldExtras(
      journal(
        plan,
        { t: 'soak', backend: A, phase: 'start', secs: 5 },
        {
          t: 'analysis',
          backend: A,
          final: false,
          verdict: 'pending',
          canary: w(5, 0, 3),
          baseline: w(20, 0, 3),
          prometheus: { query: 'q', value: null },
          reasons: [],
        },
        {
          t: 'analysis',
          backend: A,
          final: true,
          verdict: 'pass',
          canary: w(50, 0, 3),
          baseline: w(200, 0, 3),
          prometheus: { query: 'q', value: 0.01 },
          reasons: [],
        },
        { t: 'soak', backend: A, phase: 'done', secs: 5 },
      ),
    );
    assert.deepEqual(
      withProm.canaries[0].points.map((p) => [p.t, p.prometheus, p.final]),
      [
        [1, null, false],
        [2, 0.01, true],
      ],
    );
    assert.equal(withProm.canaries[0].ended, true);
    // a new rollout (plan) starts over
    assert.deepEqual(foldExtras(journal(...failedCanary, plan)).canaries, []);
  });

  it('a canary whose health check failed and that was not rolled back: out of the LB, and Retry Canary says what it does', () => {
    const events = journal(
      plan,
      ...upgrade(A, 5),
      { t: 'step', backend: A, step: 'reachable', phase: 'start', attempt: 1 },
      {
        t: 'step',
        backend: A,
        step: 'reachable',
        phase: 'failed',
        attempt: 1,
        error: 'did not become healthy within 2s',
      },
      { t: 'backend', backend: A, result: 'failed', error: 'reachable: did not become healthy within 2s' },
      { t: 'finalize', backend: A, outcome: 'leftOut', detail: 'GET /healthz answered HTTP 500' },
      { t: 'end', state: 'ESCanaryFailure', failures: 1 },
    );
    const { progress, extras } = fold(events);
    const o = describeOutcome({ progress, finals: extras.finals, label })!;
    assert.equal(o.sentence, `Stopped at the canary: ${A} is out of the load balancer; 0 of 3 upgraded in 16 s`);
    assert.deepEqual(rowNow(progress.rows[0], { progress, finals: extras.finals, label }), {
      text: 'nothing (out of the LB)',
      tone: 'bad',
      note: 'failed at reachable; left out of the LB: GET /healthz answered HTTP 500',
      before: 'web-v1.zip',
    });
    const b = buttons({
      progress,
      srcSha: NEW,
      resumable: true,
      running: false,
      elsewhere: false,
      label,
      backends: 3,
      canaries: 1,
    });
    assert.equal(b.can.resume, true);
    assert.equal(
      b.hints.resume.title,
      `Try ${A} again from reachable with the same package, then go on: for a failure outside the package (an agent, a host) that is fixed now`,
    );
  });

  it('success, failures within MaxFailures, a pause and an abort each say what serves', () => {
    const ok = fold(
      journal(
        plan,
        ...upgrade(A),
        { t: 'soak', backend: A, phase: 'start', secs: 1 },
        { t: 'soak', backend: A, phase: 'done', secs: 1 },
        ...upgrade(B),
        ...upgrade(C),
        { t: 'end', state: 'ESSuccess', failures: 0 },
      ),
    );
    assert.match(
      describeOutcome({ ...ok, finals: ok.extras.finals, label })!.sentence,
      /^Succeeded: all 3 backends serve web-v2-flaky\.zip; 3 of 3 upgraded in \d+ s$/,
    );
    const okButtons = buttons({
      progress: ok.progress,
      srcSha: NEW,
      resumable: false,
      running: false,
      elsewhere: false,
      label,
      backends: 3,
      canaries: 1,
    });
    assert.equal(okButtons.can.resume, false);
    assert.equal(okButtons.hints.resume.title, 'Nothing to resume: every backend was upgraded');

    const some = fold(
      journal(
        plan,
        ...upgrade(A),
        ...upgrade(B),
        { t: 'step', backend: C, step: 'findApp', phase: 'start', attempt: 1 },
        { t: 'step', backend: C, step: 'findApp', phase: 'failed', attempt: 1, error: 'agent down' },
        { t: 'backend', backend: C, result: 'failed', error: 'findApp: agent down' },
        { t: 'end', state: 'ESSuccess', failures: 1 },
      ),
    );
    const o = describeOutcome({ ...some, finals: some.extras.finals, label })!;
    assert.equal(o.sentence, 'Succeeded with 1 failure within MaxFailures: 2 of 3 serve web-v2-flaky.zip');
    const retry = buttons({
      progress: some.progress,
      srcSha: NEW,
      resumable: true,
      running: false,
      elsewhere: false,
      label,
      backends: 3,
      canaries: 1,
    });
    assert.deepEqual([retry.can.resume, retry.hints.resume.label], [true, 'Retry Failed']);
    assert.equal(retry.hints.resume.title, `Retry the 1 failed backend (${C}), each from the step where it stopped`);

    const paused = fold(journal(plan, ...upgrade(A), { t: 'paused' }));
    assert.equal(
      describeOutcome({ ...paused, finals: paused.extras.finals, label })!.sentence,
      'Paused at a safe point: 1 of 3 serve web-v2-flaky.zip',
    );

    const aborted = fold(
      journal(plan, ...upgrade(A), { t: 'end', state: 'Aborted', failures: 0, error: 'rollout aborted' }),
    );
    const a = describeOutcome({ ...aborted, finals: aborted.extras.finals, label })!;
    assert.equal(a.sentence, 'Aborted: 1 of 3 serve web-v2-flaky.zip; 2 backends were not touched');
  });

  it('a rollout that runs has no outcome yet; its rows say old → new while they change', () => {
    const running = fold(journal(plan, ...upgrade(A, 3)));
    assert.equal(describeOutcome({ ...running, finals: running.extras.finals, label }), undefined);
    assert.deepEqual(rowNow(running.progress.rows[0], { ...running, finals: running.extras.finals, label }), {
      text: 'web-v1.zip → web-v2-flaky.zip',
      tone: 'busy',
      before: 'web-v1.zip',
    });
  });
});
