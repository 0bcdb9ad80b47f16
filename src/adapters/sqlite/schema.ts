/**
 * The SQLite schema, as an append-only list of migrations. `PRAGMA user_version` records how many
 * have been applied; opening a database applies the missing ones in one transaction. Never edit a
 * shipped migration: add a new one.
 *
 * Layout since v2 (all timestamps are integer ms since the epoch, from the injected clock). The intake
 * write is the hot path (one per accepted webhook, `synchronous=full`), so it touches exactly one
 * B-tree at a random position (`events_identity`, keyed by the provider's event id); every other insert
 * appends at the end of its table or index, where one commit dirties few pages.
 * - `events`: one row per accepted submission, shared by its fan-out jobs, DLQ entries and trail. Keyed
 *   by an internal row id (not by event id) so two sources of one tenant may reuse an event id safely,
 *   and a resubmission after the dedupe window gets its own row. `events_identity (tenant, event_id,
 *   source)` is the one lookup index: it answers the dedupe check (a row whose `keep_until > now` is a
 *   live dedupe key), event lookups and trail lookups. `keep_until` = end of the dedupe window; prune
 *   sets it to 0 when the window has closed (so each closed key is counted once). `body` (the event
 *   JSON) is dropped once nothing needs it; the row itself stays while trail rows refer to it. A row
 *   with `source IS NULL` is a trail-only identity: trail entries appended for an event never stored.
 * - `jobs`: one row per pending delivery. `due_at` is when the scheduler must look at the row next:
 *   `run_at` while ready, the lease expiry while leased; one index on it serves lease and nextWakeAt.
 *   `expired_leases` counts lease expiries for poison-pill detection (releases do not count).
 * - `dlq`: dead-lettered deliveries, denormalized so filters need no join.
 * - `key_store`: the KeyStore port (nonces, Idempotency-Key results).
 * - `trail`: the TrailStore port, in insertion order (`id`), each row under its event's row id.
 *
 * v1 (the first layout) had a separate `dedupe_keys` table keyed by sha256 and trail rows keyed by
 * (tenant, event_id): three random-position inserts per event instead of one. v2 carries every row over.
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
  // v2: dedupe through the events' identity index; trail rows under their event's row id.
  `
  CREATE TABLE events_v2 (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT,
    event_id TEXT NOT NULL,
    body TEXT,
    created_at INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
  );
  INSERT INTO events_v2 (id, tenant, source, event_id, body, created_at, keep_until)
    SELECT id, tenant, source, event_id, body, created_at, keep_until FROM events;
  -- Trail entries of events no longer (or never) stored keep an identity row, as the trail needs one.
  INSERT INTO events_v2 (tenant, source, event_id, body, created_at, keep_until)
    SELECT tenant, NULL, event_id, NULL, MIN(at), 0 FROM trail t
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant = t.tenant AND e.event_id = t.event_id)
    GROUP BY tenant, event_id;
  CREATE INDEX events_identity ON events_v2 (tenant, event_id, source);

  CREATE TABLE trail_v2 (
    id INTEGER PRIMARY KEY,
    event_row INTEGER NOT NULL,
    at INTEGER NOT NULL,
    stage TEXT NOT NULL,
    destination TEXT,
    attempt INTEGER,
    detail TEXT
  );
  INSERT INTO trail_v2 (id, event_row, at, stage, destination, attempt, detail)
    SELECT t.id,
      (SELECT MAX(e.id) FROM events_v2 e WHERE e.tenant = t.tenant AND e.event_id = t.event_id),
      t.at, t.stage, t.destination, t.attempt, t.detail
    FROM trail t;

  DROP TABLE trail;
  DROP TABLE events;
  DROP TABLE dedupe_keys;
  ALTER TABLE events_v2 RENAME TO events;
  ALTER TABLE trail_v2 RENAME TO trail;
  -- Windows still open (keep_until > 0): what prune closes. Rows whose body can go once unreferenced.
  CREATE INDEX events_open_windows ON events (keep_until) WHERE keep_until > 0;
  CREATE INDEX events_closed_bodies ON events (id) WHERE keep_until = 0 AND body IS NOT NULL;
  CREATE INDEX events_without_body ON events (id) WHERE body IS NULL;
  CREATE INDEX trail_event ON trail (event_row);
  CREATE INDEX trail_at ON trail (at);
  `,
];

/** The schema version this build writes (`PRAGMA user_version`). */
export const schemaVersion = migrations.length;

/**
 * Brings the schema up to {@link schemaVersion} (or `target`, for migration tests). Idempotent.
 * @throws ZenError `store_unavailable` when the file was written by a newer build (downgrade).
 */
export function migrate(db: BetterSqlite3.Database, target: number = schemaVersion): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > schemaVersion) {
    throw new ZenError(
      "store_unavailable",
      `database schema version ${current} is newer than this build supports (${schemaVersion}); run a newer zen`,
    );
  }
  if (current >= target) return;
  db.transaction(() => {
    for (const sql of migrations.slice(current, target)) db.exec(sql);
    // PRAGMA does not take bound parameters; target is our own integer.
    db.pragma(`user_version = ${Math.trunc(target)}`);
  }).immediate();
}
