/** Wiring helper: one store file, and the queue, key store and trail store that share it. */
import type { Clock } from "../../ports/clock.ts";
import { type OpenDatabaseOptions, openDatabase, type SqliteDatabase } from "./database.ts";
import { SqliteKeyStore } from "./key-store.ts";
import { SqliteQueue } from "./queue.ts";
import { SqliteTrailStore } from "./trail-store.ts";

/** The three SQLite stores on one file; close through `close` (it owns the file). */
export interface SqliteStores {
  readonly database: SqliteDatabase;
  readonly queue: SqliteQueue;
  readonly keyStore: SqliteKeyStore;
  readonly trail: SqliteTrailStore;
  /** Commits pending writes and closes the file. */
  close(): Promise<void>;
}

/** Opens `<dir>/zen.db` (see {@link openDatabase}) and builds the three stores on it. */
export function openSqliteStores(options: OpenDatabaseOptions & { readonly clock?: Clock }): SqliteStores {
  const database = openDatabase(options);
  const queue = new SqliteQueue({ db: database, clock: options.clock });
  const keyStore = new SqliteKeyStore({ db: database, clock: options.clock });
  const trail = new SqliteTrailStore({ db: database });
  return {
    database,
    queue,
    keyStore,
    trail,
    async close() {
      await queue.close();
      await database.close();
    },
  };
}
