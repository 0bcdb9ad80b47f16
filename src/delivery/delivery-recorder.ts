/**
 * Makes every delivery state change observable in the three places operators look: one structured
 * log line, the `zen_` metrics, and the event trail (`zen trace`). The worker calls one method per
 * change, after the queue accepted it. Trail writes are best-effort: a failing trail store must not
 * undo or block a delivery that already happened, so its errors are logged, not thrown.
 */
import type { DeliveryReason } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { DlqEntry, LeasedJob } from "../ports/queue.ts";
import type { TrailEntry, TrailStore } from "../ports/trail.ts";
import type { DelayReason } from "./guards.ts";

/** How one attempt ended, as the trail's `attempt` entry and the latency metric label it. */
export type AttemptOutcomeLabel = "delivered" | "retry" | "dead_lettered" | "released";

export interface AttemptFacts {
  /** 1-based attempt number. */
  readonly attempt: number;
  readonly statusCode?: number;
  readonly durationMs: number;
}

/** Told about every finished attempt (e.g. the integrations registry's counters and status). */
export type AttemptObserver = (
  job: LeasedJob,
  outcome: AttemptOutcomeLabel,
  facts: AttemptFacts,
  /** `reason: detail` of a failed attempt. */
  error?: string,
) => void;

export interface RecorderDeps {
  readonly trail: TrailStore;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly onAttempt?: AttemptObserver;
}

function jobFields(job: LeasedJob, attempt: number) {
  return {
    tenant: job.tenant,
    source: job.source,
    destination: job.destination,
    eventId: job.eventId,
    jobId: job.id,
    attempt,
  };
}

export class DeliveryRecorder {
  constructor(private readonly deps: RecorderDeps) {}

  delivered(job: LeasedJob, at: number, facts: AttemptFacts): Promise<void> {
    this.observeAttempt(job, "delivered", facts);
    this.deps.metrics.deliveries.inc({
      tenant: job.tenant,
      destination: job.destination,
      outcome: "delivered",
    });
    this.deps.logger.info(
      { ...jobFields(job, facts.attempt), statusCode: facts.statusCode, durationMs: facts.durationMs },
      "delivered",
    );
    return this.append([
      this.attemptEntry(job, at, facts, "delivered", {}),
      {
        ...this.base(job, at, facts.attempt),
        stage: "delivered",
        detail: { statusCode: facts.statusCode ?? null },
      },
    ]);
  }

  retryScheduled(
    job: LeasedJob,
    at: number,
    facts: AttemptFacts,
    retry: { readonly reason: DeliveryReason; readonly nextDelayMs: number; readonly error: string },
  ): Promise<void> {
    this.observeAttempt(job, "retry", facts, `${retry.reason}: ${retry.error}`);
    this.deps.metrics.deliveries.inc({ tenant: job.tenant, destination: job.destination, outcome: "retry" });
    this.deps.metrics.retries.inc({ destination: job.destination, reason: retry.reason });
    this.deps.logger.warn(
      {
        ...jobFields(job, facts.attempt),
        reason: retry.reason,
        nextDelayMs: retry.nextDelayMs,
        statusCode: facts.statusCode,
        durationMs: facts.durationMs,
        error: retry.error,
      },
      "delivery failed, retry scheduled",
    );
    return this.append([
      this.attemptEntry(job, at, facts, "retry", { reason: retry.reason, nextDelayMs: retry.nextDelayMs }),
    ]);
  }

  /** `facts` is absent when no attempt was made (e.g. `destination_unknown`). */
  deadLettered(
    job: LeasedJob,
    at: number,
    facts: AttemptFacts | undefined,
    dead: {
      readonly reason: DeliveryReason;
      readonly failureReason?: DeliveryReason;
      readonly error: string;
    },
  ): Promise<void> {
    const attempt = facts?.attempt ?? job.attempts + 1;
    if (facts)
      this.observeAttempt(job, "dead_lettered", facts, `${dead.failureReason ?? dead.reason}: ${dead.error}`);
    this.deps.metrics.deliveries.inc({
      tenant: job.tenant,
      destination: job.destination,
      outcome: "dead_lettered",
    });
    this.deps.metrics.deadLettered.inc({
      tenant: job.tenant,
      destination: job.destination,
      reason: dead.reason,
    });
    this.deps.logger.error(
      {
        ...jobFields(job, attempt),
        reason: dead.reason,
        failureReason: dead.failureReason,
        statusCode: facts?.statusCode,
        durationMs: facts?.durationMs,
        error: dead.error,
      },
      "delivery dead-lettered",
    );
    const entries: TrailEntry[] = [];
    if (facts) {
      entries.push(
        this.attemptEntry(job, at, facts, "dead_lettered", { reason: dead.failureReason ?? dead.reason }),
      );
    }
    entries.push({
      ...this.base(job, at, attempt),
      stage: "dead_lettered",
      detail: { reason: dead.reason, error: dead.error },
    });
    return this.append(entries);
  }

  /** A job the queue moved to the DLQ at lease time because its lease kept expiring. */
  quarantined(entry: DlqEntry, at: number): Promise<void> {
    this.deps.metrics.deliveries.inc({
      tenant: entry.tenant,
      destination: entry.destination,
      outcome: "dead_lettered",
    });
    this.deps.metrics.deadLettered.inc({
      tenant: entry.tenant,
      destination: entry.destination,
      reason: entry.reason,
    });
    this.deps.logger.error(
      {
        tenant: entry.tenant,
        source: entry.source,
        destination: entry.destination,
        eventId: entry.eventId,
        jobId: entry.id,
        attempt: entry.attempts,
        reason: entry.reason,
        error: entry.lastError,
      },
      "delivery quarantined: its lease kept expiring",
    );
    return this.append([
      {
        tenant: entry.tenant,
        eventId: entry.eventId,
        at,
        stage: "quarantined",
        destination: entry.destination,
        attempt: entry.attempts,
        detail: { reason: entry.reason, error: entry.lastError },
      },
    ]);
  }

  /** An attempt interrupted by shutdown; the job went back to the queue uncharged. */
  released(job: LeasedJob, at: number, facts: AttemptFacts): Promise<void> {
    this.observeAttempt(job, "released", facts);
    this.deps.metrics.deliveries.inc({
      tenant: job.tenant,
      destination: job.destination,
      outcome: "released",
    });
    this.deps.logger.info(
      { ...jobFields(job, facts.attempt), durationMs: facts.durationMs, reason: "shutdown" },
      "delivery released on shutdown",
    );
    return this.append([this.attemptEntry(job, at, facts, "released", { reason: "shutdown" })]);
  }

  /**
   * A guard postponed the job before any attempt (open breaker, empty bucket), or the attempt was
   * deferred (`lock_busy`): not a failure, no attempt charged. Logged at debug: under a long throttle this happens once per job per refill.
   */
  delayed(
    job: LeasedJob,
    at: number,
    delay: { readonly reason: DelayReason; readonly delayMs: number },
  ): Promise<void> {
    this.deps.metrics.deliveryDelays.inc({
      tenant: job.tenant,
      destination: job.destination,
      reason: delay.reason,
    });
    this.deps.logger.debug(
      { ...jobFields(job, job.attempts + 1), reason: delay.reason, nextDelayMs: delay.delayMs },
      "delivery delayed",
    );
    return this.append([
      {
        ...this.base(job, at, job.attempts + 1),
        stage: "delayed",
        detail: { reason: delay.reason, nextDelayMs: delay.delayMs },
      },
    ]);
  }

  /** The queue refused an operation: the lease expired and another worker owns the job now. */
  leaseLost(job: LeasedJob, attempt: number, operation: string): void {
    this.deps.logger.warn(
      { ...jobFields(job, attempt), operation },
      "lease lost: another worker owns the job",
    );
  }

  private observeAttempt(
    job: LeasedJob,
    outcome: AttemptOutcomeLabel,
    facts: AttemptFacts,
    error?: string,
  ): void {
    this.deps.metrics.attemptLatency.observe(
      { destination: job.destination, outcome },
      facts.durationMs / 1000,
    );
    this.deps.onAttempt?.(job, outcome, facts, error);
  }

  private base(job: LeasedJob, at: number, attempt: number) {
    return { tenant: job.tenant, eventId: job.eventId, at, destination: job.destination, attempt };
  }

  private attemptEntry(
    job: LeasedJob,
    at: number,
    facts: AttemptFacts,
    outcome: AttemptOutcomeLabel,
    extra: { readonly reason?: string; readonly nextDelayMs?: number },
  ): TrailEntry {
    return {
      ...this.base(job, at, facts.attempt),
      stage: "attempt",
      detail: {
        outcome,
        statusCode: facts.statusCode ?? null,
        durationMs: facts.durationMs,
        ...(extra.reason === undefined ? {} : { reason: extra.reason }),
        ...(extra.nextDelayMs === undefined ? {} : { nextDelayMs: extra.nextDelayMs }),
      },
    };
  }

  private async append(entries: readonly TrailEntry[]): Promise<void> {
    try {
      await this.deps.trail.append(entries);
    } catch (err) {
      this.deps.logger.warn(
        { err, tenant: entries[0]?.tenant, eventId: entries[0]?.eventId },
        "trail write failed; delivery state is unaffected",
      );
    }
  }
}
