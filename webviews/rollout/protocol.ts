// The messages between the rollout panel (webview) and the extension, typed once and imported by
// both sides. The extension posts nothing until the webview has said `ready`.
import type { RolloutProgress } from '../../core/rollout/progress';
import type { Plan } from '../../core/rollout/plan';
import type { LiveTraffic } from '../../core/rollout/liveTraffic';
import type { CanarySeries } from '../../extension/rollout/journalExtras';
import type { Outcome, RowNow } from '../../extension/rollout/outcome';
import type { Buttons } from '../../extension/rollout/buttonHints';
import type { FleetPanelData } from '../../core/rollout/fleetPanel';

export type { CanarySeries, Outcome, RowNow };

export interface ConfigSummary {
  file: string;
  packageName: string;
  sha256: string;
  /** Src as a person reads it: relative to service.json when it lies beside it */
  src: string;
  lb: string;
  pattern: string;
  concurrency: number;
  canaryNum: number;
  maxFailures: number;
  soakSecs: number;
  backends: number;
  rollbackOnFailure: boolean;
}

/** one problem of service.json, where it is (0-based line and character), as the editor shows it */
export interface Issue {
  field: string;
  message: string;
  severity: 'error' | 'warning' | 'info';
  line?: number;
  character?: number;
}

/** the limits the canary is judged by: the chart draws them */
export interface Thresholds {
  maxErrorRate: number;
  maxLatencyRatio?: number;
  minRequests: number;
  intervalSecs: number;
  prometheus?: { query: string; max?: number; min?: number };
}

export interface PanelState {
  /** the service.json; the webview keeps it in its state so a reload restores the panel */
  file: string;
  summary?: ConfigSummary;
  /** service.json cannot be rolled out: its problems, in the editor's places */
  invalid?: { message: string; field: string; issues: Issue[] };
  /** what Fleet warns about in a service.json it can roll out (its LB does not answer, budgets) */
  warnings?: Issue[];
  plan?: Plan;
  progress?: RolloutProgress;
  /** how it ended, or why it waits, in a sentence with what serves now; none while it runs */
  outcome?: Outcome;
  /** the outcome's sentence (the notification says the same) */
  headline?: string;
  /** what each backend serves now, by address */
  now?: Record<string, RowNow>;
  /** each canary's analysis, look by look (the chart), newest last */
  canaries?: CanarySeries[];
  thresholds?: Thresholds;
  /** the package Src names, as a person knows it: its file name */
  packageFile?: string;
  /** the package the journal rolled out (another one once Src changed since) */
  journalPackage?: string;
  /** the journal stops mid-rollout and nothing runs it: the window went away while it ran */
  interrupted: boolean;
  /** the rollout waits for the lease its window left on the agents before a reload: why, in words */
  waiting?: string;
  /** another process (a terminal, another window) runs this file's rollout: who, since when */
  runningElsewhere?: string;
  /** each backend's traffic over the last few seconds, from the LB's counters (whenever the LB answers) */
  traffic?: LiveTraffic | { error: string };
  /** what the buttons may do now, and what they would do */
  can: Buttons['can'];
  hints?: Buttons['hints'];
  /** what the agents recorded: a rollout another controller runs there, and the History view */
  fleet?: FleetPanelData | { error: string };
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
