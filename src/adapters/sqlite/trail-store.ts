/** The event trail in the shared SQLite file. Appends are group-committed with every other write. */
import type BetterSqlite3 from "better-sqlite3";
import type { TrailEntry, TrailStage, TrailStore } from "../../ports/trail.ts";
import type { SqliteDatabase } from "./database.ts";

interface TrailRow {
  readonly tenant: string;
  readonly event_id: string;
  readonly at: number;
  readonly stage: string;
  readonly destination: string | null;
  readonly attempt: number | null;
  readonly detail: string | null;
}

/**
 * Prepares the trail INSERT on `db` and returns a synchronous writer. For use inside a batched write
 * (the queue records a submission's trail in the enqueue transaction).
 */
export function prepareTrailWriter(db: SqliteDatabase): (entries: readonly TrailEntry[]) => void {
  const insert = db.handle.prepare<
    [string, string, number, string, string | null, number | null, string | null]
  >(
    "INSERT INTO trail (tenant, event_id, at, stage, destination, attempt, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  return (entries) => {
    for (const e of entries) {
      insert.run(
        e.tenant,
        e.eventId,
        e.at,
        e.stage,
        e.destination ?? null,
        e.attempt ?? null,
        e.detail === undefined ? null : JSON.stringify(e.detail),
      );
    }
  };
}

export interface SqliteTrailStoreOptions {
  /** The shared store file (see `openDatabase`). Not closed by {@link SqliteTrailStore.close}. */
  readonly db: SqliteDatabase;
}

/** TrailStore on the shared file, listed by (at, insertion order). */
export class SqliteTrailStore implements TrailStore {
  private readonly db: SqliteDatabase;
  private readonly write: (entries: readonly TrailEntry[]) => void;
  private readonly selectByEvent: BetterSqlite3.Statement<[string, string], TrailRow>;
  private readonly deleteBefore: BetterSqlite3.Statement<[number]>;

  constructor(options: SqliteTrailStoreOptions) {
    this.db = options.db;
    this.write = prepareTrailWriter(options.db);
    this.selectByEvent = options.db.handle.prepare<[string, string], TrailRow>(
      `SELECT tenant, event_id, at, stage, destination, attempt, detail FROM trail
       WHERE tenant = ? AND event_id = ? ORDER BY at, id`,
    );
    this.deleteBefore = options.db.handle.prepare<[number]>("DELETE FROM trail WHERE at < ?");
  }

  /** Resolves once the entries are committed. */
  async append(entries: readonly TrailEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.batcher.submit(() => this.write(entries));
  }

  async list(tenant: string, eventId: string): Promise<readonly TrailEntry[]> {
    return this.selectByEvent.all(tenant, eventId).map(toTrailEntry);
  }

  async prune(olderThanMs: number): Promise<number> {
    return this.db.batcher.submit(() => this.deleteBefore.run(olderThanMs).changes);
  }

  /** Commits pending writes; the shared handle stays open (`SqliteDatabase.close` closes it). */
  async close(): Promise<void> {
    if (this.db.handle.open) this.db.batcher.flush();
  }
}

function toTrailEntry(row: TrailRow): TrailEntry {
  return {
    tenant: row.tenant,
    eventId: row.event_id,
    at: row.at,
    // Only our own code writes this column, always from the TrailStage union.
    stage: row.stage as TrailStage,
    ...(row.destination === null ? {} : { destination: row.destination }),
    ...(row.attempt === null ? {} : { attempt: row.attempt }),
    ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as TrailEntry["detail"] }),
  };
}
