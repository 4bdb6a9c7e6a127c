// Who a controller says it is, from the CI system's variables or the local account: each provider's
// job named, a person's terminal as the CLI, and whatever the environment holds made into an Actor
// the agents accept (printable, bounded) (property).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { actorSchema, describeActor } from '../../core/protocol/agentRecords';
import { controllerIdentity } from '../../core/rollout/controller';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

const facts = { user: 'carol', machine: 'laptop.local', pid: 4242 };

describe('controller identity (leases and history name it)', () => {
  it('a terminal without CI variables is the CLI of this user and machine', () => {
    assert.deepEqual(controllerIdentity('cli', {}, facts), {
      user: 'carol',
      machine: 'laptop.local',
      tool: 'cli',
      pid: 4242,
    });
    assert.equal(controllerIdentity('editor', {}, facts).tool, 'editor');
  });

  for (const [provider, env, job, url, user] of [
    [
      'github',
      {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/web',
        GITHUB_RUN_ID: '12',
        GITHUB_RUN_ATTEMPT: '2',
        GITHUB_JOB: 'deploy',
        GITHUB_ACTOR: 'alice',
      },
      'acme/web run 12 attempt 2 job deploy',
      'https://github.com/acme/web/actions/runs/12',
      'alice',
    ],
    [
      'gitlab',
      {
        GITLAB_CI: 'true',
        CI: 'true',
        CI_PROJECT_PATH: 'acme/web',
        CI_JOB_ID: '99',
        CI_PIPELINE_ID: '7',
        CI_JOB_URL: 'https://gitlab.example/acme/web/-/jobs/99',
        GITLAB_USER_LOGIN: 'bob',
      },
      'acme/web job 99 pipeline 7',
      'https://gitlab.example/acme/web/-/jobs/99',
      'bob',
    ],
    [
      'buildkite',
      {
        BUILDKITE: 'true',
        BUILDKITE_PIPELINE_SLUG: 'web',
        BUILDKITE_BUILD_NUMBER: '5',
        BUILDKITE_JOB_ID: 'j1',
        BUILDKITE_BUILD_URL: 'https://buildkite.example/b/5',
        BUILDKITE_BUILD_CREATOR: 'dan',
      },
      'web build 5 job j1',
      'https://buildkite.example/b/5',
      'dan',
    ],
    [
      'jenkins',
      { JENKINS_URL: 'https://j/', BUILD_TAG: 'jenkins-web-8', BUILD_URL: 'https://j/job/web/8/' },
      'jenkins-web-8',
      'https://j/job/web/8/',
      'carol',
    ],
    ['ci', { CI: 'true' }, 'unnamed job', undefined, 'carol'],
  ] as const) {
    it(`names the ${provider} job and its user`, () => {
      const a = controllerIdentity('cli', env, facts);
      assert.equal(a.tool, 'ci');
      assert.deepEqual(a.ci, { provider, job, ...(url ? { url } : {}) });
      assert.equal(a.user, user);
      actorSchema.parse(a);
      assert.match(describeActor(a), new RegExp(`^${provider} job `));
    });
  }

  it('CI=false is not CI', () => {
    assert.equal(controllerIdentity('cli', { CI: 'false' }, facts).tool, 'cli');
  });

  it('whatever the environment holds becomes an Actor the agents accept, printable and bounded (property)', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 600 }),
      fc.constantFrom('', '\u001b[2J', '\u0000', ' '.repeat(300), 'é'.repeat(300)),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            GITHUB_ACTIONS: fc.constantFrom('true', 'false', ''),
            GITHUB_REPOSITORY: text,
            GITHUB_RUN_ID: text,
            GITHUB_ACTOR: text,
            GITHUB_SERVER_URL: text,
            GITLAB_CI: fc.constantFrom('true', ''),
            CI_PROJECT_PATH: text,
            CI_JOB_URL: text,
            CI: fc.constantFrom('true', '1', 'false', ''),
            CI_JOB_NAME: text,
          },
          { requiredKeys: [] },
        ),
        fc.record({
          user: text,
          machine: text,
          pid: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -1, 2 ** 40)),
        }),
        (env, f) => {
          const a = controllerIdentity('cli', env, f);
          const r = actorSchema.safeParse(a);
          assert.ok(r.success, JSON.stringify(r.error?.issues));
          // eslint-disable-next-line no-control-regex -- what must not reach a terminal
          assert.doesNotMatch(describeActor(a), /[\u0000-\u001f\u007f-\u009f]/);
        },
      ),
      { numRuns: fuzzRuns(300), seed: fuzzSeed(3301) },
    );
  });
});
