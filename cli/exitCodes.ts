// The one place where error types become exit codes (design.md's CLI contract).
import { LbError } from '../core/lb/types';
import type { HostOutcome } from '../core/ssh/forHosts';
import { LeaseHeldError } from '../core/agentClient/records';
import { DriftError } from '../core/rollout/fleetStatus';
import { LeaseUnavailableError, RolloutHeldError } from '../core/rollout/leases';
import { RolloutBusyError } from '../core/rollout/lock';
import { PreconditionError } from '../core/rollout/workflow';
import {
  AuthError,
  HostKeyError,
  MissingProgramError,
  TimeoutError,
  UnreachableError,
  UsageError,
  ValidationError,
} from '../core/errors';

export const Exit = {
  ok: 0,
  failed: 1,
  unreachable: 2,
  precondition: 3,
  canary: 4,
  maxFailures: 5,
  aborted: 6,
  usage: 64,
  invalidInput: 65,
  missingProgram: 69, // EX_UNAVAILABLE: a program Fleet needs is not installed
} as const;

export function exitCodeOf(err: unknown): number {
  // refused before anything changed: the pool was not as service.json says, another process or
  // controller runs it (its lock, its lease on the agents), or a change by hand met a rollout's lease
  if (
    err instanceof PreconditionError ||
    err instanceof RolloutBusyError ||
    err instanceof RolloutHeldError ||
    err instanceof LeaseUnavailableError ||
    err instanceof LeaseHeldError
  )
    return Exit.precondition;
  // fleet status --fail-on-drift: a backend is not what the last successful rollout left
  if (err instanceof DriftError) return Exit.failed;
  if (err instanceof UsageError) return Exit.usage;
  if (err instanceof ValidationError) return Exit.invalidInput;
  if (err instanceof MissingProgramError) return Exit.missingProgram;
  if (err instanceof HostKeyError || err instanceof AuthError || err instanceof UnreachableError)
    return Exit.unreachable;
  // the LB refused what the command line asked (malformed address, pattern): a usage error
  if (err instanceof LbError && err.status === 400) return Exit.usage;
  if (err instanceof TimeoutError) return err.what === 'command' ? Exit.failed : Exit.unreachable;
  return Exit.failed;
}

/**
 * The exit code of a verb run on many hosts (core/ssh/forHosts.ts): the highest of its hosts', a
 * failure's from its error, a success's from `codeOf` (a command that ran and exited non-zero).
 */
export function exitOf<T>(outcomes: readonly HostOutcome<T>[], codeOf: (value: T) => number = () => Exit.ok): number {
  return outcomes.reduce(
    (worst, o) => Math.max(worst, o.ok ? codeOf(o.value) : exitCodeOf(o.error)),
    Exit.ok as number,
  );
}
