// The messages between the rollout panel (webview) and the extension, typed once and imported by
// both sides. The extension posts nothing until the webview has said `ready`.
import type { RolloutProgress } from '../../core/rollout/progress';
import type { Plan } from '../../core/rollout/plan';
import type { LiveTraffic } from '../../core/rollout/liveTraffic';

export interface ConfigSummary {
  file: string;
  packageName: string;
  sha256: string;
  lb: string;
  pattern: string;
  concurrency: number;
  canaryNum: number;
  maxFailures: number;
  soakSecs: number;
  backends: number;
  rollbackOnFailure: boolean;
}

export interface PanelState {
  /** the service.json; the webview keeps it in its state so a reload restores the panel */
  file: string;
  summary?: ConfigSummary;
  /**
   * service.json could not be loaded: what and where. `issues`: every problem Fleet found (field
   * paths); `editor`: what the editor's JSON Schema check says, in its words, with positions
   */
  invalid?: {
    message: string;
    field: string;
    issues: Array<{ field: string; message: string }>;
    editor?: Array<{ message: string; line: number; character: number }>;
  };
  plan?: Plan;
  progress?: RolloutProgress;
  /** how it ended, in words (`Succeeded: 4/4 upgraded in 11 s`) */
  headline?: string;
  /** the package as a person knows it: its file name */
  packageFile?: string;
  /** the journal stops mid-rollout and nothing runs it: the window went away while it ran */
  interrupted: boolean;
  /** another process (a terminal, another window) runs this file's rollout: who, since when */
  runningElsewhere?: string;
  /** while a rollout runs: each backend's traffic over the last few seconds, from the LB's counters */
  traffic?: LiveTraffic | { error: string };
  /** what the buttons may do now */
  can: { start: boolean; pause: boolean; resume: boolean; abort: boolean };
}

export type ToWebview = { type: 'state'; state: PanelState };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'abort' }
  | { type: 'reveal'; field: string }
  | { type: 'revealAt'; line: number; character: number };
