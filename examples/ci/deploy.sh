#!/bin/sh
# Deploys a service with Fleet from a CI job (GitHub Actions, GitLab CI, Buildkite, Jenkins, or any
# system that sets CI=true): examples/ci/README.md shows it in a pipeline.
#
#   deploy.sh SERVICE_JSON [PACKAGE_ZIP]
#
# - rolls the package out (Src of SERVICE_JSON, or PACKAGE_ZIP), resuming the rollout an earlier try
#   of the job left half done (a runner that died: --auto-resume, from the agents' records);
# - when another controller (a person, another pipeline) holds the rollout, waits for it up to
#   FLEET_LEASE_WAIT seconds (default 600) instead of failing at once;
# - keeps the rollout's events, one JSON object a line, in FLEET_EVENTS (default
#   fleet-rollout.jsonl): keep it as the job's artifact;
# - then checks that every backend runs what this rollout left (fleet status --fail-on-drift);
# - exits with Fleet's code, so the pipeline can tell a busy fleet (3) from a failed canary (4).
# The agents record the job as the rollout's holder (from the CI system's variables), so `fleet
# status` and `fleet history` on anyone's machine name it. Needs `fleet` in PATH (npm link, or the
# package's bin) and the agents' token (AgentTokenFile beside SERVICE_JSON, or FLEET_AGENT_TOKEN).
set -u

service=${1:?usage: deploy.sh SERVICE_JSON [PACKAGE_ZIP]}
src=${2:-}
events=${FLEET_EVENTS:-fleet-rollout.jsonl}
wait=${FLEET_LEASE_WAIT:-600}

set -- rollout "$service" --json --auto-resume --lease-wait "$wait"
if [ -n "$src" ]; then set -- "$@" --src "$src"; fi

fleet "$@" >"$events"
code=$?
case $code in
  0) echo "deploy: rollout succeeded; events in $events" ;;
  3) echo "deploy: refused before any change: another controller still holds the rollout after ${wait} s, or the pool was not ready (see $events and the error above)" >&2 ;;
  4) echo "deploy: a canary failed its checks; the rollout stopped (see $events)" >&2 ;;
  5) echo "deploy: more backends failed than MaxFailures allows (see $events)" >&2 ;;
  6) echo "deploy: the rollout was paused or aborted; a retry of this job resumes it" >&2 ;;
  *) echo "deploy: fleet rollout failed (exit $code); see the error above" >&2 ;;
esac
if [ "$code" -ne 0 ]; then exit "$code"; fi

fleet status "$service" --fail-on-drift
