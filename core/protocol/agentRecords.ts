// What an agent keeps about the rollouts of its packages, shared by the daemon and its clients: the
// lease a rollout holds on a package, the rollout's progress recorded as it happens, and the
// package's history. Every string here may be printed on someone's terminal after a trip through
// the network, so the schemas refuse control characters and bound every length; the agent checks
// what it is sent with them, and clients check what agents answer with them.
import { z } from 'zod';

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const printable = /^[^\u0000-\u001f\u007f-\u009f]*$/;
/** text a person reads: printable, at most `max` characters */
export const safeText = (max: number) =>
  z.string().max(max).regex(printable, 'expected printable text (no control characters)');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const iso = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/, 'expected an ISO 8601 UTC time');

/** a rollout's id, as workflow.ts makes it (`2026-12-02T10-00-00-000Z-ab12cd`) */
export const rolloutIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/, 'expected a rollout id');

/** which front end acts: a person's terminal, an editor window, a CI job */
export const controllerTools = ['cli', 'editor', 'ci'] as const;
export type ControllerTool = (typeof controllerTools)[number];

/** who asks for a change: what the controller says of itself (the agent cannot check it; see agent/README.md) */
export const actorSchema = z
  .object({
    user: safeText(64).min(1),
    machine: safeText(255).min(1),
    tool: z.enum(controllerTools),
    pid: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31),
    /** the CI job, when a CI system runs the controller */
    ci: z
      .object({ provider: safeText(32).min(1), job: safeText(256).min(1), url: safeText(512).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type Actor = z.output<typeof actorSchema>;

/** `POST /api/v1/packages/NAME/lease`: a rollout asks for the package on this agent */
export const leaseRequestSchema = z
  .object({
    /** made by the holder: a take repeated with the same id (an answer lost on the way) is granted again */
    leaseId: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits'),
    holder: actorSchema,
    rolloutId: rolloutIdSchema,
    /** the service.json the rollout runs: its path on the controller and the sha256 of its settings */
    service: z.object({ path: safeText(1024).min(1), sha256 }).strict(),
    /** the package the rollout installs */
    sha256,
    /** how long the lease lasts without a renewal (the agent's clock) */
    ttlSecs: z.number().min(2).max(3600),
  })
  .strict();
export type LeaseRequest = z.output<typeof leaseRequestSchema>;

/** a lease as an agent shows it (never its id: that stays with the holder) */
export const leaseViewSchema = z.object({
  package: safeText(64),
  holder: actorSchema,
  rolloutId: rolloutIdSchema,
  service: z.object({ path: safeText(1024), sha256 }),
  sha256,
  ttlSecs: z.number(),
  since: iso,
  renewedAt: iso,
  expiresAt: iso,
  /** by the agent's clock: 0 once expired (clients never compare their clock with the agent's) */
  expiresInSecs: z.number().min(0),
  expired: z.boolean(),
});
export type LeaseView = z.output<typeof leaseViewSchema>;

/** the answer to a granted take */
export const leaseGrantSchema = z.object({
  lease: leaseViewSchema,
  /** the expired lease this one replaced */
  tookOver: leaseViewSchema.nullable(),
});
export type LeaseGrant = z.output<typeof leaseGrantSchema>;

/** the header naming the lease a change is made under */
export const leaseHeader = 'x-fleet-lease';
/** the header saying who asks (JSON of an Actor) */
export const actorHeader = 'x-fleet-actor';
/** the header forcing a change on a package another controller holds (its value: why, recorded) */
export const forceHeader = 'x-fleet-force';
/** the status of a change refused because another controller holds the package */
export const leaseHeldStatus = 423;

export const historyActions = [
  'install',
  'start',
  'stop',
  'restart',
  'rollback',
  'remove',
  /** a rollout took the lease */
  'lease',
  /** a rollout gave it back; the outcome is the rollout's end state */
  'release',
  /** a lease removed by force */
  'break',
] as const;
export type HistoryAction = (typeof historyActions)[number];
export const historyOutcomes = [
  'ok',
  'failed',
  'refused',
  'ESSuccess',
  'ESPreconditionFailure',
  'ESCanaryFailure',
  'ESMaxFailures',
  'Aborted',
  'Paused',
] as const;
export type HistoryOutcome = (typeof historyOutcomes)[number];
/** what a lease's release may say of the rollout that held it */
export const releaseOutcomes = historyOutcomes.filter((o) => o !== 'ok' && o !== 'failed' && o !== 'refused');

/** one line of a package's history on one agent (its clock, its order) */
export const historyEntrySchema = z.object({
  seq: z.number().int().min(1),
  at: iso,
  action: z.enum(historyActions),
  outcome: z.enum(historyOutcomes),
  /** the version and package the backend has after it (null: nothing installed) */
  version: safeText(128).nullable(),
  sha256: sha256.nullable(),
  rolloutId: rolloutIdSchema.nullable(),
  /** lease, release and break: the package that rollout installs */
  rolloutSha256: sha256.optional(),
  /** who asked: the actor header, else the lease's holder; null for a client that says nothing */
  by: actorSchema.nullable(),
  /** how the request came: `unix` (the socket: local or over SSH) or `tcp PEER` */
  via: safeText(80),
  /** a change made on a package another controller held */
  forced: z.boolean(),
  detail: safeText(1000).optional(),
});
export type HistoryEntry = z.output<typeof historyEntrySchema>;

/** `GET /api/v1/packages/NAME/history` */
export const historyAnswerSchema = z.object({
  package: safeText(64),
  entries: z.array(historyEntrySchema).max(10_000),
  /** entries older than these were pruned (the history is bounded) */
  pruned: z.number().int().min(0),
});
export type HistoryAnswer = z.output<typeof historyAnswerSchema>;

/**
 * A journal event as an agent stores it: opaque to the agent beyond its envelope (a known kind, a
 * time, the backend it concerns), at most 16 KiB of JSON. Clients check each kind in full
 * (core/rollout/journalSchema.ts) when they read it back.
 */
export const eventEnvelopeSchema = z
  .object({
    t: z.enum([
      'plan',
      'resume',
      'step',
      'backend',
      'finalize',
      'note',
      'soak',
      'found',
      'analysis',
      'paused',
      'end',
      'lease',
    ]),
    at: iso,
    backend: safeText(300).optional(),
  })
  .passthrough()
  .refine((e) => JSON.stringify(e).length <= 16 * 1024, 'an event is at most 16 KiB of JSON');

export const recordedEventSchema = z.object({
  seq: z
    .number()
    .int()
    .min(1)
    .max(2 ** 40),
  event: eventEnvelopeSchema,
});

/** `POST /api/v1/packages/NAME/rollout`: the lease holder appends its rollout's events */
export const rolloutEventsSchema = z
  .object({
    rolloutId: rolloutIdSchema,
    service: z.object({ path: safeText(1024).min(1), sha256 }).strict(),
    sha256,
    events: z.array(recordedEventSchema).min(1).max(500),
  })
  .strict();
export type RolloutEvents = z.output<typeof rolloutEventsSchema>;

/** `GET /api/v1/packages/NAME/rollout`: the package's latest rollout as this agent saw it */
export const rolloutRecordSchema = z.object({
  package: safeText(64),
  rolloutId: rolloutIdSchema,
  service: z.object({ path: safeText(1024), sha256 }),
  sha256,
  updatedAt: iso,
  events: z.array(z.object({ seq: z.number().int().min(1), event: z.unknown() })).max(5000),
});
export type RolloutRecord = z.output<typeof rolloutRecordSchema>;

/** the agent's bounds, named once (agent/README.md lists them) */
export const recordLimits = {
  /** history entries kept per package (the oldest pruned beyond) */
  historyEntries: 1000,
  /** events of one rollout kept per package on one agent */
  rolloutEvents: 5000,
  /** packages with a lease at once */
  leases: 256,
  /** packages with a history or a rollout record (those neither installed nor leased pruned first) */
  recordFiles: 1024,
} as const;

/** `alice@laptop (fleet CLI, pid 4242)`, `github job org/repo run 7 (alice@runner-3, pid 12)` */
export function describeActor(a: Actor): string {
  if (a.ci) return `${a.ci.provider} job ${a.ci.job} (${a.user}@${a.machine}, pid ${a.pid})`;
  return `${a.user}@${a.machine} (${a.tool === 'editor' ? 'an editor' : 'the fleet CLI'}, pid ${a.pid})`;
}

/** the holder, its rollout and how long the lease lasts, by the agent's clock */
export function describeLease(l: LeaseView): string {
  return `${describeActor(l.holder)}, rollout ${l.rolloutId} of ${l.service.path}, since ${l.since}, ${l.expired ? `expired at ${l.expiresAt}` : `expires in ${l.expiresInSecs} s unless renewed`}`;
}
