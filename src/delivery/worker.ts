/**
 * The delivery worker: lease due jobs, send each to its destination, and turn the outcome into the
 * next queue state (complete, reschedule, dead-letter, or release on shutdown). Retry decisions live
 * in decide.ts, observability in delivery-recorder.ts; this file is the loop and its lifecycle.
 *
 * Leases are not extended while a send runs (the Queue port has no renewal), so the invariant is:
 * `leaseMs >= attemptDeadlineMs + leaseMarginMs`. The constructor enforces it, and every send gets a
 * signal that fires at `attemptDeadlineMs`. A job whose worker dies mid-send is leased again after
 * `leaseMs` (at-least-once; the idempotency key lets receivers dedupe).
 */
import type { Config } from "../config/config.ts";
import { attemptSignal } from "../destinations/attempt-signal.ts";
import type { DestinationLookup } from "../destinations/destination.ts";
import { isOwnRefusal } from "../domain/circuit-breaker.ts";
import { classifyNetworkError, type DeliveryFailure } from "../domain/classify.ts";
import { DeferredError } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { LeasedJob, Queue } from "../ports/queue.ts";
import type { TrailStore } from "../ports/trail.ts";
import { decideAfterFailure } from "./decide.ts";
import { type AttemptFacts, type AttemptObserver, DeliveryRecorder } from "./delivery-recorder.ts";
import type { DelayReason, DeliveryGuards, GuardVerdict } from "./guards.ts";

/** The `Config.queue` subset the worker needs (units and defaults are documented there). */
export type DeliveryWorkerPolicy = Pick<
  Config["queue"],
  "retry" | "maxRetryAfterMs" | "leaseMs" | "maxLeases" | "concurrency" | "pollIntervalMs"
>;

/** Timer functions, injectable so tests control them. */
export interface WorkerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: WorkerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Hard limit of one send, ms: the webhook egress deadline; other destinations get the same backstop. */
export const defaultAttemptDeadlineMs = 30_000;
/** Time a lease must leave after the attempt deadline to record the outcome (queue write, trail). */
export const leaseMarginMs = 5_000;

/** How long a job waits when a delivery guard itself failed (e.g. a rate-limit store outage). */
export const guardErrorDelayMs = 1_000;
/** Smallest timer delay: a job due "now" that lease() did not return must not spin the loop. */
const minWakeDelayMs = 10;

export interface DeliveryWorkerOptions {
  readonly queue: Queue;
  readonly trail: TrailStore;
  readonly destinations: DestinationLookup;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly policy: DeliveryWorkerPolicy;
  /** Default: the system clock. Decides `runAt` of retries and trail times. */
  readonly clock?: Clock;
  /** Default `Math.random`; returns [0, 1). Jitter source. */
  readonly random?: () => number;
  /** Default: global setTimeout/clearTimeout. Used by `start()` scheduling and `stop()` grace. */
  readonly timers?: WorkerTimers;
  /** Default `defaultAttemptDeadlineMs` (30 s). */
  readonly attemptDeadlineMs?: number;
  /** Called after every finished attempt (integration counters). */
  readonly onAttempt?: AttemptObserver;
  /** Breakers and rate limits asked before each send; absent: every job is sent at once. */
  readonly guards?: DeliveryGuards;
}

export interface StopResult {
  /** In-flight jobs aborted after the grace period and given back to the queue uncharged. */
  readonly released: number;
}

export class DeliveryWorker {
  private readonly queue: Queue;
  private readonly destinations: DestinationLookup;
  private readonly guards: DeliveryGuards | undefined;
  private readonly policy: DeliveryWorkerPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly timers: WorkerTimers;
  private readonly logger: Logger;
  private readonly attemptDeadlineMs: number;
  private readonly recorder: DeliveryRecorder;
  /** Aborted when the grace period of `stop()` runs out: in-flight sends give up and are released. */
  private readonly shutdown = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pendingLeases = new Set<Promise<readonly LeasedJob[]>>();
  private running = false;
  private stopping = false;
  private stopped: Promise<StopResult> | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private timer: unknown;
  private unsubscribe: (() => void) | undefined;
  private releasedCount = 0;

  /** @throws RangeError when `policy.leaseMs` cannot cover an attempt (see the module header). */
  constructor(options: DeliveryWorkerOptions) {
    this.queue = options.queue;
    this.destinations = options.destinations;
    this.guards = options.guards;
    this.policy = options.policy;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger;
    this.attemptDeadlineMs = options.attemptDeadlineMs ?? defaultAttemptDeadlineMs;
    if (this.policy.leaseMs < this.attemptDeadlineMs + leaseMarginMs) {
      throw new RangeError(
        `queue.leaseMs (${this.policy.leaseMs}) must be at least the attempt deadline (${this.attemptDeadlineMs} ms) + ${leaseMarginMs} ms, or a slow send would be leased twice`,
      );
    }
    if (!Number.isInteger(this.policy.concurrency) || this.policy.concurrency < 1) {
      throw new RangeError(`queue.concurrency must be a positive integer, got ${this.policy.concurrency}`);
    }
    this.recorder = new DeliveryRecorder({
      trail: options.trail,
      metrics: options.metrics,
      logger: options.logger,
      onAttempt: options.onAttempt,
    });
  }

  /** True between `start()` and `stop()`: readiness reports it. */
  get isRunning(): boolean {
    return this.running && !this.stopping;
  }

  /** Sends in flight now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Leases up to `concurrency − in flight` due jobs and processes them, resolving when all of them
   * have reached their next state. No timers, no sleeps: tests drive it with a FakeClock.
   * @returns how many jobs were processed (quarantined poison pills are recorded, not counted). 0 once stopping.
   */
  async runOnce(): Promise<number> {
    if (this.stopping) return 0;
    const jobs = await this.leaseBatch();
    await Promise.all(jobs.map((job) => this.launch(job)));
    return jobs.length;
  }

  /**
   * Starts the loop: it wakes on `queue.onEnqueued`, on a timer at `queue.nextWakeAt()` (at most
   * `pollIntervalMs` away) and whenever a send finishes. Idempotent.
   */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.unsubscribe = this.queue.onEnqueued(() => this.wake());
    this.logger.info({ concurrency: this.policy.concurrency }, "delivery worker started");
    this.wake();
  }

  /**
   * Graceful shutdown: stop leasing, let in-flight sends finish for up to `graceMs`, then abort the
   * rest and `release` their jobs (uncharged, leased again at once by any worker). Idempotent: later
   * calls return the first call's result. Resolves when no send is in flight. A stopped worker does
   * not start again.
   */
  stop(options: { readonly graceMs: number }): Promise<StopResult> {
    this.stopped ??= this.drain(options.graceMs);
    return this.stopped;
  }

  private async drain(graceMs: number): Promise<StopResult> {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.clearTimer();
    // Lease calls already running give their jobs back (see leaseAndRecord); wait for them and the pump.
    await Promise.allSettled([...this.pendingLeases]);
    await this.pumping;
    const inFlightAtStop = this.inFlight.size;
    if (this.inFlight.size > 0) {
      let graceTimer: unknown;
      const graceOver = new Promise<"grace_over">((resolve) => {
        graceTimer = this.timers.setTimeout(() => resolve("grace_over"), Math.max(0, graceMs));
      });
      const result = await Promise.race([Promise.allSettled([...this.inFlight]), graceOver]);
      this.timers.clearTimeout(graceTimer);
      if (result === "grace_over") this.shutdown.abort();
      await Promise.allSettled([...this.inFlight]);
    }
    this.running = false;
    this.logger.info({ inFlightAtStop, released: this.releasedCount }, "delivery worker stopped");
    return { released: this.releasedCount };
  }

  private wake(): void {
    if (!this.running || this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  /** Leases until the queue has no due job or all slots are busy, then arms the timer. Never throws. */
  private async pump(): Promise<void> {
    this.clearTimer();
    try {
      while (!this.stopping) {
        const capacity = this.policy.concurrency - this.inFlight.size;
        // Full: a finishing send wakes us. No timer, or a due job would spin it.
        if (capacity <= 0) return;
        const jobs = await this.leaseBatch();
        for (const job of jobs) void this.launch(job);
        if (jobs.length < capacity) break;
      }
      await this.armTimer();
    } catch (err) {
      this.logger.error({ err }, "lease failed; retrying after the poll interval");
      this.setTimer(this.policy.pollIntervalMs);
    }
  }

  private async armTimer(): Promise<void> {
    if (this.stopping || this.inFlight.size >= this.policy.concurrency) return;
    const next = await this.queue.nextWakeAt();
    const untilNext = next === undefined ? this.policy.pollIntervalMs : next - this.clock.now();
    this.setTimer(Math.min(Math.max(untilNext, minWakeDelayMs), this.policy.pollIntervalMs));
  }

  /** Puts the job back for `delayMs` without charging an attempt (a guard's delay, a deferral). */
  private async delay(job: LeasedJob, delay: { reason: DelayReason; delayMs: number }): Promise<void> {
    const now = this.clock.now();
    const applied = await this.queue.reschedule(job, {
      runAt: now + delay.delayMs,
      chargeAttempt: false,
      reason: delay.reason,
    });
    if (applied) await this.recorder.delayed(job, now, delay);
    else this.recorder.leaseLost(job, job.attempts + 1, "reschedule");
  }

  private setTimer(delayMs: number): void {
    if (this.stopping) return;
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private leaseBatch(): Promise<readonly LeasedJob[]> {
    const pending = this.leaseAndRecord().finally(() => this.pendingLeases.delete(pending));
    this.pendingLeases.add(pending);
    return pending;
  }

  private async leaseAndRecord(): Promise<readonly LeasedJob[]> {
    const limit = this.policy.concurrency - this.inFlight.size;
    if (limit <= 0) return [];
    const result = await this.queue.lease({
      limit,
      leaseMs: this.policy.leaseMs,
      maxLeases: this.policy.maxLeases,
    });
    const now = this.clock.now();
    await Promise.all(result.quarantined.map((entry) => this.recorder.quarantined(entry, now)));
    if (this.stopping) {
      // stop() began while the lease call ran: hand the jobs straight back, unattempted and uncharged.
      await Promise.all(result.jobs.map((job) => this.queue.release(job)));
      return [];
    }
    return result.jobs;
  }

  private launch(job: LeasedJob): Promise<void> {
    const task = this.process(job).finally(() => {
      this.inFlight.delete(task);
      this.wake();
    });
    this.inFlight.add(task);
    return task;
  }

  /** One job from lease to its next state. Never throws: a failed queue write leaves the lease to expire. */
  private async process(job: LeasedJob): Promise<void> {
    const attempt = job.attempts + 1;
    try {
      const destination = this.destinations.get(job.tenant, job.destination);
      if (destination === undefined) {
        const error = `destination ${job.destination} is not configured for tenant ${job.tenant}`;
        const dead = { reason: "destination_unknown", error, chargeAttempt: false } as const;
        if (await this.queue.deadLetter(job, dead)) {
          await this.recorder.deadLettered(job, this.clock.now(), undefined, dead);
        } else {
          this.recorder.leaseLost(job, attempt, "deadLetter");
        }
        return;
      }

      let verdict: GuardVerdict | undefined;
      try {
        verdict = await this.guards?.admit(job.tenant, destination);
      } catch (err) {
        // A guard that cannot answer (e.g. its store is down) delays the job rather than letting its
        // lease expire: expiries would count towards a poison-pill quarantine of a healthy job.
        this.logger.error({ err, tenant: job.tenant, destination: job.destination }, "delivery guard failed");
        verdict = { kind: "delay", reason: "rate_limited", delayMs: guardErrorDelayMs };
      }
      if (verdict?.kind === "delay") {
        await this.delay(job, verdict);
        return;
      }
      const pass = verdict?.pass;

      const startedAt = this.clock.now();
      const attemptAbort = attemptSignal(this.shutdown.signal, this.attemptDeadlineMs);
      let failure: DeliveryFailure | undefined;
      let deferred: DeferredError | undefined;
      let facts: AttemptFacts;
      try {
        const result = await destination.send(
          { event: job.event, idempotencyKey: job.idempotencyKey, attempt },
          attemptAbort.signal,
        );
        facts = { attempt, statusCode: result.statusCode, durationMs: result.durationMs };
      } catch (err) {
        facts = { attempt, durationMs: Math.max(0, this.clock.now() - startedAt) };
        if (this.shutdown.signal.aborted) {
          if (pass) this.guards?.release(pass);
          await this.release(job, facts);
          return;
        }
        if (err instanceof DeferredError) deferred = err;
        else {
          failure = classifyNetworkError(err);
          facts = { ...facts, statusCode: failure.statusCode };
        }
      } finally {
        attemptAbort.dispose();
      }

      if (deferred) {
        // Nothing reached the destination: no breaker outcome, no attempt charged.
        if (pass) this.guards?.release(pass);
        await this.delay(job, { reason: deferred.reason, delayMs: deferred.delayMs });
        return;
      }

      if (pass) {
        // Our own refusals (egress, redaction, …) say nothing about the provider: not a breaker outcome.
        if (failure && isOwnRefusal(failure.reason)) this.guards?.release(pass);
        else
          this.guards?.settle(
            pass,
            failure ? { kind: "failure", reason: failure.reason } : { kind: "success" },
          );
      }
      const now = this.clock.now();
      if (failure === undefined) {
        if (await this.queue.complete(job)) await this.recorder.delivered(job, now, facts);
        else this.recorder.leaseLost(job, attempt, "complete");
        return;
      }

      const decision = decideAfterFailure(failure, attempt, {
        policy: destination.retryPolicy ?? this.policy.retry,
        maxRetryAfterMs: this.policy.maxRetryAfterMs,
        random: this.random,
      });
      switch (decision.kind) {
        case "retry": {
          const applied = await this.queue.reschedule(job, {
            runAt: now + decision.delayMs,
            chargeAttempt: true,
            reason: decision.reason,
            error: decision.error,
          });
          if (applied) {
            await this.recorder.retryScheduled(job, now, facts, {
              reason: decision.reason,
              nextDelayMs: decision.delayMs,
              error: decision.error,
            });
          } else {
            this.recorder.leaseLost(job, attempt, "reschedule");
          }
          return;
        }
        case "dead_letter": {
          const applied = await this.queue.deadLetter(job, {
            reason: decision.reason,
            error: decision.error,
            chargeAttempt: true,
          });
          if (applied) await this.recorder.deadLettered(job, now, facts, decision);
          else this.recorder.leaseLost(job, attempt, "deadLetter");
          return;
        }
        default: {
          const _exhaustive: never = decision;
          throw new Error(`unhandled decision ${JSON.stringify(_exhaustive)}`);
        }
      }
    } catch (err) {
      // The queue or trail failed us; the lease will expire and the job be retried (at-least-once).
      this.logger.error(
        {
          err,
          tenant: job.tenant,
          source: job.source,
          destination: job.destination,
          eventId: job.eventId,
          jobId: job.id,
          attempt,
        },
        "delivery bookkeeping failed; the job is retried when its lease expires",
      );
    }
  }

  private async release(job: LeasedJob, facts: AttemptFacts): Promise<void> {
    if (await this.queue.release(job)) {
      this.releasedCount++;
      await this.recorder.released(job, this.clock.now(), facts);
    } else {
      this.recorder.leaseLost(job, facts.attempt, "release");
    }
  }
}
