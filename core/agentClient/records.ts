// What a client makes of an agent's answers about leases, rollout records and history: each answer
// checked against its schema (core/protocol/agentRecords.ts) before anything of it is used or
// printed, and each refusal typed: the package is held by another controller (LeaseHeldError, with
// the holder), the lease this controller held is gone (LeaseLostError), the agent predates these
// routes (AgentTooOldError).
import type { z } from 'zod';
import { FleetError } from '../errors';
import { describeLease, leaseViewSchema, type LeaseView } from '../protocol/agentRecords';

/** an agent answered something that is not what the protocol says */
export class MalformedAnswerError extends FleetError {
  constructor(
    readonly endpoint: string,
    what: string,
    problem: string,
  ) {
    super(`agent ${endpoint}: its ${what} is malformed (${problem}); is it a Fleet agent of this version?`);
  }
}

/** an agent from before leases, rollout records and history (Fleet 0.1): upgrade it with fleet agent deploy */
export class AgentTooOldError extends FleetError {
  constructor(
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(
      `agent ${endpoint} predates leases and rollout records (no such route); upgrade it with fleet agent deploy`,
      options,
    );
  }
}

/** another controller holds the package on this agent (its lease has not expired) */
export class LeaseHeldError extends FleetError {
  readonly lease: LeaseView | null;
  constructor(
    readonly endpoint: string,
    body: unknown,
  ) {
    const lease = leaseIn(body);
    super(
      `agent ${endpoint}: the package is held by ${lease ? describeLease(lease) : 'another controller (the agent did not say who)'}`,
    );
    this.lease = lease;
  }
}

/** the lease this controller held is gone: another rollout took the package over, or it was broken */
export class LeaseLostError extends FleetError {
  readonly lease: LeaseView | null;
  constructor(
    readonly endpoint: string,
    body: unknown,
  ) {
    const lease = leaseIn(body);
    super(
      `agent ${endpoint}: this rollout's lease is gone: ${lease ? `the package is now held by ${describeLease(lease)}` : 'it was released or broken'}`,
    );
    this.lease = lease;
  }
}

function leaseIn(body: unknown): LeaseView | null {
  const r = leaseViewSchema.safeParse((body as { lease?: unknown } | null | undefined)?.lease);
  return r.success ? r.data : null;
}

/** `value` checked against `schema`, or MalformedAnswerError naming the field */
export function checkAnswer<S extends z.ZodType>(
  endpoint: string,
  what: string,
  schema: S,
  value: unknown,
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new MalformedAnswerError(endpoint, what, `${i.path.map(String).join('.') || 'the answer'}: ${i.message}`);
}
