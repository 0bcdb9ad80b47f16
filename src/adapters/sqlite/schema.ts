/**
 * The SQLite schema, as an append-only list of migrations. `PRAGMA user_version` records how many
 * have been applied; opening a database applies the missing ones in one transaction. Never edit a
 * shipped migration: add a new one.
 *
 * Layout (all timestamps are integer ms since the epoch, from the injected clock):
 * - `dedupe_keys`: intake dedupe keys; live while `expires_at > now`.
 * - `events`: one row per accepted submission, shared by its fan-out jobs and DLQ entries. Keyed by an
 *   internal row id (not by event id) so two sources of one tenant may reuse an event id safely, and a
 *   resubmission after the dedupe TTL gets its own row. `keep_until` = the dedupe key's expiry: the
 *   event stays readable (trail views) at least that long, then goes once nothing references it.
 * - `jobs`: one row per pending delivery. `due_at` is when the scheduler must look at the row next:
 *   `run_at` while ready, the lease expiry while leased; one index on it serves lease and nextWakeAt.
 *   `expired_leases` counts lease expiries for poison-pill detection (releases do not count).
 * - `dlq`: dead-lettered deliveries, denormalized so filters need no join.
 * - `key_store`: the KeyStore port (nonces, Idempotency-Key results).
 * - `trail`: the TrailStore port, in insertion order (`id`).
 */
import type BetterSqlite3 from "better-sqlite3";
import { ZenError } from "../../domain/errors.ts";

const migrations: readonly string[] = [
  `
  CREATE TABLE dedupe_keys (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX dedupe_keys_expiry ON dedupe_keys (expires_at);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
  );
  CREATE INDEX events_by_event_id ON events (tenant, event_id);
  CREATE INDEX events_keep_until ON events (keep_until);

  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_row INTEGER NOT NULL,
    destination TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ready', 'leased')),
    run_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    lease_token TEXT,
    lease_count INTEGER NOT NULL DEFAULT 0,
    expired_leases INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    enqueued_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (due_at);
  CREATE INDEX jobs_event ON jobs (event_row);

  CREATE TABLE dlq (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_row INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    event_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    enqueued_at INTEGER NOT NULL,
    failed_at INTEGER NOT NULL
  );
  CREATE INDEX dlq_recent ON dlq (failed_at, id);
  CREATE INDEX dlq_event ON dlq (event_row);

  CREATE TABLE key_store (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX key_store_expiry ON key_store (expires_at);

  CREATE TABLE trail (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    stage TEXT NOT NULL,
    destination TEXT,
    attempt INTEGER,
    detail TEXT
  );
  CREATE INDEX trail_event ON trail (tenant, event_id, at);
  CREATE INDEX trail_at ON trail (at);
  `,
];

/** The schema version this build writes (`PRAGMA user_version`). */
export const schemaVersion = migrations.length;

/**
 * Brings the schema up to {@link schemaVersion}. Idempotent.
 * @throws ZenError `store_unavailable` when the file was written by a newer build (downgrade).
 */
export function migrate(db: BetterSqlite3.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > schemaVersion) {
    throw new ZenError(
      "store_unavailable",
      `database schema version ${current} is newer than this build supports (${schemaVersion}); run a newer zen`,
    );
  }
  if (current === schemaVersion) return;
  db.transaction(() => {
    for (const sql of migrations.slice(current)) db.exec(sql);
    // PRAGMA does not take bound parameters; schemaVersion is our own integer.
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}
