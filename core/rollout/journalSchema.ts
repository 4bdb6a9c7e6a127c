// A journal event read back from an agent (another controller wrote it, the network carried it):
// checked kind by kind before the one reducer (progress.ts) folds it, so an event that is not what
// the journal writes is dropped and named, never folded into a resume. Text fields are printable
// and bounded: they end up in a table on someone's terminal.
import { z } from 'zod';
import { safeText } from '../protocol/agentRecords';
import { endStates, stepNames } from './constants';
import type { JournalEvent } from './journal';

const at = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
const seq = z
  .number()
  .int()
  .min(1)
  .max(2 ** 40);
const addr = safeText(300).min(1);
const text = safeText(4000);
const sha = z.string().regex(/^[0-9a-f]{64}$/);
const step = z.enum(stepNames);
const count = z.number().int().min(0).max(1e7);
const window = z.object({
  requests: z.number().min(0),
  errors: z.number().min(0),
  errorRate: z.number().min(0).max(1).nullable(),
  latencyMs: z.number().min(0).nullable(),
  latencyKind: z.enum(['p95', 'mean']),
});

const kinds = [
  z.object({
    t: z.literal('plan'),
    id: safeText(80).min(1),
    file: safeText(1024),
    sha256: sha,
    canaries: z.array(addr).max(10_000),
    rest: z.array(addr).max(10_000),
    concurrency: count,
    maxFailures: count,
    maxUnavailable: count.optional(),
  }),
  z.object({ t: z.literal('resume') }),
  z.object({
    t: z.literal('step'),
    backend: addr,
    step,
    phase: z.enum(['start', 'done', 'failed']),
    attempt: z.number().int().min(1).max(1000),
    next: z.union([step, z.literal('done')]).optional(),
    error: text.optional(),
  }),
  z.object({ t: z.literal('backend'), backend: addr, result: z.enum(['done', 'failed']), error: text.optional() }),
  z.object({
    t: z.literal('finalize'),
    backend: addr,
    outcome: z.enum(['readded', 'leftOut', 'rolledBack', 'error']),
    detail: text,
  }),
  z.object({ t: z.literal('note'), backend: addr, text }),
  z.object({ t: z.literal('soak'), backend: addr, phase: z.enum(['start', 'done']), secs: z.number().min(0) }),
  z.object({
    t: z.literal('found'),
    backend: addr,
    sha256: sha.nullable(),
    version: safeText(128).optional(),
    installedAt: safeText(64).optional(),
  }),
  z.object({
    t: z.literal('analysis'),
    backend: addr,
    final: z.boolean(),
    verdict: z.enum(['pass', 'fail', 'pending', 'warn']),
    canary: window,
    baseline: window,
    prometheus: z.object({ query: text, value: z.number().nullable() }).optional(),
    reasons: z.array(text).max(50),
  }),
  z.object({ t: z.literal('paused') }),
  z.object({
    t: z.literal('lease'),
    phase: z.enum(['taken', 'released', 'lost']),
    agents: count,
    ttlSecs: z.number().min(0),
    detail: text,
  }),
  z.object({ t: z.literal('end'), state: z.enum(endStates), failures: count, error: text.optional() }),
] as const;

const eventSchema = z.intersection(z.discriminatedUnion('t', kinds), z.object({ at, seq }));

/** the event if it is one the journal writes, with its seq; else why not */
export function checkEvent(v: unknown): { event: JournalEvent } | { problem: string } {
  const r = eventSchema.safeParse(v);
  if (r.success) return { event: r.data as JournalEvent };
  const i = r.error.issues[0];
  return { problem: `${i.path.map(String).join('.') || 'event'}: ${i.message}` };
}
