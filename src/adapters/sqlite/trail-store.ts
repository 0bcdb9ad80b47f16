/**
 * The event trail in the shared SQLite file. Appends are group-committed with every other write.
 *
 * Each trail row hangs under its event's row in `events` (`event_row`), not under (tenant, event id):
 * the intake entries are written with the event, under the row id it just got, so they append at the
 * end of the table and of `trail_event` instead of landing at a random place in a text index. Entries
 * appended later (attempts, duplicates, replays) find the event's newest row through `events_identity`
 * (a read); an entry for an event that was never stored gets a trail-only identity row.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { TrailEntry, TrailStage, TrailStore } from "../../ports/trail.ts";
import type { SqliteDatabase } from "./database.ts";

interface TrailRow {
  readonly at: number;
  readonly stage: string;
  readonly destination: string | null;
  readonly attempt: number | null;
  readonly detail: string | null;
}

/**
 * Synchronous trail writes, for use inside a batched write (the queue records a submission's trail
 * in the enqueue transaction, a replay's in the replay transaction).
 */
export class TrailWriter {
  private readonly insert: BetterSqlite3.Statement<
    [number, number, string, string | null, number | null, string | null]
  >;
  private readonly newestRow: BetterSqlite3.Statement<[string, string], number | null>;
  private readonly insertIdentity: BetterSqlite3.Statement<[string, string, number]>;

  constructor(handle: BetterSqlite3.Database) {
    this.insert = handle.prepare(
      "INSERT INTO trail (event_row, at, stage, destination, attempt, detail) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.newestRow = handle
      .prepare<[string, string], number | null>(
        "SELECT MAX(id) FROM events WHERE tenant = ? AND event_id = ?",
      )
      .pluck();
    // keep_until 0: a trail-only row is no dedupe key; body NULL: there is no event to show.
    this.insertIdentity = handle.prepare(
      "INSERT INTO events (tenant, source, event_id, body, created_at, keep_until) VALUES (?, NULL, ?, NULL, ?, 0)",
    );
  }

  /** Records entries under a known event row (they must all name that row's tenant and event id). */
  forEventRow(eventRow: number, entries: readonly TrailEntry[]): void {
    for (const e of entries) {
      this.insert.run(
        eventRow,
        e.at,
        e.stage,
        e.destination ?? null,
        e.attempt ?? null,
        e.detail === undefined ? null : JSON.stringify(e.detail),
      );
    }
  }

  /** Records entries under the newest row of their (tenant, event id), creating one if there is none. */
  append(entries: readonly TrailEntry[]): void {
    let last: { tenant: string; eventId: string; row: number } | undefined;
    for (const e of entries) {
      if (last?.tenant !== e.tenant || last.eventId !== e.eventId) {
        const row =
          this.newestRow.get(e.tenant, e.eventId) ??
          Number(this.insertIdentity.run(e.tenant, e.eventId, e.at).lastInsertRowid);
        last = { tenant: e.tenant, eventId: e.eventId, row };
      }
      this.forEventRow(last.row, [e]);
    }
  }
}

export interface SqliteTrailStoreOptions {
  /** The shared store file (see `openDatabase`). Not closed by {@link SqliteTrailStore.close}. */
  readonly db: SqliteDatabase;
}

/** TrailStore on the shared file, listed by (at, insertion order). */
export class SqliteTrailStore implements TrailStore {
  private readonly db: SqliteDatabase;
  private readonly writer: TrailWriter;
  private readonly selectByEvent: BetterSqlite3.Statement<[string, string], TrailRow>;
  private readonly deleteBefore: BetterSqlite3.Statement<[number]>;
  private readonly deleteOrphanIdentities: BetterSqlite3.Statement<[]>;

  constructor(options: SqliteTrailStoreOptions) {
    this.db = options.db;
    this.writer = new TrailWriter(options.db.handle);
    this.selectByEvent = options.db.handle.prepare<[string, string], TrailRow>(
      `SELECT t.at, t.stage, t.destination, t.attempt, t.detail FROM events e JOIN trail t ON t.event_row = e.id
       WHERE e.tenant = ? AND e.event_id = ? ORDER BY t.at, t.id`,
    );
    this.deleteBefore = options.db.handle.prepare<[number]>("DELETE FROM trail WHERE at < ?");
    // A row without body is kept only for its trail (see queue prune); with the trail gone, it goes.
    this.deleteOrphanIdentities = options.db.handle.prepare<[]>(
      `DELETE FROM events WHERE body IS NULL
         AND NOT EXISTS (SELECT 1 FROM trail WHERE trail.event_row = events.id)`,
    );
  }

  /** Resolves once the entries are committed. */
  async append(entries: readonly TrailEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.batcher.submit(() => this.writer.append(entries));
  }

  async list(tenant: string, eventId: string): Promise<readonly TrailEntry[]> {
    return this.selectByEvent.all(tenant, eventId).map((row) => toTrailEntry(tenant, eventId, row));
  }

  async prune(olderThanMs: number): Promise<number> {
    return this.db.batcher.submit(() => {
      const pruned = this.deleteBefore.run(olderThanMs).changes;
      if (pruned > 0) this.deleteOrphanIdentities.run();
      return pruned;
    });
  }

  /** Commits pending writes; the shared handle stays open (`SqliteDatabase.close` closes it). */
  async close(): Promise<void> {
    if (this.db.handle.open) this.db.batcher.flush();
  }
}

function toTrailEntry(tenant: string, eventId: string, row: TrailRow): TrailEntry {
  return {
    tenant,
    eventId,
    at: row.at,
    // Only our own code writes this column, always from the TrailStage union.
    stage: row.stage as TrailStage,
    ...(row.destination === null ? {} : { destination: row.destination }),
    ...(row.attempt === null ? {} : { attempt: row.attempt }),
    ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as TrailEntry["detail"] }),
  };
}
