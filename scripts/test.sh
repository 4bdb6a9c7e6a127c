#!/usr/bin/env bash
# `npm test`: sets up what the tests need (scripts/test-setup.sh), then runs every phase with one
# scratch TMPDIR for the whole run. After each phase that starts processes, test/leftovers.ts fails
# loudly (and kills them) if any process the tests started is still alive.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-setup.sh || exit 1

run=$(mktemp -d /tmp/fleet-test-XXXXXX)
chmod 755 "$run" # test users (other login shells, ssh -G as another user) have homes in here
export TMPDIR=$run FLEET_TEST_RUN=${run##*/}
# one cache of the agent's runtime for every phase (the CLI, the extension host), filled by test-setup.sh
export FLEET_CACHE_DIR="${FLEET_CACHE_DIR:-$PWD/.tools/cache}"
# as on a developer's terminal: a CI system's variables would make every controller the tests start a
# CI job (test/harness/plainEnv.ts lists them; tests about CI set them themselves)
unset CI CI_JOB_NAME GITHUB_ACTIONS GITHUB_ACTOR GITLAB_CI GITLAB_USER_LOGIN BUILDKITE BUILDKITE_BUILD_CREATOR \
  JENKINS_URL CIRCLECI CIRCLE_USERNAME
status=0
for phase in lint typecheck build test:unit test:integration test:vscode; do
  echo "== npm run $phase"
  npm run -s "$phase" || status=$?
  case $phase in test:*) node_modules/.bin/tsx test/leftovers.ts "$phase" || status=1 ;; esac
  [ "$status" = 0 ] || break
done
if [ "$status" = 0 ]; then
  rm -rf "$run"
  echo "== every phase passed"
else
  echo "== failed (exit $status); the run's scratch files are in $run" >&2
fi
exit "$status"
