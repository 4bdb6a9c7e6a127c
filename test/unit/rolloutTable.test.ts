import assert from 'node:assert/strict';
import { emptyProgress, type RolloutProgress } from '../../core/rollout/progress';
import { renderRolloutTable } from '../../cli/rolloutTable';

const t0 = Date.parse('2026-11-26T10:00:00Z');

function progress(n: number): RolloutProgress {
  const p = emptyProgress(
    Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:8080`),
    1,
  );
  p.status = 'running';
  p.startedAt = new Date(t0).toISOString();
  p.rows[0] = {
    ...p.rows[0],
    phase: 'done',
    result: 'done',
    step: 'addBackend',
    durations: { cp: 1200, jobStart: 800 },
  };
  p.rows[1] = { ...p.rows[1], phase: 'running', step: 'cp', lb: 'out', startedAt: new Date(t0 + 1000).toISOString() };
  return p;
}

describe('the rollout table (fleet rollout on a terminal)', () => {
  it('shows each backend with its step, time, LB state and note, the verdict and what Ctrl-C does', () => {
    const text = renderRolloutTable(progress(3), { title: 'fleet rollout web' }, t0 + 3500);
    const lines = text.split('\n');
    assert.match(
      lines.find((l) => l.includes('10.0.0.1'))!,
      /^✓ 10\.0\.0\.1:8080 +canary +addBackend 7\/7 +2\.0 s +in +upgraded$/,
    );
    assert.match(
      lines.find((l) => l.includes('10.0.0.2'))!,
      /^▸ 10\.0\.0\.2:8080 +cp 4\/7 +2\.5 s +out$/,
    );
    assert.match(
      lines.find((l) => l.includes('10.0.0.3'))!,
      /^· 10\.0\.0\.3:8080 +in$/,
    );
    assert.match(text, /Running: 1\/3 upgraded · 0 failed · 4 s/);
    assert.equal(lines.at(-1), 'Ctrl-C pauses at a safe point');
    assert.match(renderRolloutTable(progress(3), { title: 't', pausing: true }, t0), /Pausing at a safe point…/);
  });

  it('fits the terminal: no line wider than it, and many backends counted instead of listed', () => {
    const p = progress(60);
    p.rows[1].error = 'x'.repeat(300);
    p.rows[1].phase = 'failed';
    const text = renderRolloutTable(p, { title: 'fleet rollout web' }, t0, 80, 24);
    const lines = text.split('\n');
    assert.ok(lines.length <= 24, `${lines.length} lines`);
    for (const l of lines) assert.ok([...l].length < 80, l);
    assert.match(text, /… 59 more: 1 upgraded, 58 pending/);
    assert.match(text, /✗ 10\.0\.0\.2:8080 .*failed: xxx+…$/m);
  });

  it('ends with the verdict as a person says it', () => {
    const p = progress(2);
    p.rows[1] = { ...p.rows[1], phase: 'done', result: 'done', lb: 'in' };
    p.status = 'ended';
    p.endState = 'ESSuccess';
    p.endedAt = new Date(t0 + 11_000).toISOString();
    const text = renderRolloutTable(p, { title: 't' }, t0 + 20_000);
    assert.match(text, /Succeeded: 2\/2 upgraded in 11 s$/);
  });
});
