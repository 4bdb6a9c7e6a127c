// Who runs a rollout, as leases and history name it: the user and machine, the front end (a
// terminal's `fleet`, an editor, a CI job) and its pid. A CI job is recognised from the variables
// its system sets (GitHub Actions, GitLab CI, Buildkite, Jenkins, CircleCI, and any system that sets
// CI=true), so a lease says which job holds a rollout and links to it. Everything taken from the
// environment is made printable and cut to the protocol's lengths: it travels to agents and back
// onto other people's terminals.
import { hostname, userInfo } from 'node:os';
import type { Actor, ControllerTool } from '../protocol/agentRecords';

type Env = Readonly<Record<string, string | undefined>>;

export interface MachineFacts {
  user: string;
  machine: string;
  pid: number;
}

export function localFacts(env: Env = process.env): MachineFacts {
  let user = env.USER || env.LOGNAME || '';
  try {
    user = userInfo().username || user;
  } catch {
    // no passwd entry (a container's uid): the environment's name, or the uid below
  }
  return { user: user || `uid${process.getuid?.() ?? '?'}`, machine: hostname() || 'unknown', pid: process.pid };
}

/** the CI job the environment describes, or undefined outside CI */
export function ciJob(env: Env): Actor['ci'] {
  const v = (k: string) => env[k] || undefined;
  if (v('GITHUB_ACTIONS') === 'true') {
    const repo = v('GITHUB_REPOSITORY') ?? 'unknown repository';
    const run = v('GITHUB_RUN_ID');
    const attempt = v('GITHUB_RUN_ATTEMPT');
    const server = v('GITHUB_SERVER_URL') ?? 'https://github.com';
    return {
      provider: 'github',
      job: `${repo} run ${run ?? '?'}${attempt && attempt !== '1' ? ` attempt ${attempt}` : ''}${v('GITHUB_JOB') ? ` job ${v('GITHUB_JOB')}` : ''}`,
      ...(run && v('GITHUB_REPOSITORY') ? { url: `${server}/${repo}/actions/runs/${run}` } : {}),
    };
  }
  if (v('GITLAB_CI') === 'true')
    return {
      provider: 'gitlab',
      job: `${v('CI_PROJECT_PATH') ?? 'unknown project'} job ${v('CI_JOB_ID') ?? '?'}${v('CI_PIPELINE_ID') ? ` pipeline ${v('CI_PIPELINE_ID')}` : ''}`,
      ...(v('CI_JOB_URL') ? { url: v('CI_JOB_URL') } : {}),
    };
  if (v('BUILDKITE') === 'true')
    return {
      provider: 'buildkite',
      job: `${v('BUILDKITE_PIPELINE_SLUG') ?? 'unknown pipeline'} build ${v('BUILDKITE_BUILD_NUMBER') ?? '?'}${v('BUILDKITE_JOB_ID') ? ` job ${v('BUILDKITE_JOB_ID')}` : ''}`,
      ...(v('BUILDKITE_BUILD_URL') ? { url: v('BUILDKITE_BUILD_URL') } : {}),
    };
  if (v('JENKINS_URL'))
    return {
      provider: 'jenkins',
      job: v('BUILD_TAG') ?? `${v('JOB_NAME') ?? 'unknown job'} build ${v('BUILD_NUMBER') ?? '?'}`,
      ...(v('BUILD_URL') ? { url: v('BUILD_URL') } : {}),
    };
  if (v('CIRCLECI') === 'true')
    return {
      provider: 'circleci',
      job: `${v('CIRCLE_PROJECT_REPONAME') ?? 'unknown project'} build ${v('CIRCLE_BUILD_NUM') ?? '?'}${v('CIRCLE_JOB') ? ` job ${v('CIRCLE_JOB')}` : ''}`,
      ...(v('CIRCLE_BUILD_URL') ? { url: v('CIRCLE_BUILD_URL') } : {}),
    };
  if (v('CI') === 'true' || v('CI') === '1') return { provider: 'ci', job: v('CI_JOB_NAME') ?? 'unnamed job' };
  return undefined;
}

/** the CI system's user who started the job, when it says */
function ciUser(env: Env): string | undefined {
  return env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || env.BUILDKITE_BUILD_CREATOR || env.CIRCLE_USERNAME || undefined;
}

/**
 * This controller as an Actor: `tool` is the front end (a CI job found in `env` makes it `ci`,
 * whatever front end runs inside it). The user is the CI's user who started the job when it
 * names one, else the local account.
 */
export function controllerIdentity(
  tool: Exclude<ControllerTool, 'ci'>,
  env: Env = process.env,
  facts: MachineFacts = localFacts(env),
): Actor {
  const ci = ciJob(env);
  const user = clean((ci && ciUser(env)) || facts.user, 64) || 'unknown';
  return {
    user,
    machine: clean(facts.machine, 255) || 'unknown',
    tool: ci ? 'ci' : tool,
    pid: Number.isFinite(facts.pid) ? Math.max(0, Math.min(2 ** 31, Math.trunc(facts.pid))) : 0,
    ...(ci
      ? {
          ci: {
            provider: clean(ci.provider, 32) || 'ci',
            job: clean(ci.job, 256) || 'unnamed job',
            ...(ci.url && clean(ci.url, 512) ? { url: clean(ci.url, 512) } : {}),
          },
        }
      : {}),
  };
}

/** printable, trimmed, at most `max` characters */
function clean(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const printable = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return printable.trim().slice(0, max);
}
