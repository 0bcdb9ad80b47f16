/**
 * The durable delivery queue. One job per (event, destination). Adapters: SQLite (default, embedded),
 * memory (tests), Redis/BullMQ (later). All must pass test/conformance/queue.conformance.ts.
 *
 * Semantics every adapter guarantees:
 * - `enqueue` is atomic: the dedupe key is claimed, the event stored and every delivery job created in
 *   one commit, or nothing happens. The returned promise resolves only after the commit is durable.
 * - At-least-once: a leased job that is neither completed, rescheduled nor dead-lettered before its
 *   lease expires is leased again. Every lease increments `leaseCount`; a job whose lease expired
 *   `maxLeases` times is quarantined in the DLQ with reason `poison_pill` instead of being handed out.
 * - A job's `attempts` counts only charged attempts (failures). Delays from rate limits or open breakers
 *   reschedule without charging.
 * - Operations on a leased job name its `leaseToken`; a stale token (lease expired and re-leased) is a
 *   no-op that returns false, so a slow worker cannot clobber the newer lease.
 */
import type { DeliveryReason } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import type { TrailEntry } from "./trail.ts";

export interface DeliverySpec {
  readonly destination: string;
  /** `sha256(tenant:destination:eventId)`: travels as the outbound Idempotency-Key / webhook-id. */
  readonly idempotencyKey: string;
}

export interface Submission {
  readonly event: ZenEvent;
  /**
   * The (source, id) the submission is deduplicated and stored under when it is not the event's own
   * (tenant, source, id): a feature re-submitting an event it already holds (an approval sending the
   * original event on to its `then` destinations) names its own, or the intake's would make it a
   * duplicate. A second submission of a live identity is a duplicate; adapters key on it as they like
   * (SQLite: its events index; memory: `intakeDedupeKey` of it).
   */
  readonly identity?: { readonly source: string; readonly id: string };
  readonly dedupeTtlMs: number;
  /** May be empty: the event is still recorded (and deduplicated) when no route matches. */
  readonly deliveries: readonly DeliverySpec[];
  /** Trail entries written in the same commit (intake decision, matched routes). */
  readonly trail?: readonly TrailEntry[];
}

export type EnqueueResult =
  | { readonly status: "enqueued"; readonly jobIds: readonly string[] }
  | { readonly status: "duplicate" };

export interface Job {
  readonly id: string;
  readonly tenant: string;
  readonly source: string;
  readonly destination: string;
  readonly eventId: string;
  readonly idempotencyKey: string;
  /** Charged attempts so far (failed deliveries). */
  readonly attempts: number;
  /** How many times this job has been leased, including the current lease. */
  readonly leaseCount: number;
  readonly enqueuedAt: number;
  readonly runAt: number;
  readonly lastError?: string;
}

export interface LeasedJob extends Job {
  readonly leaseToken: string;
  readonly leaseUntil: number;
  readonly event: ZenEvent;
}

export interface LeaseOptions {
  readonly limit: number;
  readonly leaseMs: number;
  /** A job whose lease expired this many times is quarantined (DLQ reason `poison_pill`). */
  readonly maxLeases: number;
}

export interface LeaseResult {
  readonly jobs: readonly LeasedJob[];
  /** Jobs moved to the DLQ as poison pills during this call (for logs and metrics). */
  readonly quarantined: readonly DlqEntry[];
}

export interface RescheduleOptions {
  readonly runAt: number;
  /** false for rate-limit / breaker delays: the attempt is not counted. */
  readonly chargeAttempt: boolean;
  readonly reason: DeliveryReason;
  readonly error?: string;
}

export interface DeadLetterOptions {
  readonly reason: DeliveryReason;
  readonly error?: string;
  /** Whether the failed attempt that led here is counted (false for e.g. poison pills). */
  readonly chargeAttempt: boolean;
}

export interface DlqEntry {
  readonly id: string;
  readonly tenant: string;
  readonly source: string;
  readonly destination: string;
  readonly eventId: string;
  readonly idempotencyKey: string;
  readonly reason: DeliveryReason;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly enqueuedAt: number;
  readonly failedAt: number;
}

export interface DlqEntryWithEvent extends DlqEntry {
  readonly event: ZenEvent | null;
}

export interface DlqFilter {
  readonly tenant?: string;
  readonly destination?: string;
  readonly source?: string;
  readonly reason?: string;
}

export interface DlqPage {
  readonly items: readonly DlqEntry[];
  readonly next: string | null;
}

/** A job whose lease expired counts as `ready`: the next `lease` call hands it out again. */
export interface QueueCounts {
  readonly ready: number;
  readonly delayed: number;
  readonly leased: number;
}

export interface QueueStats extends QueueCounts {
  readonly byDestination: Readonly<Record<string, QueueCounts>>;
  readonly dlq: number;
}

export interface Queue {
  enqueue(submission: Submission): Promise<EnqueueResult>;
  lease(options: LeaseOptions): Promise<LeaseResult>;
  /** Delivered: the job is removed. */
  complete(job: LeasedJob): Promise<boolean>;
  /** Try again at `runAt`. */
  reschedule(job: LeasedJob, options: RescheduleOptions): Promise<boolean>;
  /** Give the job back unleased and uncharged (graceful shutdown). */
  release(job: LeasedJob): Promise<boolean>;
  deadLetter(job: LeasedJob, options: DeadLetterOptions): Promise<boolean>;
  /** Earliest `runAt` (or lease expiry) of any job, for the worker's timer; undefined when empty. */
  nextWakeAt(): Promise<number | undefined>;
  stats(): Promise<QueueStats>;

  /**
   * The stored event. Two sources of one tenant may use the same event id: pass `source` to pick one;
   * without it the most recently accepted event with that id wins.
   */
  getEvent(tenant: string, eventId: string, source?: string): Promise<ZenEvent | undefined>;
  /** Jobs (not dead-lettered) of one event, for the trail view; `source` narrows as in `getEvent`. */
  jobsOfEvent(tenant: string, eventId: string, source?: string): Promise<readonly Job[]>;

  listDlq(filter: DlqFilter, page: { limit: number; cursor?: string }): Promise<DlqPage>;
  getDlq(id: string): Promise<DlqEntryWithEvent | undefined>;
  /** Requeue as fresh jobs (attempts and lease count reset). Returns how many. */
  replayDlq(selector: { id: string } | { filter: DlqFilter }): Promise<number>;
  purgeDlq(selector: { id: string } | { filter: DlqFilter }): Promise<number>;

  /**
   * Housekeeping: drop expired dedupe keys, DLQ entries older than `dlqRetentionMs`, and events no job
   * or DLQ entry references once their dedupe window (`dedupeTtlMs` after acceptance) has passed, so
   * trail views can show a delivered event at least that long.
   */
  prune(options: { dlqRetentionMs: number }): Promise<{ dedupeKeys: number; dlq: number; events: number }>;
  /**
   * Wakes when new jobs become ready — after an enqueue that created jobs, a replay and a release (in-process
   * hint; polling remains the source of truth). Returns the unsubscribe function.
   */
  onEnqueued(listener: () => void): () => void;
  /** True when the store answers; used by /ready. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
