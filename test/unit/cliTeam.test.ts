// The team commands' contract in process: usage errors of fleet rollout's CI flags, fleet status and
// fleet history; the exit codes of a held rollout, a change refused by a lease, drift; and an
// unreachable agent (exit 2) before anything could change.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../../cli/io';
import { main } from '../../cli/main';
import { Exit, exitCodeOf } from '../../cli/exitCodes';
import { LeaseHeldError } from '../../core/agentClient/records';
import { DriftError } from '../../core/rollout/fleetStatus';
import { LeaseUnavailableError, RolloutHeldError } from '../../core/rollout/leases';

async function fleet(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIO(args, { env });
  const code = await main(io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** a service.json whose agent and LB nothing answers */
function deadService(): string {
  const dir = mkdtempSync(join(tmpdir(), 'team-cli-'));
  writeFileSync(join(dir, 'web'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(dir, 'token'), 'x'.repeat(32), { mode: 0o600 });
  writeFileSync(
    join(dir, 'service.json'),
    JSON.stringify({
      Concurrency: 1,
      CanaryNum: 0,
      MaxFailures: 0,
      Src: 'web',
      LB: 'unix:/nonexistent/lb.sock',
      Pattern: '/',
      Backends: [{ Addr: '127.0.0.1:9', Agent: 'http://127.0.0.1:1' }],
      AgentTokenFile: 'token',
    }),
  );
  return join(dir, 'service.json');
}

describe('fleet CLI: rollouts run by a team (in process)', () => {
  it('maps a held rollout, a refused change and an unreachable agent to 3, drift to 1', () => {
    assert.equal(exitCodeOf(new RolloutHeldError('s.json', 'http://a', null)), Exit.precondition);
    assert.equal(exitCodeOf(new LeaseUnavailableError('http://a', new Error('x'))), Exit.precondition);
    assert.equal(exitCodeOf(new LeaseHeldError('http://a', {})), Exit.precondition);
    assert.equal(exitCodeOf(new DriftError('1 backend(s) drifted')), Exit.failed);
  });

  it('refuses --resume with --auto-resume, and a --lease-wait that is not a number', async () => {
    const svc = deadService();
    const both = await fleet(['rollout', svc, '--resume', '--auto-resume']);
    assert.equal(both.code, Exit.usage);
    assert.match(both.stderr, /give --resume or --auto-resume, not both/);
    const wait = await fleet(['rollout', svc, '--lease-wait', 'soon']);
    assert.equal(wait.code, Exit.usage);
    assert.match(wait.stderr, /--lease-wait must be a whole number of seconds, got "soon"/);
  });

  it('a rollout whose agent cannot be reached is refused before any change, naming the agent (exit 3)', async () => {
    const r = await fleet(['rollout', deadService()]);
    assert.equal(r.code, Exit.precondition, r.stderr);
    assert.match(r.stderr, /cannot take the rollout's lease on agent http:\/\/127\.0\.0\.1:1: .*nothing was changed/);
  });

  it('status and history name an invalid service.json (65), and an agent they cannot reach (2)', async () => {
    for (const cmd of ['status', 'history']) {
      const bad = await fleet([cmd, join(mkdtempSync(join(tmpdir(), 'none-')), 'service.json')]);
      assert.equal(bad.code, Exit.invalidInput, bad.stderr);
      const dead = await fleet([cmd, deadService()]);
      assert.equal(dead.code, Exit.unreachable, dead.stdout + dead.stderr);
    }
    const st = await fleet(['status', deadService()]);
    assert.match(st.stdout, /127\.0\.0\.1:9 +\? .*unknown: agent http:\/\/127\.0\.0\.1:1 could not be asked: /);
  });
});
