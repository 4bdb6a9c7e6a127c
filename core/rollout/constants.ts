// The rollout's names, shared by the engine, both front ends and the panel's webview (which bundles
// this file into browser code: it imports nothing and holds no logic).

/** the per-backend chain, in the seed's order (core/rollout/steps.ts) */
export const stepNames = ['findApp', 'rmBackend', 'jobKill', 'cp', 'jobStart', 'reachable', 'addBackend'] as const;
export type StepName = (typeof stepNames)[number];

/** how a rollout ends (the seed's names, plus Aborted) */
export const endStates = ['ESSuccess', 'ESPreconditionFailure', 'ESCanaryFailure', 'ESMaxFailures', 'Aborted'] as const;
export type EndState = (typeof endStates)[number];

/** what the finaliser did with a backend it found out of the LB */
export type FinalizeOutcome = 'readded' | 'leftOut' | 'rolledBack' | 'error';

/** a backend's row in the progress: not started, in a step, failed, upgraded */
export type RowPhase = 'pending' | 'running' | 'failed' | 'done';
