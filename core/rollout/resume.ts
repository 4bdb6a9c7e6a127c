// Whether a rollout of a service file may continue, decided once for every front end: the CLI's
// `--resume`, the panel's Resume button, a CI job. A resume continues the newest journal of the
// file, only for the same package (a changed Src is a new rollout), and never while another process
// runs it (lock.ts).
import { UsageError } from '../errors';
import type { LoadedService } from './config';
import { latestJournal, readJournal } from './journal';
import { lockHolder, RolloutBusyError, lockFileFor } from './lock';
import { foldProgress, type RolloutProgress } from './progress';

export interface Resumable {
  journal: string;
  progress: RolloutProgress;
}

/** the journal a resume continues; UsageError when there is none or it rolled out another package */
export function resumableJournal(svc: LoadedService): Resumable {
  const journal = latestJournal(svc.file);
  if (!journal)
    throw new UsageError(
      `cannot resume: no rollout journal of ${svc.file} in ${svc.dir}/.fleet/rollouts; start a rollout instead`,
    );
  const progress = readProgress(svc, journal);
  if (progress.sha256 !== svc.sha256) {
    throw new UsageError(
      `cannot resume: ${journal} rolled out a different package (${progress.sha256?.slice(0, 12) ?? 'none'}, now ${svc.sha256.slice(0, 12)}); start a new rollout instead`,
    );
  }
  const holder = lockHolder(svc.file);
  if (holder) throw new RolloutBusyError(svc.file, holder, lockFileFor(svc.file));
  return { journal, progress };
}

/** the newest journal's progress for the panel, or null when the file has none */
export function latestProgress(svc: LoadedService): RolloutProgress | null {
  const journal = latestJournal(svc.file);
  return journal ? readProgress(svc, journal) : null;
}

function readProgress(svc: LoadedService, journal: string): RolloutProgress {
  return foldProgress(
    svc.backends.map((b) => b.addr),
    svc.config.CanaryNum,
    readJournal(journal),
  );
}

/** the journal stops mid-rollout and no live process runs it: its process went away (kill -9, a reloaded window) */
export function isInterrupted(svc: LoadedService, p: RolloutProgress): boolean {
  return p.status === 'running' && lockHolder(svc.file) === null;
}

/**
 * Whether a front end offers Resume for this progress: the same package, paused, interrupted,
 * ended by a failure a person may have fixed since, or a success with failures MaxFailures let
 * pass (Resume retries those backends). Not after a clean success, nor after a refused precondition,
 * which changed nothing: start again instead.
 */
export function canResume(svc: LoadedService, p: RolloutProgress | null): boolean {
  if (!p || p.sha256 !== svc.sha256) return false;
  if (p.status === 'paused') return lockHolder(svc.file) === null;
  if (p.status === 'running') return isInterrupted(svc, p);
  if (p.status !== 'ended' || p.endState === 'ESPreconditionFailure') return false;
  return p.endState !== 'ESSuccess' || p.failures > 0;
}
