// `fleet status service.json`: what each backend runs, which rollout (or whose hand) put it there,
// and drift: a backend not on the package of the last successful rollout, or changed by hand since
// (a change, start or stop made without a rollout's lease, or forced through one). Read from the
// agents (the package's status, history, lease and rollout record); the verdicts are pure.
import { AgentError } from '../agentClient/client';
import { errorMessage, FleetError } from '../errors';
import { mapLimit } from '../limit';
import { describeActor, type Actor, type HistoryEntry, type LeaseView } from '../protocol/agentRecords';
import type { PackageStatus } from '../protocol/agent';
import type { LoadedService } from './config';
import type { AgentHistory } from './fleetHistory';
import type { FleetRollout } from './fleetRecords';
import type { FleetAgent } from './leases';

/** fleet status --fail-on-drift found drift */
export class DriftError extends FleetError {}

export type DriftKind = 'behind' | 'manual' | 'missing' | 'unknown';

export interface BackendReport {
  addr: string;
  agent: string;
  /** null: the package is not installed; undefined: the agent could not be asked */
  running?: Pick<PackageStatus, 'version' | 'sha256' | 'state'> | null;
  /** the change that put the running package there */
  putThere?: { rolloutId: string | null; by: Actor | null; at: string; action: string; forced: boolean };
  drift: Array<{ kind: DriftKind; detail: string }>;
}

export interface StatusReport {
  package: string;
  /** the newest rollout whose leases were given back ESSuccess */
  lastSuccess: { rolloutId: string; sha256: string | null; at: string; by: Actor | null } | null;
  backends: BackendReport[];
  /** the rollout the agents recorded last, if it has not ended */
  rollout?: { id: string; state: FleetRollout['state']; done: number; total: number; holders: LeaseView[] };
  warnings: string[];
}

export interface AgentState {
  endpoint: string;
  status?: PackageStatus | null;
  error?: string;
}

export async function readPackageStates(svc: LoadedService, agents: readonly FleetAgent[]): Promise<AgentState[]> {
  return mapLimit(agents, 16, async (a) => {
    try {
      return { endpoint: a.endpoint, status: await a.client.status(svc.packageName) };
    } catch (e) {
      if (e instanceof AgentError && e.status === 404) return { endpoint: a.endpoint, status: null };
      return { endpoint: a.endpoint, error: errorMessage(e) };
    }
  });
}

const changes = new Set(['install', 'start', 'stop', 'restart', 'rollback', 'remove']);

export function statusReport(
  svc: LoadedService,
  states: readonly AgentState[],
  histories: readonly AgentHistory[],
  rollout: FleetRollout | null,
): StatusReport {
  const all = histories.flatMap((h) => h.answer?.entries ?? []);
  const lastSuccess = newestSuccess(all);
  const backends = svc.backends.map((b): BackendReport => {
    const st = states.find((s) => s.endpoint === b.agent);
    const h = histories.find((x) => x.endpoint === b.agent);
    const entries = [...(h?.answer?.entries ?? [])].sort((x, y) => x.seq - y.seq);
    const drift: BackendReport['drift'] = [];
    if (!st || st.error !== undefined) {
      drift.push({ kind: 'unknown', detail: `agent ${b.agent} could not be asked${st?.error ? `: ${st.error}` : ''}` });
      return { addr: b.addr, agent: b.agent, drift };
    }
    const running = st.status ? { version: st.status.version, sha256: st.status.sha256, state: st.status.state } : null;
    const put = running
      ? last(
          entries,
          (e) =>
            (e.action === 'install' || e.action === 'rollback') && e.outcome === 'ok' && e.sha256 === running.sha256,
        )
      : undefined;
    if (lastSuccess?.sha256) {
      if (!running) drift.push({ kind: 'missing', detail: `${svc.packageName} is not installed` });
      else if (running.sha256 !== lastSuccess.sha256)
        drift.push({
          kind: 'behind',
          detail: `runs ${running.sha256.slice(0, 12)}, the last successful rollout (${lastSuccess.rolloutId}) installed ${lastSuccess.sha256.slice(0, 12)}`,
        });
    }
    // changes by hand since this agent's part of the last successful rollout ended
    const since = lastSuccess
      ? (last(entries, (e) => e.action === 'release' && e.rolloutId === lastSuccess.rolloutId)?.seq ?? 0)
      : 0;
    const manual = entries.filter(
      (e) => e.seq > since && changes.has(e.action) && e.outcome === 'ok' && (!e.rolloutId || e.forced),
    );
    if (manual.length) {
      const m = manual.at(-1)!;
      drift.push({
        kind: 'manual',
        detail: `${manual.length} change(s) by hand${lastSuccess ? ' since the last successful rollout' : ''}, the latest: ${m.action}${m.forced ? ' (forced)' : ''} by ${m.by ? describeActor(m.by) : `someone (${m.via})`} at ${m.at}`,
      });
    }
    return {
      addr: b.addr,
      agent: b.agent,
      running,
      ...(put
        ? { putThere: { rolloutId: put.rolloutId, by: put.by, at: put.at, action: put.action, forced: put.forced } }
        : {}),
      drift,
    };
  });
  const warnings = histories.flatMap((h) =>
    h.old
      ? [`agent ${h.endpoint} predates history: who changed ${h.backends.join(', ')} is unknown`]
      : h.error
        ? [`agent ${h.endpoint}: history not read: ${h.error}`]
        : [],
  );
  const p = rollout?.progress;
  return {
    package: svc.packageName,
    lastSuccess,
    backends,
    ...(rollout && rollout.state !== 'ended'
      ? {
          rollout: {
            id: rollout.merged.rolloutId,
            state: rollout.state,
            done: p!.rows.filter((r) => r.result === 'done').length,
            total: p!.rows.length,
            holders: rollout.merged.live,
          },
        }
      : {}),
    warnings,
  };
}

function last<T>(xs: readonly T[], f: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i])) return xs[i];
  return undefined;
}

/** the newest rollout given back ESSuccess on any agent (by the agents' clocks) */
function newestSuccess(entries: readonly HistoryEntry[]): StatusReport['lastSuccess'] {
  const ok = entries.filter((e) => e.action === 'release' && e.outcome === 'ESSuccess' && e.rolloutId);
  const last = ok.reduce<HistoryEntry | undefined>((m, e) => (!m || e.at > m.at ? e : m), undefined);
  if (!last) return null;
  return { rolloutId: last.rolloutId!, sha256: last.rolloutSha256 ?? null, at: last.at, by: last.by };
}

/** the report as a table and a few lines (fleet status) */
export function formatStatus(r: StatusReport, svc: LoadedService): string {
  const lines = [
    `package ${r.package}: ${svc.backends.length} backend(s); this service.json's Src is ${svc.sha256.slice(0, 12)}`,
    r.lastSuccess
      ? `last successful rollout: ${r.lastSuccess.rolloutId} at ${r.lastSuccess.at} by ${r.lastSuccess.by ? describeActor(r.lastSuccess.by) : 'someone'}, installing ${r.lastSuccess.sha256?.slice(0, 12) ?? '?'}`
      : 'last successful rollout: none recorded on these agents',
  ];
  if (r.rollout) {
    const h = r.rollout.holders[0];
    lines.push(
      `rollout ${r.rollout.id}: ${r.rollout.state}, ${r.rollout.done}/${r.rollout.total} upgraded${h ? `, held by ${describeActor(h.holder)} (lease expires in ${h.expiresInSecs} s unless renewed)` : r.rollout.state === 'interrupted' ? ': nobody holds it; fleet rollout --resume continues it' : ''}`,
    );
  }
  lines.push(
    ['BACKEND'.padEnd(21), 'STATE'.padEnd(9), 'SHA256'.padEnd(12), 'PUT THERE BY'.padEnd(44), 'DRIFT'].join('  '),
  );
  for (const b of r.backends) {
    const by = b.putThere
      ? `${b.putThere.rolloutId ? `rollout ${b.putThere.rolloutId}` : b.putThere.forced ? 'forced by hand' : 'by hand'}${b.putThere.by && !b.putThere.rolloutId ? ` (${b.putThere.by.user}@${b.putThere.by.machine})` : ''}`
      : b.running
        ? 'unknown (before history)'
        : '-';
    lines.push(
      [
        b.addr.padEnd(21),
        (b.running === undefined ? '?' : (b.running?.state ?? 'absent')).padEnd(9),
        (b.running?.sha256.slice(0, 12) ?? '-').padEnd(12),
        by.padEnd(44),
        b.drift.length ? b.drift.map((d) => `${d.kind}: ${d.detail}`).join('; ') : 'none',
      ].join('  '),
    );
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
