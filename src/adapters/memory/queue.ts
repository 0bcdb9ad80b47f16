/**
 * In-memory Queue for tests and examples; same semantics as the SQLite queue, proven by the same
 * conformance suite (test/conformance/queue.conformance.ts). Each call mutates state synchronously
 * before it first yields, so calls are atomic with respect to each other. Nothing is durable.
 */

import { randomUUID } from "node:crypto";
import type { DeliveryReason } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { intakeDedupeKey } from "../../domain/idempotency.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type {
  DeadLetterOptions,
  DlqEntry,
  DlqEntryWithEvent,
  DlqFilter,
  DlqPage,
  EnqueueResult,
  Job,
  LeasedJob,
  LeaseOptions,
  LeaseResult,
  Queue,
  QueueCounts,
  QueueStats,
  RescheduleOptions,
  Submission,
} from "../../ports/queue.ts";
import type { TrailEntry } from "../../ports/trail.ts";
import { decodeDlqCursor, encodeDlqCursor } from "../dlq-cursor.ts";
import { WakeListeners } from "../wake-listeners.ts";
import { MemoryTrailStore } from "./trail-store.ts";

export interface MemoryQueueOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Receives each submission's trail entries; default: a private store, exposed as `trail`. */
  readonly trail?: MemoryTrailStore;
  /** Makes lease tokens; default `crypto.randomUUID`. */
  readonly newLeaseToken?: () => string;
}

interface StoredEvent {
  readonly tenant: string;
  readonly source: string;
  readonly eventId: string;
  /** JSON, like a real store: the event cannot be mutated through a reference the caller kept. */
  readonly body: string;
  /** The dedupe key's expiry: the event is kept at least this long (ms since epoch). */
  readonly keepUntil: number;
}

interface StoredJob {
  readonly id: number;
  readonly eventRow: number;
  readonly destination: string;
  readonly idempotencyKey: string;
  state: "ready" | "leased";
  runAt: number;
  /** `runAt` while ready, the lease expiry while leased. */
  dueAt: number;
  leaseToken: string | null;
  leaseCount: number;
  expiredLeases: number;
  attempts: number;
  lastError: string | null;
  readonly enqueuedAt: number;
}

interface StoredDlq extends DlqEntry {
  readonly row: number;
  readonly eventRow: number;
}

/** Queue in Maps, for tests; ids are sequence numbers as strings, never reused. */
export class MemoryQueue implements Queue {
  /** Where submission trail entries go (pass one in to share it with other code). */
  readonly trail: MemoryTrailStore;
  private readonly clock: Clock;
  private readonly newLeaseToken: () => string;
  private readonly listeners = new WakeListeners();
  private readonly dedupe = new Map<string, number>();
  private readonly events = new Map<number, StoredEvent>();
  private readonly jobs = new Map<number, StoredJob>();
  private readonly dlq = new Map<number, StoredDlq>();
  private lastEventRow = 0;
  private lastJobId = 0;
  private lastDlqId = 0;

  constructor(options: MemoryQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.trail = options.trail ?? new MemoryTrailStore();
    this.newLeaseToken = options.newLeaseToken ?? randomUUID;
  }

  async enqueue(submission: Submission): Promise<EnqueueResult> {
    const now = this.clock.now();
    const { event, identity } = submission;
    const dedupeKey = intakeDedupeKey(
      event.tenant,
      identity?.source ?? event.source,
      identity?.id ?? event.id,
    );
    const expiresAt = this.dedupe.get(dedupeKey);
    if (expiresAt !== undefined && expiresAt > now) return { status: "duplicate" };
    // Serialize before touching any state: an event that cannot be stored leaves no trace.
    const body = JSON.stringify(submission.event);
    const keepUntil = now + submission.dedupeTtlMs;
    this.dedupe.set(dedupeKey, keepUntil);
    const eventRow = ++this.lastEventRow;
    this.events.set(eventRow, {
      tenant: event.tenant,
      source: event.source,
      eventId: event.id,
      body,
      keepUntil,
    });
    const jobIds = submission.deliveries.map((d) => {
      const id = this.addJob(eventRow, d.destination, d.idempotencyKey, now);
      return String(id);
    });
    if (submission.trail) this.trail.appendNow(submission.trail);
    if (jobIds.length > 0) this.listeners.notify();
    return { status: "enqueued", jobIds };
  }

  async lease(options: LeaseOptions): Promise<LeaseResult> {
    if (!(options.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${options.leaseMs}`);
    if (!(options.maxLeases >= 1)) throw new RangeError(`maxLeases must be >= 1, got ${options.maxLeases}`);
    const now = this.clock.now();
    const leaseUntil = now + options.leaseMs;
    const jobs: LeasedJob[] = [];
    const quarantined: DlqEntry[] = [];
    const due = [...this.jobs.values()]
      .filter((job) => job.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    for (const job of due) {
      if (jobs.length >= options.limit) break;
      // A leased job that is due has an expired lease: its worker died or hung.
      const expiredLeases = job.expiredLeases + (job.state === "leased" ? 1 : 0);
      if (expiredLeases >= options.maxLeases) {
        quarantined.push(
          this.moveToDlq(job, {
            reason: "poison_pill",
            attempts: job.attempts,
            lastError: job.lastError ?? `lease expired ${expiredLeases} times`,
            failedAt: now,
          }),
        );
        continue;
      }
      job.state = "leased";
      job.leaseToken = this.newLeaseToken();
      job.dueAt = leaseUntil;
      job.leaseCount++;
      job.expiredLeases = expiredLeases;
      jobs.push({ ...this.toJob(job), leaseToken: job.leaseToken, leaseUntil, event: this.eventOf(job) });
    }
    return { jobs, quarantined };
  }

  async complete(job: LeasedJob): Promise<boolean> {
    const stored = this.leased(job);
    if (!stored) return false;
    this.jobs.delete(stored.id);
    return true;
  }

  async reschedule(job: LeasedJob, options: RescheduleOptions): Promise<boolean> {
    const stored = this.leased(job);
    if (!stored) return false;
    stored.state = "ready";
    stored.leaseToken = null;
    stored.runAt = options.runAt;
    stored.dueAt = options.runAt;
    if (options.chargeAttempt) {
      stored.attempts++;
      stored.lastError = options.error ?? null;
    }
    return true;
  }

  async release(job: LeasedJob): Promise<boolean> {
    const stored = this.leased(job);
    if (!stored) return false;
    stored.state = "ready";
    stored.leaseToken = null;
    stored.dueAt = stored.runAt;
    this.listeners.notify();
    return true;
  }

  async deadLetter(job: LeasedJob, options: DeadLetterOptions): Promise<boolean> {
    const stored = this.leased(job);
    if (!stored) return false;
    this.moveToDlq(stored, {
      reason: options.reason,
      attempts: stored.attempts + (options.chargeAttempt ? 1 : 0),
      lastError: options.error ?? stored.lastError,
      failedAt: this.clock.now(),
    });
    return true;
  }

  async nextWakeAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const job of this.jobs.values()) if (next === undefined || job.dueAt < next) next = job.dueAt;
    return next;
  }

  async stats(): Promise<QueueStats> {
    const now = this.clock.now();
    const byDestination: Record<string, { ready: number; delayed: number; leased: number }> = {};
    const total = { ready: 0, delayed: 0, leased: 0 };
    for (const job of this.jobs.values()) {
      const state: keyof QueueCounts =
        job.dueAt <= now ? "ready" : job.state === "ready" ? "delayed" : "leased";
      const counts = byDestination[job.destination] ?? { ready: 0, delayed: 0, leased: 0 };
      byDestination[job.destination] = counts;
      counts[state]++;
      total[state]++;
    }
    return { ...total, byDestination, dlq: this.dlq.size };
  }

  async getEvent(tenant: string, eventId: string, source?: string): Promise<ZenEvent | undefined> {
    const row = this.eventRows(tenant, eventId, source).at(-1);
    const stored = row === undefined ? undefined : this.events.get(row);
    return stored === undefined ? undefined : (JSON.parse(stored.body) as ZenEvent);
  }

  async jobsOfEvent(tenant: string, eventId: string, source?: string): Promise<readonly Job[]> {
    const rows = new Set(this.eventRows(tenant, eventId, source));
    return [...this.jobs.values()]
      .filter((job) => rows.has(job.eventRow))
      .sort((a, b) => a.id - b.id)
      .map((job) => this.toJob(job));
  }

  async listDlq(filter: DlqFilter, page: { limit: number; cursor?: string }): Promise<DlqPage> {
    if (!(Number.isInteger(page.limit) && page.limit >= 1)) {
      throw new RangeError(`limit must be a positive integer, got ${page.limit}`);
    }
    const after = page.cursor === undefined ? undefined : decodeDlqCursor(page.cursor);
    const matching = this.dlqMatching(filter)
      .filter(
        (e) =>
          after === undefined ||
          e.failedAt < after.failedAt ||
          (e.failedAt === after.failedAt && e.row < after.id),
      )
      .sort((a, b) => b.failedAt - a.failedAt || b.row - a.row);
    const items = matching.slice(0, page.limit);
    const last = items.at(-1);
    const next =
      matching.length > page.limit && last
        ? encodeDlqCursor({ failedAt: last.failedAt, id: last.row })
        : null;
    return { items: items.map(toDlqEntry), next };
  }

  async getDlq(id: string): Promise<DlqEntryWithEvent | undefined> {
    const entry = this.dlqById(id);
    if (!entry) return undefined;
    const stored = this.events.get(entry.eventRow);
    return { ...toDlqEntry(entry), event: stored ? (JSON.parse(stored.body) as ZenEvent) : null };
  }

  async replayDlq(target: { id: string } | { filter: DlqFilter }): Promise<number> {
    const now = this.clock.now();
    const entries = this.dlqSelected(target).sort((a, b) => a.row - b.row);
    for (const entry of entries) {
      // Fresh job, same idempotency key: receivers still recognise a delivery they already have.
      this.addJob(entry.eventRow, entry.destination, entry.idempotencyKey, now);
      this.dlq.delete(entry.row);
    }
    this.trail.appendNow(entries.map((entry) => replayedTrailEntry(entry, now)));
    if (entries.length > 0) this.listeners.notify();
    return entries.length;
  }

  async purgeDlq(target: { id: string } | { filter: DlqFilter }): Promise<number> {
    const entries = this.dlqSelected(target);
    for (const entry of entries) this.dlq.delete(entry.row);
    return entries.length;
  }

  async prune(options: {
    dlqRetentionMs: number;
  }): Promise<{ dedupeKeys: number; dlq: number; events: number }> {
    const now = this.clock.now();
    let dedupeKeys = 0;
    for (const [key, expiresAt] of this.dedupe) {
      if (expiresAt <= now) {
        this.dedupe.delete(key);
        dedupeKeys++;
      }
    }
    let dlq = 0;
    for (const [row, entry] of this.dlq) {
      if (entry.failedAt < now - options.dlqRetentionMs) {
        this.dlq.delete(row);
        dlq++;
      }
    }
    const referenced = new Set<number>();
    for (const job of this.jobs.values()) referenced.add(job.eventRow);
    for (const entry of this.dlq.values()) referenced.add(entry.eventRow);
    let events = 0;
    for (const [row, stored] of this.events) {
      if (stored.keepUntil <= now && !referenced.has(row)) {
        this.events.delete(row);
        events++;
      }
    }
    return { dedupeKeys, dlq, events };
  }

  onEnqueued(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private addJob(eventRow: number, destination: string, idempotencyKey: string, now: number): number {
    const id = ++this.lastJobId;
    this.jobs.set(id, {
      id,
      eventRow,
      destination,
      idempotencyKey,
      state: "ready",
      runAt: now,
      dueAt: now,
      leaseToken: null,
      leaseCount: 0,
      expiredLeases: 0,
      attempts: 0,
      lastError: null,
      enqueuedAt: now,
    });
    return id;
  }

  /** The stored job if `job`'s lease token is still current. */
  private leased(job: LeasedJob): StoredJob | undefined {
    const stored = this.jobs.get(Number(job.id));
    return stored?.state === "leased" && stored.leaseToken === job.leaseToken ? stored : undefined;
  }

  private moveToDlq(
    job: StoredJob,
    entry: { reason: DeliveryReason; attempts: number; lastError: string | null; failedAt: number },
  ): DlqEntry {
    const row = ++this.lastDlqId;
    const stored: StoredDlq = {
      ...this.identity(job),
      id: String(row),
      row,
      eventRow: job.eventRow,
      idempotencyKey: job.idempotencyKey,
      reason: entry.reason,
      attempts: entry.attempts,
      lastError: entry.lastError,
      enqueuedAt: job.enqueuedAt,
      failedAt: entry.failedAt,
    };
    this.dlq.set(row, stored);
    this.jobs.delete(job.id);
    return toDlqEntry(stored);
  }

  private identity(job: StoredJob): { tenant: string; source: string; eventId: string; destination: string } {
    const stored = this.events.get(job.eventRow);
    // Events are only removed by prune, and prune keeps every event a job references.
    if (!stored) throw new Error(`event row ${job.eventRow} of job ${job.id} is missing`);
    return {
      tenant: stored.tenant,
      source: stored.source,
      eventId: stored.eventId,
      destination: job.destination,
    };
  }

  private eventOf(job: StoredJob): ZenEvent {
    const stored = this.events.get(job.eventRow);
    if (!stored) throw new Error(`event row ${job.eventRow} of job ${job.id} is missing`);
    return JSON.parse(stored.body) as ZenEvent;
  }

  private toJob(job: StoredJob): Job {
    return {
      ...this.identity(job),
      id: String(job.id),
      idempotencyKey: job.idempotencyKey,
      attempts: job.attempts,
      leaseCount: job.leaseCount,
      enqueuedAt: job.enqueuedAt,
      runAt: job.runAt,
      ...(job.lastError === null ? {} : { lastError: job.lastError }),
    };
  }

  /** Event rows of (tenant, eventId[, source]) in acceptance order. */
  private eventRows(tenant: string, eventId: string, source: string | undefined): number[] {
    const rows: number[] = [];
    for (const [row, stored] of this.events) {
      if (
        stored.tenant === tenant &&
        stored.eventId === eventId &&
        (source === undefined || stored.source === source)
      ) {
        rows.push(row);
      }
    }
    return rows.sort((a, b) => a - b);
  }

  private dlqMatching(filter: DlqFilter): StoredDlq[] {
    return [...this.dlq.values()].filter(
      (e) =>
        (filter.tenant === undefined || e.tenant === filter.tenant) &&
        (filter.destination === undefined || e.destination === filter.destination) &&
        (filter.source === undefined || e.source === filter.source) &&
        (filter.reason === undefined || e.reason === filter.reason),
    );
  }

  private dlqById(id: string): StoredDlq | undefined {
    return /^[1-9][0-9]*$/.test(id) ? this.dlq.get(Number(id)) : undefined;
  }

  private dlqSelected(target: { id: string } | { filter: DlqFilter }): StoredDlq[] {
    if ("filter" in target) return this.dlqMatching(target.filter);
    const entry = this.dlqById(target.id);
    return entry ? [entry] : [];
  }
}

function toDlqEntry(entry: StoredDlq): DlqEntry {
  return {
    id: entry.id,
    tenant: entry.tenant,
    source: entry.source,
    destination: entry.destination,
    eventId: entry.eventId,
    idempotencyKey: entry.idempotencyKey,
    reason: entry.reason,
    attempts: entry.attempts,
    lastError: entry.lastError,
    enqueuedAt: entry.enqueuedAt,
    failedAt: entry.failedAt,
  };
}

function replayedTrailEntry(
  entry: { tenant: string; eventId: string; destination: string; reason: string },
  at: number,
): TrailEntry {
  return {
    tenant: entry.tenant,
    eventId: entry.eventId,
    at,
    stage: "replayed",
    destination: entry.destination,
    detail: { previousReason: entry.reason },
  };
}
