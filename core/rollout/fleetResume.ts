// `--resume` from any controller: the rollout to continue is the newest one this machine's journal
// or the agents recorded, whichever knows more. A controller with no journal of it (another
// machine, a CI runner, a fresh clone) writes the agents' events into a journal of its own and goes
// on from there: the same rules as a resume from the journal (resume.ts), plus the same settings
// (service.json's sha256) as the rollout on the agents. Whether another controller still holds it
// is the lease's business: taking it refuses with the holder named.
import { advice } from '../advice';
import { UsageError } from '../errors';
import type { LoadedService } from './config';
import { type AgentRead, fleetRollout, type FleetRollout, unionEvents } from './fleetRecords';
import { Journal, latestJournal, readJournal, type JournalEvent } from './journal';
import { lockFileFor, lockHolder, RolloutBusyError } from './lock';
import { foldProgress } from './progress';
import type { Resumable } from './resume';

export interface FleetResumable extends Resumable {
  /** where the events came from */
  source: 'journal' | 'agents' | 'journal and agents';
  /** what was odd in the agents' records (dropped events, agents not read) */
  warnings: string[];
}

/**
 * The journal a resume continues, made from the agents' records when they know more than this
 * machine's journal; UsageError when there is nothing to resume or it is another package or
 * other settings.
 */
export function resumeFromFleet(svc: LoadedService, reads: readonly AgentRead[]): FleetResumable {
  const holder = lockHolder(svc.file);
  if (holder) throw new RolloutBusyError(svc.file, holder, lockFileFor(svc.file));
  const warnings = readWarnings(reads);
  const remote = fleetRollout(svc, reads);
  if (remote) warnings.push(...remote.merged.problems);
  const localFile = latestJournal(svc.file);
  const local = localFile ? readJournal(localFile) : [];
  const localId = planOf(local)?.id;
  const remoteNewer = remote && (!localId || remote.merged.rolloutId !== localId) && newerThan(remote, local);
  if (remote && (remote.merged.rolloutId === localId || remoteNewer)) {
    check(svc, remote);
    const same = remote.merged.rolloutId === localId;
    const events = unionEvents(same ? local : [], remote.merged.events);
    const grew = events.length > (same ? local.length : 0);
    const j = same ? new Journal(localFile!) : Journal.create(svc.file, remote.merged.rolloutId);
    try {
      if (grew) j.replace(events);
    } finally {
      j.close();
    }
    return {
      journal: j.file,
      progress: progressOf(svc, events),
      source: !same ? 'agents' : grew ? 'journal and agents' : 'journal',
      warnings,
    };
  }
  if (!localFile)
    throw new UsageError(
      `cannot resume: no rollout of ${svc.file} in ${svc.dir}/.fleet/rollouts, and its agents recorded none of package ${svc.packageName}; start a rollout instead${warnings.length ? ` (${warnings.join('; ')})` : ''}`,
    );
  const progress = progressOf(svc, local);
  if (progress.sha256 !== svc.sha256)
    throw new UsageError(
      `cannot resume: ${localFile} rolled out a different package (${progress.sha256?.slice(0, 12) ?? 'none'}, now ${svc.sha256.slice(0, 12)}); start a new rollout instead`,
    );
  return { journal: localFile, progress, source: 'journal', warnings };
}

/** brings a resumed journal up to what the agents recorded (read again once the lease is held) */
export function catchUp(journal: Journal, svc: LoadedService, reads: readonly AgentRead[], id: string): number {
  const remote = fleetRollout(svc, reads);
  if (!remote || remote.merged.rolloutId !== id) return 0;
  const local = readJournal(journal.file);
  const events = unionEvents(local, remote.merged.events);
  if (events.length > local.length) journal.replace(events);
  return events.length - local.length;
}

function check(svc: LoadedService, r: FleetRollout): void {
  const m = r.merged;
  if (m.sha256 !== svc.sha256)
    throw new UsageError(
      `cannot resume: the agents' latest rollout of ${svc.packageName} (${m.rolloutId}) installs package ${m.sha256.slice(0, 12)}, this service.json's Src is ${svc.sha256.slice(0, 12)}; resume it with that package (${advice().resumeWithSrc}), or start a new rollout`,
    );
  if (m.service.sha256 !== svc.serviceSha256)
    throw new UsageError(
      `cannot resume: the agents' latest rollout of ${svc.packageName} (${m.rolloutId}) ran other settings (${m.service.path}, sha256 ${m.service.sha256.slice(0, 12)}; this ${svc.file} is ${svc.serviceSha256.slice(0, 12)}); resume it with that service.json, or start a new rollout`,
    );
  if (!planOf(m.events))
    throw new UsageError(
      `cannot resume: the agents' record of rollout ${m.rolloutId} has no plan; start a new rollout`,
    );
}

function planOf(events: readonly JournalEvent[]) {
  return events.find((e): e is Extract<JournalEvent, { t: 'plan' }> => e.t === 'plan');
}

function newerThan(remote: FleetRollout, local: readonly JournalEvent[]): boolean {
  const l = planOf(local)?.at ?? '';
  const r = planOf(remote.merged.events)?.at ?? '';
  return r > l;
}

function progressOf(svc: LoadedService, events: readonly JournalEvent[]) {
  return foldProgress(
    svc.backends.map((b) => b.addr),
    svc.config.CanaryNum,
    events,
  );
}

function readWarnings(reads: readonly AgentRead[]): string[] {
  return reads.flatMap((r) =>
    r.old
      ? [
          `agent ${r.endpoint} predates rollout records: its backends' progress is only in the journal of the controller that ran them`,
        ]
      : r.error
        ? [`agent ${r.endpoint} could not be read: ${r.error}`]
        : [],
  );
}

/**
 * --auto-resume: the rollout to continue when the last one of this package (here or on its agents)
 * has the same package and settings and did not end: interrupted, paused, or still held by a
 * controller (whose lease this one then waits for: when it ends, the resume finds it ended and has
 * nothing left to do; when its holder died, the resume takes it over). Undefined: start anew.
 */
export function autoResume(svc: LoadedService, reads: readonly AgentRead[]): FleetResumable | undefined {
  const remote = fleetRollout(svc, reads);
  const localFile = latestJournal(svc.file);
  const local = localFile ? progressOf(svc, readJournal(localFile)) : null;
  const stopped = (status: string | undefined, live: boolean) => status === 'paused' || (status === 'running' && !live);
  const remoteFits =
    remote &&
    remote.merged.sha256 === svc.sha256 &&
    remote.merged.service.sha256 === svc.serviceSha256 &&
    remote.state !== 'ended';
  const localFits =
    local &&
    local.sha256 === svc.sha256 &&
    (!remote || remote.merged.rolloutId === local.id || !newerThan(remote, readJournal(localFile!))) &&
    stopped(local.status, lockHolder(svc.file) !== null);
  if (remoteFits || localFits) return resumeFromFleet(svc, reads);
  return undefined;
}
