/** Row shapes of the SQLite tables and their mapping to the port types. */
import type { DeliveryReason } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import type { DlqEntry, Job } from "../../ports/queue.ts";

/** A `jobs` row joined with its `events` row's identity columns. */
export interface JobRow {
  readonly id: number;
  readonly event_row: number;
  readonly tenant: string;
  readonly source: string;
  readonly event_id: string;
  readonly destination: string;
  readonly idempotency_key: string;
  readonly state: "ready" | "leased";
  readonly run_at: number;
  readonly due_at: number;
  readonly lease_token: string | null;
  readonly lease_count: number;
  readonly expired_leases: number;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly enqueued_at: number;
}

/** Column list matching {@link JobRow}, for `FROM jobs j JOIN events e ON e.id = j.event_row`. */
export const jobColumns = `j.id, j.event_row, e.tenant, e.source, e.event_id, j.destination, j.idempotency_key,
  j.state, j.run_at, j.due_at, j.lease_token, j.lease_count, j.expired_leases, j.attempts, j.last_error,
  j.enqueued_at`;

/** A `dlq` row. */
export interface DlqRow {
  readonly id: number;
  readonly event_row: number;
  readonly tenant: string;
  readonly source: string;
  readonly destination: string;
  readonly event_id: string;
  readonly idempotency_key: string;
  readonly reason: string;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly enqueued_at: number;
  readonly failed_at: number;
}

/** A job row as the port's `Job` (ids become strings; a null error is omitted). */
export function toJob(row: JobRow): Job {
  return {
    id: String(row.id),
    tenant: row.tenant,
    source: row.source,
    destination: row.destination,
    eventId: row.event_id,
    idempotencyKey: row.idempotency_key,
    attempts: row.attempts,
    leaseCount: row.lease_count,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}

/** A DLQ row as the port's `DlqEntry`. */
export function toDlqEntry(row: DlqRow): DlqEntry {
  return {
    id: String(row.id),
    tenant: row.tenant,
    source: row.source,
    destination: row.destination,
    eventId: row.event_id,
    idempotencyKey: row.idempotency_key,
    // Only our own code writes this column, always from the DeliveryReason union.
    reason: row.reason as DeliveryReason,
    attempts: row.attempts,
    lastError: row.last_error,
    enqueuedAt: row.enqueued_at,
    failedAt: row.failed_at,
  };
}

/** Events are stored as the JSON the intake produced; this is the one place they are parsed back. */
export function parseEvent(body: string): ZenEvent {
  return JSON.parse(body) as ZenEvent;
}

/**
 * Our ids are positive integers rendered as strings; anything else names no row. Returns undefined
 * for ids that cannot be ours, so lookups answer "not found" instead of throwing.
 */
export function parseRowId(id: string): number | undefined {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}
