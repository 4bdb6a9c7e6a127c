// The tests run as on a developer's terminal, wherever they run: the variables a CI system sets
// (CI=true, GITHUB_ACTIONS…) make every controller a CI job in leases and history
// (core/rollout/controller.ts), so they are removed before any test starts a controller. Tests
// about CI set them on the processes they start (ciPipeline.test.ts, controllerIdentity.test.ts).
// Loaded by .mocharc.json; scripts/test.sh unsets the same names for the phases outside mocha.
export const ciVariables = [
  'CI',
  'CI_JOB_NAME',
  'GITHUB_ACTIONS',
  'GITHUB_ACTOR',
  'GITLAB_CI',
  'GITLAB_USER_LOGIN',
  'BUILDKITE',
  'BUILDKITE_BUILD_CREATOR',
  'JENKINS_URL',
  'CIRCLECI',
  'CIRCLE_USERNAME',
] as const;

for (const name of ciVariables) delete process.env[name];
