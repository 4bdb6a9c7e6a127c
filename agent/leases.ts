// The leases of this agent's packages: a rollout holds its package here while it runs, so a second
// controller, or a change by hand, is refused with the holder named. A lease lasts ttlSecs by this
// agent's clock from its last renewal (clients see "expires in N s", never compare clocks); an
// expired lease still names its holder until another rollout takes the package over. Persisted in
// leases.json (written whole, durably): an agent restart keeps every lease. One process, one event
// loop: a take is decided in one synchronous step, so of two controllers asking at once one wins.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  describeLease,
  leaseHeldStatus,
  leaseRequestSchema,
  recordLimits,
  type LeaseRequest,
  type LeaseView,
} from '../core/protocol/agentRecords';
import { packageNamePattern } from '../core/protocol/agent';
import { writeFileDurable } from '../core/durable';
import { HttpError } from './httpError';

interface StoredLease extends LeaseRequest {
  package: string;
  since: number;
  renewedAt: number;
  expiresAt: number;
}

const storedSchema = leaseRequestSchema.extend({
  package: z.string().regex(packageNamePattern),
  since: z.number(),
  renewedAt: z.number(),
  expiresAt: z.number(),
});

export class LeaseStore {
  private leases = new Map<string, StoredLease>();
  /** what loading found wrong, one line each (the agent logs them) */
  readonly problems: string[] = [];

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.load();
  }

  view(name: string): LeaseView | null {
    const l = this.leases.get(name);
    return l ? this.toView(l) : null;
  }

  /** the lease that holds `name` now (not expired), or null */
  live(name: string): StoredLease | null {
    const l = this.leases.get(name);
    return l && l.expiresAt > this.now() ? l : null;
  }

  /** the lease itself (expired or not), for a change made under it */
  get(name: string): StoredLease | null {
    return this.leases.get(name) ?? null;
  }

  /**
   * Grants `req` when nobody holds the package, its lease expired, or it is this same lease again
   * (a take whose answer was lost); else 423 naming the holder.
   */
  take(name: string, req: LeaseRequest): { lease: LeaseView; tookOver: LeaseView | null; again: boolean } {
    const now = this.now();
    const old = this.leases.get(name);
    if (old && old.leaseId !== req.leaseId && old.expiresAt > now)
      throw new HttpError(leaseHeldStatus, `package ${name} is held by ${describeLease(this.toView(old))}`, {
        lease: this.toView(old),
      });
    if (!old && this.leases.size >= recordLimits.leases) this.dropExpired(now);
    if (!old && this.leases.size >= recordLimits.leases)
      throw new HttpError(507, `this agent holds ${recordLimits.leases} live leases already; release some`);
    const again = old?.leaseId === req.leaseId;
    const lease: StoredLease = {
      ...req,
      package: name,
      since: again ? old!.since : now,
      renewedAt: now,
      expiresAt: now + req.ttlSecs * 1000,
    };
    this.save(name, lease);
    return { lease: this.toView(lease), tookOver: old && !again ? this.toView(old) : null, again };
  }

  /** extends the lease `leaseId` (expired or not, as long as nobody took the package over); else 409 */
  renew(name: string, leaseId: string): LeaseView {
    const l = this.mine(name, leaseId);
    const now = this.now();
    const lease = { ...l, renewedAt: now, expiresAt: now + l.ttlSecs * 1000 };
    this.save(name, lease);
    return this.toView(lease);
  }

  /** gives the lease back (its holder) or breaks it (force); returns what it was */
  release(name: string, leaseId: string | undefined): StoredLease {
    const l = leaseId === undefined ? this.leases.get(name) : this.mine(name, leaseId);
    if (!l) throw new HttpError(404, `package ${name} has no lease`);
    this.save(name, undefined);
    return l;
  }

  toView(l: StoredLease): LeaseView {
    const now = this.now();
    return {
      package: l.package,
      holder: l.holder,
      rolloutId: l.rolloutId,
      service: l.service,
      sha256: l.sha256,
      ttlSecs: l.ttlSecs,
      since: new Date(l.since).toISOString(),
      renewedAt: new Date(l.renewedAt).toISOString(),
      expiresAt: new Date(l.expiresAt).toISOString(),
      expiresInSecs: Math.max(0, Math.ceil((l.expiresAt - now) / 1000)),
      expired: l.expiresAt <= now,
    };
  }

  private mine(name: string, leaseId: string): StoredLease {
    const l = this.leases.get(name);
    if (!l) throw new HttpError(409, `package ${name} has no lease any more: it was released or broken`);
    if (l.leaseId !== leaseId)
      throw new HttpError(409, `the lease on package ${name} was taken over by ${describeLease(this.toView(l))}`, {
        lease: this.toView(l),
      });
    return l;
  }

  private dropExpired(now: number): void {
    for (const [name, l] of [...this.leases].sort((a, b) => a[1].expiresAt - b[1].expiresAt))
      if (l.expiresAt <= now && this.leases.size >= recordLimits.leases) this.save(name, undefined);
  }

  private save(name: string, lease: StoredLease | undefined): void {
    const next = new Map(this.leases);
    if (lease) next.set(name, lease);
    else next.delete(name);
    const out: Record<string, StoredLease> = Object.create(null);
    for (const [n, l] of next) out[n] = l;
    writeFileDurable(this.file, JSON.stringify({ version: 1, leases: out }) + '\n');
    this.leases = next;
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let s: { leases?: unknown };
    try {
      s = JSON.parse(text);
    } catch {
      this.problems.push(`${this.file} is not JSON (a damaged write?); starting with no leases`);
      return;
    }
    if (typeof s?.leases !== 'object' || s.leases === null) return;
    for (const [name, rec] of Object.entries(s.leases as Record<string, unknown>)) {
      const r = storedSchema.safeParse(rec);
      if (r.success && r.data.package === name) this.leases.set(name, r.data);
      else this.problems.push(`${this.file}: skipped the lease of ${JSON.stringify(name).slice(0, 80)}: damaged`);
    }
  }
}
