// What the panel's buttons would do now, in words, and whether that means anything: Resume after a
// canary failed its analysis would roll the same bad package out again, so it is off and says why;
// after failures within MaxFailures it is "Retry Failed" and names them. Core decides what a resume
// may continue (core/rollout/resume.ts canResume); this says it to a person. Pure of vscode.
import type { RolloutProgress } from '../../core/rollout/progress';

export interface ButtonHint {
  label: string;
  /** the tooltip: what a click does, or why the button is off */
  title: string;
}

export interface Buttons {
  can: { start: boolean; pause: boolean; resume: boolean; abort: boolean };
  hints: { start: ButtonHint; pause: ButtonHint; resume: ButtonHint; abort: ButtonHint };
}

export interface ButtonInput {
  progress?: RolloutProgress;
  /** the package Src names now (undefined: service.json does not load) */
  srcSha?: string;
  /** core's canResume for this file and progress */
  resumable: boolean;
  running: boolean;
  elsewhere: boolean;
  label: (sha256: string | null | undefined) => string;
  backends: number;
  canaries: number;
}

export function buttons(i: ButtonInput): Buttons {
  const p = i.progress;
  const loaded = i.srcSha !== undefined;
  const src = i.label(i.srcSha);
  const ended = p?.status === 'ended';
  const startTitle = !loaded
    ? 'service.json has problems: fix them first'
    : i.elsewhere
      ? 'Another process runs this rollout'
      : i.running
        ? 'The rollout runs'
        : ended && p?.sha256 === i.srcSha
          ? `Start again: every backend gets ${src} once more, canaries first (asks first)`
          : ended
            ? `Start a new rollout of ${src} (the last one rolled out ${i.label(p?.sha256)})`
            : `Roll ${src} out to ${i.backends} backend${i.backends === 1 ? '' : 's'}${i.canaries ? `, ${i.canaries} canar${i.canaries === 1 ? 'y' : 'ies'} first` : ''}`;
  const resume = resumeHint(i);
  return {
    can: {
      start: loaded && !i.running && !i.elsewhere,
      pause: i.running,
      resume: resume.enabled,
      abort: i.running,
    },
    hints: {
      start: { label: 'Start', title: startTitle },
      pause: { label: 'Pause', title: 'Start no new step; the steps running finish, then it waits for Resume' },
      resume: resume.hint,
      abort: {
        label: 'Abort',
        title: 'Stop now: running steps are cancelled, then every healthy backend goes back into the load balancer',
      },
    },
  };
}

function resumeHint(i: ButtonInput): { enabled: boolean; hint: ButtonHint } {
  const p = i.progress;
  const off = (title: string, label = 'Resume') => ({ enabled: false, hint: { label, title } });
  const on = (label: string, title: string) => ({ enabled: true, hint: { label, title } });
  if (i.running) return off('The rollout runs: Pause stops it at a safe point');
  if (i.elsewhere) return off('Another process runs this rollout');
  if (!p || p.status === 'idle' || !p.sha256) return off('Nothing to resume: this file has no rollout yet');
  if (i.srcSha !== undefined && p.sha256 !== i.srcSha)
    return off(
      `Src changed since this rollout (it rolled out ${i.label(p.sha256)}, Src is now ${i.label(i.srcSha)}): Start rolls the new package out`,
    );
  if (!i.resumable)
    return off(
      p.endState === 'ESSuccess'
        ? 'Nothing to resume: every backend was upgraded'
        : p.endState === 'ESPreconditionFailure'
          ? 'Nothing was changed: Start again once the precondition holds'
          : 'Nothing to resume',
    );
  const failed = p.rows.filter((r) => r.result === 'failed');
  const left = p.rows.filter((r) => r.result !== 'done').length;
  const untouched = p.rows.filter((r) => r.phase === 'pending').length;
  if (p.status === 'paused' || p.status === 'running')
    return on('Resume', `Continue: ${left} backend${left === 1 ? '' : 's'} left, each from the step where it stopped`);
  if (p.endState === 'ESCanaryFailure') {
    const c = failed.find((r) => r.canary) ?? failed[0];
    if (c?.error?.startsWith('canary analysis failed'))
      return off(
        `The canary analysis judged ${i.label(p.sha256)} bad: Resume would roll the same package out again. Point Src at a fixed build and Start`,
        'Retry Canary',
      );
    return on(
      'Retry Canary',
      `Try ${c?.addr ?? 'the canary'} again from ${c?.next ?? 'its failed step'} with the same package, then go on: for a failure outside the package (an agent, a host) that is fixed now`,
    );
  }
  if (p.endState === 'Aborted')
    return on('Resume', `Continue the aborted rollout: ${left} backend${left === 1 ? '' : 's'} left`);
  return on(
    'Retry Failed',
    `Retry the ${failed.length} failed backend${failed.length === 1 ? '' : 's'} (${failed.map((r) => r.addr).join(', ')}), each from the step where it stopped${untouched ? `, then the ${untouched} not started` : ''}`,
  );
}
