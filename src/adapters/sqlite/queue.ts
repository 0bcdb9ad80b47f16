/**
 * The Queue port on the shared SQLite file (see src/ports/queue.ts for the contract).
 *
 * Every state change runs as a write in the shared {@link WriteBatcher}: enqueues are group-committed
 * (one fsync for many intake requests), and lease/complete/reschedule/release/deadLetter/replay/purge/
 * prune are ordered after the writes queued before them, so they never act on a stale picture.
 * Read-only calls (stats, nextWakeAt, DLQ listing, event lookups) query committed state directly.
 */

import { randomUUID } from "node:crypto";
import type BetterSqlite3 from "better-sqlite3";
import type { DeliveryReason } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
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
import { decodeDlqCursor, encodeDlqCursor } from "../dlq-cursor.ts";
import { WakeListeners } from "../wake-listeners.ts";
import type { SqliteDatabase } from "./database.ts";
import { type DlqRow, type JobRow, jobColumns, parseEvent, parseRowId, toDlqEntry, toJob } from "./rows.ts";
import { TrailWriter } from "./trail-store.ts";

export interface SqliteQueueOptions {
  /** The shared store file (see `openDatabase`). Not closed by {@link SqliteQueue.close}. */
  readonly db: SqliteDatabase;
  /** Default: the system clock. All stored times are integer ms from it. */
  readonly clock?: Clock;
  /** Makes lease tokens; default `crypto.randomUUID`. */
  readonly newLeaseToken?: () => string;
}

/** Named parameters of the DLQ selector statements; null = no constraint. */
interface DlqSelector {
  readonly id: number | null;
  readonly tenant: string | null;
  readonly destination: string | null;
  readonly source: string | null;
  readonly reason: string | null;
}

/** Matches the {@link DlqSelector} parameters; shared by list, replay and purge. */
const dlqWhere = `(@id IS NULL OR id = @id)
  AND (@tenant IS NULL OR tenant = @tenant)
  AND (@destination IS NULL OR destination = @destination)
  AND (@source IS NULL OR source = @source)
  AND (@reason IS NULL OR reason = @reason)`;

interface StatsRow extends QueueCounts {
  readonly destination: string;
}

/**
 * The default, embedded Queue. Lease tokens are random; job and DLQ ids are row ids as strings (never
 * reused: AUTOINCREMENT), so a stale id cannot name a newer row.
 */
export class SqliteQueue implements Queue {
  private readonly db: SqliteDatabase;
  private readonly clock: Clock;
  private readonly newLeaseToken: () => string;
  private readonly listeners = new WakeListeners();
  private readonly trail: TrailWriter;
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(options: SqliteQueueOptions) {
    this.db = options.db;
    this.clock = options.clock ?? systemClock;
    this.newLeaseToken = options.newLeaseToken ?? randomUUID;
    this.trail = new TrailWriter(options.db.handle);
    this.sql = prepareStatements(options.db.handle);
  }

  async enqueue(submission: Submission): Promise<EnqueueResult> {
    const result = await this.db.batcher.submit(() => this.enqueueNow(submission));
    if (result.status === "enqueued" && result.jobIds.length > 0) this.listeners.notify();
    return result;
  }

  async lease(options: LeaseOptions): Promise<LeaseResult> {
    if (!(options.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${options.leaseMs}`);
    if (!(options.maxLeases >= 1)) throw new RangeError(`maxLeases must be >= 1, got ${options.maxLeases}`);
    if (options.limit <= 0) return { jobs: [], quarantined: [] };
    return this.db.batcher.submit(() => this.leaseNow(options));
  }

  async complete(job: LeasedJob): Promise<boolean> {
    const id = parseRowId(job.id);
    if (id === undefined) return false;
    return this.db.batcher.submit(() => this.sql.deleteLeased.run(id, job.leaseToken).changes === 1);
  }

  async reschedule(job: LeasedJob, options: RescheduleOptions): Promise<boolean> {
    const id = parseRowId(job.id);
    if (id === undefined) return false;
    return this.db.batcher.submit(
      () =>
        this.sql.reschedule.run({
          id,
          token: job.leaseToken,
          runAt: options.runAt,
          charge: options.chargeAttempt ? 1 : 0,
          error: options.error ?? null,
        }).changes === 1,
    );
  }

  async release(job: LeasedJob): Promise<boolean> {
    const id = parseRowId(job.id);
    if (id === undefined) return false;
    const released = await this.db.batcher.submit(
      () => this.sql.release.run(id, job.leaseToken).changes === 1,
    );
    if (released) this.listeners.notify();
    return released;
  }

  async deadLetter(job: LeasedJob, options: DeadLetterOptions): Promise<boolean> {
    const id = parseRowId(job.id);
    if (id === undefined) return false;
    return this.db.batcher.submit(() => {
      const row = this.sql.leasedJob.get(id, job.leaseToken);
      if (!row) return false;
      this.moveToDlq(row, {
        reason: options.reason,
        attempts: row.attempts + (options.chargeAttempt ? 1 : 0),
        lastError: options.error ?? row.last_error,
        failedAt: this.clock.now(),
      });
      return true;
    });
  }

  async nextWakeAt(): Promise<number | undefined> {
    return this.sql.nextDue.get() ?? undefined;
  }

  async stats(): Promise<QueueStats> {
    const rows = this.sql.stats.all({ now: this.clock.now() });
    const byDestination: Record<string, QueueCounts> = {};
    let ready = 0;
    let delayed = 0;
    let leased = 0;
    for (const row of rows) {
      byDestination[row.destination] = { ready: row.ready, delayed: row.delayed, leased: row.leased };
      ready += row.ready;
      delayed += row.delayed;
      leased += row.leased;
    }
    return { ready, delayed, leased, byDestination, dlq: this.sql.dlqCount.get() ?? 0 };
  }

  async getEvent(tenant: string, eventId: string, source?: string): Promise<ZenEvent | undefined> {
    const body = this.sql.eventBody.get({ tenant, eventId, source: source ?? null });
    return body === undefined ? undefined : parseEvent(body);
  }

  async jobsOfEvent(tenant: string, eventId: string, source?: string): Promise<readonly Job[]> {
    return this.sql.jobsOfEvent.all({ tenant, eventId, source: source ?? null }).map(toJob);
  }

  async listDlq(filter: DlqFilter, page: { limit: number; cursor?: string }): Promise<DlqPage> {
    if (!(Number.isInteger(page.limit) && page.limit >= 1)) {
      throw new RangeError(`limit must be a positive integer, got ${page.limit}`);
    }
    const after = page.cursor === undefined ? undefined : decodeDlqCursor(page.cursor);
    const rows = this.sql.listDlq.all({
      ...filterSelector(filter),
      afterFailedAt: after?.failedAt ?? null,
      afterId: after?.id ?? null,
      limit: page.limit + 1,
    });
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    const next =
      rows.length > page.limit && last ? encodeDlqCursor({ failedAt: last.failed_at, id: last.id }) : null;
    return { items: items.map(toDlqEntry), next };
  }

  async getDlq(id: string): Promise<DlqEntryWithEvent | undefined> {
    const rowId = parseRowId(id);
    if (rowId === undefined) return undefined;
    const row = this.sql.dlqWithEvent.get(rowId);
    if (!row) return undefined;
    return { ...toDlqEntry(row), event: row.body === null ? null : parseEvent(row.body) };
  }

  async replayDlq(target: { id: string } | { filter: DlqFilter }): Promise<number> {
    const params = selector(target);
    if (params === undefined) return 0;
    const replayed = await this.db.batcher.submit(() => {
      const now = this.clock.now();
      // The trail says "replayed" in the same commit that requeues, so a trace never misses it.
      for (const row of this.sql.dlqToReplay.all(params)) {
        this.trail.forEventRow(row.event_row, [
          {
            tenant: row.tenant,
            eventId: row.event_id,
            at: now,
            stage: "replayed",
            destination: row.destination,
            detail: { previousReason: row.reason },
          },
        ]);
      }
      if (params.id === null) {
        this.sql.requeueDlq.run({ ...params, now });
        return this.sql.deleteDlq.run(params).changes;
      }
      this.sql.requeueDlqById.run({ id: params.id, now });
      return this.sql.deleteDlqById.run(params.id).changes;
    });
    if (replayed > 0) this.listeners.notify();
    return replayed;
  }

  async purgeDlq(target: { id: string } | { filter: DlqFilter }): Promise<number> {
    const params = selector(target);
    if (params === undefined) return 0;
    return this.db.batcher.submit(() =>
      params.id === null
        ? this.sql.deleteDlq.run(params).changes
        : this.sql.deleteDlqById.run(params.id).changes,
    );
  }

  async prune(options: {
    dlqRetentionMs: number;
  }): Promise<{ dedupeKeys: number; dlq: number; events: number }> {
    return this.db.batcher.submit(() => {
      const now = this.clock.now();
      // Order matters: windows close first and DLQ rows go next, so the events they held are freed in
      // the same pass. An event with trail rows keeps its (bodiless) row until the trail is pruned.
      const dedupeKeys = this.sql.closeDedupeWindows.run(now).changes;
      const dlq = this.sql.pruneDlq.run(now - options.dlqRetentionMs).changes;
      const events = this.sql.deleteEvents.run().changes + this.sql.dropEventBodies.run().changes;
      return { dedupeKeys, dlq, events };
    });
  }

  onEnqueued(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  async ping(): Promise<boolean> {
    try {
      return this.sql.ping.get() === 1;
    } catch {
      return false;
    }
  }

  /** Commits pending writes and drops listeners; the shared handle stays open (`SqliteDatabase.close`). */
  async close(): Promise<void> {
    this.listeners.clear();
    if (this.db.handle.open) this.db.batcher.flush();
  }

  private enqueueNow(submission: Submission): EnqueueResult {
    const now = this.clock.now();
    const keepUntil = now + submission.dedupeTtlMs;
    const { event } = submission;
    // The dedupe key is the submission's identity (tenant, source, id) (src/ports/queue.ts): looked up
    // in `events_identity`, the index the event row goes into anyway. Check and insert run in one write of the single writer, so nothing slips between.
    const source = submission.identity?.source ?? event.source;
    const id = submission.identity?.id ?? event.id;
    if (this.sql.liveDedupe.get(event.tenant, id, source, now) !== undefined) {
      return { status: "duplicate" };
    }
    // Serialized before the insert: an event that cannot be stored leaves no row, so no dedupe key.
    const body = JSON.stringify(event);
    const eventRow = Number(
      this.sql.insertEvent.run(event.tenant, source, id, body, now, keepUntil).lastInsertRowid,
    );
    const jobIds = submission.deliveries.map((d) =>
      String(
        this.sql.insertJob.run(eventRow, d.destination, d.idempotencyKey, now, now, now).lastInsertRowid,
      ),
    );
    if (submission.trail) {
      const own = submission.trail.every((e) => e.tenant === event.tenant && e.eventId === id);
      if (own) this.trail.forEventRow(eventRow, submission.trail);
      else this.trail.append(submission.trail);
    }
    return { status: "enqueued", jobIds };
  }

  private leaseNow(options: LeaseOptions): LeaseResult {
    const now = this.clock.now();
    const leaseUntil = now + options.leaseMs;
    const jobs: LeasedJob[] = [];
    const quarantined: DlqEntry[] = [];
    // Quarantined rows do not count toward the limit, so select again until it is met or nothing is
    // due. Terminates: every row handled leaves the due set (deleted, or due again at leaseUntil > now).
    while (jobs.length < options.limit) {
      const rows = this.sql.due.all(now, options.limit - jobs.length);
      if (rows.length === 0) break;
      for (const row of rows) {
        // A leased row that is due has an expired lease: its worker died or hung.
        const expiredLeases = row.expired_leases + (row.state === "leased" ? 1 : 0);
        if (expiredLeases >= options.maxLeases) {
          quarantined.push(
            this.moveToDlq(row, {
              reason: "poison_pill",
              attempts: row.attempts,
              lastError: row.last_error ?? `lease expired ${expiredLeases} times`,
              failedAt: now,
            }),
          );
          continue;
        }
        const leaseToken = this.newLeaseToken();
        this.sql.markLeased.run(leaseToken, leaseUntil, expiredLeases, row.id);
        jobs.push({
          ...toJob({ ...row, lease_count: row.lease_count + 1 }),
          leaseToken,
          leaseUntil,
          event: parseEvent(row.body),
        });
      }
    }
    return { jobs, quarantined };
  }

  private moveToDlq(
    row: JobRow,
    entry: { reason: DeliveryReason; attempts: number; lastError: string | null; failedAt: number },
  ): DlqEntry {
    const fields = {
      tenant: row.tenant,
      source: row.source,
      destination: row.destination,
      eventId: row.event_id,
      idempotencyKey: row.idempotency_key,
      reason: entry.reason,
      attempts: entry.attempts,
      lastError: entry.lastError,
      enqueuedAt: row.enqueued_at,
      failedAt: entry.failedAt,
    };
    const id = Number(this.sql.insertDlq.run({ eventRow: row.event_row, ...fields }).lastInsertRowid);
    this.sql.deleteJob.run(row.id);
    return { id: String(id), ...fields };
  }
}

/** Statement parameters for a DLQ selector; undefined when the id cannot name any entry. */
function selector(target: { id: string } | { filter: DlqFilter }): DlqSelector | undefined {
  if ("filter" in target) return filterSelector(target.filter);
  const id = parseRowId(target.id);
  if (id === undefined) return undefined;
  return { id, tenant: null, destination: null, source: null, reason: null };
}

function filterSelector(filter: DlqFilter): DlqSelector {
  return {
    id: null,
    tenant: filter.tenant ?? null,
    destination: filter.destination ?? null,
    source: filter.source ?? null,
    reason: filter.reason ?? null,
  };
}

function prepareStatements(h: BetterSqlite3.Database) {
  return {
    // A live dedupe key: a row of this identity whose window is still open (expired counts as absent).
    liveDedupe: h
      .prepare<[string, string, string, number], number>(
        "SELECT 1 FROM events WHERE tenant = ? AND event_id = ? AND source = ? AND keep_until > ? LIMIT 1",
      )
      .pluck(),
    insertEvent: h.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO events (tenant, source, event_id, body, created_at, keep_until) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    insertJob: h.prepare<[number, string, string, number, number, number]>(
      `INSERT INTO jobs (event_row, destination, idempotency_key, state, run_at, due_at, enqueued_at)
       VALUES (?, ?, ?, 'ready', ?, ?, ?)`,
    ),
    due: h.prepare<[number, number], JobRow & { body: string }>(
      `SELECT ${jobColumns}, e.body FROM jobs j JOIN events e ON e.id = j.event_row
       WHERE j.due_at <= ? ORDER BY j.due_at, j.id LIMIT ?`,
    ),
    markLeased: h.prepare<[string, number, number, number]>(
      `UPDATE jobs SET state = 'leased', lease_token = ?, due_at = ?, lease_count = lease_count + 1,
       expired_leases = ? WHERE id = ?`,
    ),
    leasedJob: h.prepare<[number, string], JobRow>(
      `SELECT ${jobColumns} FROM jobs j JOIN events e ON e.id = j.event_row
       WHERE j.id = ? AND j.lease_token = ? AND j.state = 'leased'`,
    ),
    deleteLeased: h.prepare<[number, string]>(
      "DELETE FROM jobs WHERE id = ? AND lease_token = ? AND state = 'leased'",
    ),
    deleteJob: h.prepare<[number]>("DELETE FROM jobs WHERE id = ?"),
    reschedule: h.prepare<
      [{ id: number; token: string; runAt: number; charge: number; error: string | null }]
    >(
      `UPDATE jobs SET state = 'ready', lease_token = NULL, run_at = @runAt, due_at = @runAt,
         attempts = attempts + @charge,
         last_error = CASE WHEN @charge = 1 THEN @error ELSE last_error END
       WHERE id = @id AND lease_token = @token AND state = 'leased'`,
    ),
    // Back to ready as it was before the lease: due at its old run_at, nothing charged or counted.
    release: h.prepare<[number, string]>(
      `UPDATE jobs SET state = 'ready', lease_token = NULL, due_at = run_at
       WHERE id = ? AND lease_token = ? AND state = 'leased'`,
    ),
    insertDlq: h.prepare<
      [
        {
          eventRow: number;
          tenant: string;
          source: string;
          destination: string;
          eventId: string;
          idempotencyKey: string;
          reason: string;
          attempts: number;
          lastError: string | null;
          enqueuedAt: number;
          failedAt: number;
        },
      ]
    >(
      `INSERT INTO dlq (event_row, tenant, source, destination, event_id, idempotency_key, reason, attempts,
         last_error, enqueued_at, failed_at)
       VALUES (@eventRow, @tenant, @source, @destination, @eventId, @idempotencyKey, @reason, @attempts,
         @lastError, @enqueuedAt, @failedAt)`,
    ),
    nextDue: h.prepare<[], number | null>("SELECT MIN(due_at) FROM jobs").pluck(),
    stats: h.prepare<[{ now: number }], StatsRow>(
      `SELECT destination,
         SUM(due_at <= @now) AS ready,
         SUM(state = 'ready' AND due_at > @now) AS delayed,
         SUM(state = 'leased' AND due_at > @now) AS leased
       FROM jobs GROUP BY destination ORDER BY destination`,
    ),
    dlqCount: h.prepare<[], number>("SELECT COUNT(*) FROM dlq").pluck(),
    eventBody: h
      .prepare<[{ tenant: string; eventId: string; source: string | null }], string>(
        `SELECT body FROM events WHERE tenant = @tenant AND event_id = @eventId
           AND (@source IS NULL OR source = @source) AND body IS NOT NULL
         ORDER BY id DESC LIMIT 1`,
      )
      .pluck(),
    jobsOfEvent: h.prepare<[{ tenant: string; eventId: string; source: string | null }], JobRow>(
      `SELECT ${jobColumns} FROM events e JOIN jobs j ON j.event_row = e.id
       WHERE e.tenant = @tenant AND e.event_id = @eventId AND (@source IS NULL OR e.source = @source)
       ORDER BY j.id`,
    ),
    listDlq: h.prepare<
      [DlqSelector & { afterFailedAt: number | null; afterId: number | null; limit: number }],
      DlqRow
    >(
      `SELECT * FROM dlq WHERE ${dlqWhere}
         AND (@afterFailedAt IS NULL OR failed_at < @afterFailedAt OR (failed_at = @afterFailedAt AND id < @afterId))
       ORDER BY failed_at DESC, id DESC LIMIT @limit`,
    ),
    dlqWithEvent: h.prepare<[number], DlqRow & { body: string | null }>(
      "SELECT d.*, e.body FROM dlq d LEFT JOIN events e ON e.id = d.event_row WHERE d.id = ?",
    ),
    // Replayed jobs are fresh: attempts, lease count and expiries start over; the idempotency key is
    // the same, so receivers still recognise a delivery they already have.
    requeueDlq: h.prepare<[DlqSelector & { now: number }]>(
      `INSERT INTO jobs (event_row, destination, idempotency_key, state, run_at, due_at, enqueued_at)
       SELECT event_row, destination, idempotency_key, 'ready', @now, @now, @now FROM dlq WHERE ${dlqWhere}
       ORDER BY id`,
    ),
    deleteDlq: h.prepare<[DlqSelector]>(`DELETE FROM dlq WHERE ${dlqWhere}`),
    dlqToReplay: h.prepare<
      [DlqSelector],
      { event_row: number; tenant: string; event_id: string; destination: string; reason: string }
    >(`SELECT event_row, tenant, event_id, destination, reason FROM dlq WHERE ${dlqWhere} ORDER BY id`),
    // By-id twins of the two above: `@id IS NULL OR id = @id` would scan instead of using the key.
    requeueDlqById: h.prepare<[{ id: number; now: number }]>(
      `INSERT INTO jobs (event_row, destination, idempotency_key, state, run_at, due_at, enqueued_at)
       SELECT event_row, destination, idempotency_key, 'ready', @now, @now, @now FROM dlq WHERE id = @id`,
    ),
    deleteDlqById: h.prepare<[number]>("DELETE FROM dlq WHERE id = ?"),
    // keep_until 0 marks a closed window, so each closed key is counted once (schema.ts).
    closeDedupeWindows: h.prepare<[number]>(
      "UPDATE events SET keep_until = 0 WHERE keep_until > 0 AND keep_until <= ?",
    ),
    pruneDlq: h.prepare<[number]>("DELETE FROM dlq WHERE failed_at < ?"),
    // Both select through the partial index events_closed_bodies (windows closed, body still there).
    deleteEvents: h.prepare<[]>(
      `DELETE FROM events WHERE keep_until = 0 AND body IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.event_row = events.id)
         AND NOT EXISTS (SELECT 1 FROM dlq WHERE dlq.event_row = events.id)
         AND NOT EXISTS (SELECT 1 FROM trail WHERE trail.event_row = events.id)`,
    ),
    dropEventBodies: h.prepare<[]>(
      `UPDATE events SET body = NULL WHERE keep_until = 0 AND body IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.event_row = events.id)
         AND NOT EXISTS (SELECT 1 FROM dlq WHERE dlq.event_row = events.id)`,
    ),
    ping: h.prepare<[], number>("SELECT 1").pluck(),
  };
}
