// The agent's records of who changes its packages: leases (leases.ts), the latest rollout's progress
// (rolloutRecords.ts) and each package's history (history.ts), and their routes. Every package
// change (install, start, stop, restart, rollback, remove) passes `change`: on a package another
// controller holds it is refused (423, the holder named, the refusal recorded) unless it carries
// that lease or is forced (X-Fleet-Force, recorded with its reason); then it runs, and its outcome
// is recorded. The check and the start of the operation happen in one synchronous step.
import type { Request, Response, Router } from 'express';
import express from 'express';
import { packageNameProblem } from '../core/protocol/agent';
import {
  actorHeader,
  actorSchema,
  describeLease,
  forceHeader,
  leaseHeader,
  leaseHeldStatus,
  leaseRequestSchema,
  releaseOutcomes,
  rolloutEventsSchema,
  safeText,
  type Actor,
  type HistoryAction,
  type HistoryOutcome,
} from '../core/protocol/agentRecords';
import type { DataDir } from './dataDir';
import { HistoryStore, type NewHistoryEntry } from './history';
import { HttpError } from './httpError';
import { LeaseStore } from './leases';
import type { Packages } from './packages';
import { RolloutRecords } from './rolloutRecords';

export type ChangeAction = Extract<HistoryAction, 'install' | 'start' | 'stop' | 'restart' | 'rollback' | 'remove'>;

interface Context {
  rolloutId: string | null;
  /** lease, release, break: the package the rollout installs */
  rolloutSha256?: string;
  by: Actor | null;
  via: string;
  forced: boolean;
  detail?: string;
}

export class Ledger {
  readonly leases: LeaseStore;
  readonly history: HistoryStore;
  readonly rollouts: RolloutRecords;

  constructor(
    data: DataDir,
    private readonly packages: Packages,
  ) {
    this.leases = new LeaseStore(data.leasesFile);
    const keep = (name: string) => packages.has(name) || this.leases.get(name) !== null;
    this.history = new HistoryStore(data.historyDir, keep);
    this.rollouts = new RolloutRecords(data.rolloutsDir, keep);
  }

  get problems(): string[] {
    return this.leases.problems;
  }

  /**
   * Runs a change of package `name` under its lease rules and records it. `op` must start its
   * work synchronously (Packages' operations take the name's lock before their first await).
   */
  async change<T>(req: Request, name: string, action: ChangeAction, op: () => Promise<T>): Promise<T> {
    const ctx = this.gate(req, name, action);
    let result: T;
    try {
      result = await op();
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      // nothing happened to anything: no such package, or another operation runs on it
      if (status !== 404 && status !== 409)
        this.record(name, action, 'failed', ctx, `${ctx.detail ? `${ctx.detail}; ` : ''}${(e as Error).message}`);
      throw e;
    }
    this.record(name, action, 'ok', ctx, ctx.detail ?? noteOf(result));
    return result;
  }

  private gate(req: Request, name: string, action: ChangeAction): Context {
    const by = actorOf(req);
    const via = viaOf(req);
    const given = leaseIdOf(req);
    const force = forceOf(req);
    const lease = this.leases.get(name);
    if (lease && given === lease.leaseId)
      return { rolloutId: lease.rolloutId, by: by ?? lease.holder, via, forced: false };
    const live = this.leases.live(name);
    if (!live) return { rolloutId: null, by, via, forced: false };
    const view = this.leases.toView(live);
    if (force !== undefined)
      return {
        rolloutId: null,
        by,
        via,
        forced: true,
        detail: `forced (${force || 'no reason given'}) while held by ${describeLease(view)}`,
      };
    this.record(name, action, 'refused', { rolloutId: null, by, via, forced: false }, `held by ${describeLease(view)}`);
    closeAfter(req);
    throw new HttpError(
      leaseHeldStatus,
      `package ${name} is held by ${describeLease(view)}; ${action} would race that rollout: wait for it, or force the change (recorded in the package's history)`,
      { lease: view },
    );
  }

  private record(name: string, action: HistoryAction, outcome: HistoryOutcome, ctx: Context, detail?: string): void {
    const st = this.packages.has(name) ? this.packages.status(name) : null;
    const e: NewHistoryEntry = {
      action,
      outcome,
      version: st?.version ?? null,
      sha256: st?.sha256 ?? null,
      rolloutId: ctx.rolloutId,
      ...(ctx.rolloutSha256 ? { rolloutSha256: ctx.rolloutSha256 } : {}),
      by: ctx.by,
      via: ctx.via,
      forced: ctx.forced,
      ...(detail ? { detail: clip(detail) } : {}),
    };
    this.history.append(name, e);
  }

  /** the routes of leases, rollout records and history (JSON bodies of bounded size) */
  routes(): Router {
    const r = express.Router();
    r.param('name', (_req, _res, next, name: string) => {
      const problem = packageNameProblem(name);
      next(problem ? new HttpError(400, problem) : undefined);
    });
    const small = express.json({ limit: '64kb' });
    const events = express.json({ limit: '1mb' });

    r.get('/api/v1/packages/:name/lease', (req, res) => {
      res.json({ lease: this.leases.view(req.params.name as string) });
    });
    r.post('/api/v1/packages/:name/lease', small, (req, res) => {
      const name = req.params.name as string;
      const body = parse(leaseRequestSchema, req.body, 'lease request');
      const ctx = {
        rolloutId: body.rolloutId,
        rolloutSha256: body.sha256,
        by: body.holder,
        via: viaOf(req),
        forced: false,
      };
      let grant;
      try {
        grant = this.leases.take(name, body);
      } catch (e) {
        if (e instanceof HttpError && e.status === leaseHeldStatus)
          this.record(name, 'lease', 'refused', ctx, e.message);
        throw e;
      }
      if (!grant.again)
        this.record(
          name,
          'lease',
          'ok',
          ctx,
          grant.tookOver
            ? `took over the expired lease of ${describeLease(grant.tookOver)}`
            : `for ${body.ttlSecs} s, renewed while the rollout runs`,
        );
      res.json({ lease: grant.lease, tookOver: grant.tookOver });
    });
    r.put('/api/v1/packages/:name/lease', (req, res) => {
      res.json({ lease: this.leases.renew(req.params.name as string, needLeaseId(req)) });
    });
    r.delete('/api/v1/packages/:name/lease', (req, res) => {
      const name = req.params.name as string;
      const given = leaseIdOf(req);
      const force = forceOf(req);
      if (given === undefined && force === undefined)
        throw new HttpError(
          400,
          `give the lease (${leaseHeader}) to release it, or ${forceHeader}: REASON to break it`,
        );
      const outcome = req.query.outcome === undefined ? 'Aborted' : String(req.query.outcome);
      if (!(releaseOutcomes as readonly string[]).includes(outcome))
        throw new HttpError(400, `outcome must be one of ${releaseOutcomes.join(', ')}`);
      const l = this.leases.release(name, given);
      const ctx = {
        rolloutId: l.rolloutId,
        rolloutSha256: l.sha256,
        by: actorOf(req) ?? (given ? l.holder : null),
        via: viaOf(req),
        forced: !given,
      };
      if (given)
        this.record(name, 'release', outcome as HistoryOutcome, ctx, `rollout ${l.rolloutId} ended ${outcome}`);
      else
        this.record(
          name,
          'break',
          'ok',
          ctx,
          `broke the lease of ${describeLease(this.leases.toView(l))}: ${force || 'no reason given'}`,
        );
      res.status(204).end();
    });

    r.get('/api/v1/packages/:name/rollout', (req, res) => {
      res.json({ record: this.rollouts.read(req.params.name as string) });
    });
    r.post('/api/v1/packages/:name/rollout', events, (req, res) => {
      const name = req.params.name as string;
      const body = parse(rolloutEventsSchema, req.body, 'rollout events');
      const lease = this.leases.get(name);
      const id = needLeaseId(req);
      if (!lease || lease.leaseId !== id)
        throw new HttpError(
          409,
          `package ${name} is not held by this lease any more; only the lease holder records progress`,
          {
            lease: lease ? this.leases.toView(lease) : null,
          },
        );
      if (lease.rolloutId !== body.rolloutId)
        throw new HttpError(400, `the lease is for rollout ${lease.rolloutId}, the events are of ${body.rolloutId}`);
      res.json(this.rollouts.append(name, body));
    });

    r.get('/api/v1/packages/:name/history', (req, res) => {
      const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 10_000))
        throw new HttpError(400, 'limit must be a whole number from 1 to 10000');
      res.json(this.history.read(req.params.name as string, limit));
    });
    return r;
  }
}

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  v: unknown,
  what: string,
): T {
  const r = schema.safeParse(v);
  if (!r.success)
    throw new HttpError(
      400,
      `${what}: ${r.error.issues[0].path.map(String).join('.') || 'body'}: ${r.error.issues[0].message}`,
    );
  return r.data;
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function leaseIdOf(req: Request): string | undefined {
  const v = header(req, leaseHeader);
  if (v === undefined) return undefined;
  if (!/^[0-9a-f]{32}$/.test(v)) throw new HttpError(400, `${leaseHeader}: expected the lease's 32 hex digits`);
  return v;
}

function needLeaseId(req: Request): string {
  const id = leaseIdOf(req);
  if (id === undefined) throw new HttpError(400, `missing ${leaseHeader} header: the lease this is done under`);
  return id;
}

const forceText = safeText(200);
function forceOf(req: Request): string | undefined {
  const v = header(req, forceHeader);
  if (v === undefined) return undefined;
  const r = forceText.safeParse(v.trim());
  if (!r.success) throw new HttpError(400, `${forceHeader}: expected a short printable reason`);
  return r.data === '1' ? '' : r.data;
}

function actorOf(req: Request): Actor | null {
  const v = header(req, actorHeader);
  if (v === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(v);
  } catch {
    throw new HttpError(400, `${actorHeader} header is not JSON`);
  }
  return parse(actorSchema, json, actorHeader);
}

function viaOf(req: Request): string {
  const peer = req.socket.remoteAddress;
  return peer ? `tcp ${peer}`.slice(0, 80) : 'unix';
}

/** what an operation's answer says it did not do (a start of a running package) */
function noteOf(result: unknown): string | undefined {
  const note = (result as { note?: unknown } | undefined)?.note;
  return typeof note === 'string' ? note : undefined;
}

function clip(s: string): string {
  // eslint-disable-next-line no-control-regex -- history is printable text
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return t.length > 1000 ? `${t.slice(0, 997)}...` : t;
}

/** a refused request may still be sending its body (an install's zip): answer, then close */
function closeAfter(req: Request): void {
  const res = req.res as Response | undefined;
  if (!res || req.complete) return;
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroySoon());
}
