/** Builders shared by the conformance suites: events and submissions with realistic keys. */
import type { ZenEvent } from "../../src/domain/event.ts";
import { deliveryIdempotencyKey } from "../../src/domain/idempotency.ts";
import type { Submission } from "../../src/ports/queue.ts";
import type { TrailEntry } from "../../src/ports/trail.ts";

/** Dedupe window used unless a test says otherwise: one hour. */
export const defaultDedupeTtlMs = 60 * 60 * 1000;

export interface SubmissionSpec {
  readonly tenant?: string;
  readonly source?: string;
  readonly eventId: string;
  readonly destinations?: readonly string[];
  readonly dedupeTtlMs?: number;
  readonly data?: unknown;
  readonly trail?: readonly TrailEntry[];
}

export function makeEvent(spec: SubmissionSpec, receivedAtMs: number): ZenEvent {
  return {
    id: spec.eventId,
    tenant: spec.tenant ?? "acme",
    source: spec.source ?? "gh",
    type: "push",
    severity: "high",
    resource: { kind: "Pod", name: "api-0", namespace: "prod" },
    data: spec.data ?? { ref: "refs/heads/main", nested: { list: [1, "two", null, true] } },
    headers: { "x-github-event": "push" },
    receivedAt: new Date(receivedAtMs).toISOString(),
  };
}

/** A submission fanning `spec.eventId` out to `spec.destinations` (default: one, `hook`). */
export function makeSubmission(spec: SubmissionSpec, receivedAtMs: number): Submission {
  const event = makeEvent(spec, receivedAtMs);
  return {
    event,
    dedupeTtlMs: spec.dedupeTtlMs ?? defaultDedupeTtlMs,
    deliveries: (spec.destinations ?? ["hook"]).map((destination) => ({
      destination,
      idempotencyKey: deliveryIdempotencyKey(event.tenant, destination, event.id),
    })),
    ...(spec.trail ? { trail: spec.trail } : {}),
  };
}
