/**
 * The SQLite stores on a worker thread (`ZEN_SQLITE_WORKER`, default off): the same file, schema and
 * adapters as stores.ts, but every statement, transaction, checkpoint and fsync runs on the worker,
 * so the main thread only parses, verifies and answers requests. The ports' semantics are the
 * in-thread adapters' own (the worker runs them); test/conformance/sqlite-worker.test.ts proves it.
 *
 * Cost model: each call is a structured clone each way; calls and replies are batched per turn of
 * the event loop on both sides, so one `postMessage` carries a whole group commit's worth of calls.
 */
import { Worker } from "node:worker_threads";
import type { ZenError } from "../../../domain/errors.ts";
import { type Clock, systemClock } from "../../../ports/clock.ts";
import type { OpenDatabaseOptions } from "../database.ts";
import type { StoreWorkerData } from "./protocol.ts";
import { RemoteKeyStore } from "./remote-key-store.ts";
import { RemoteQueue } from "./remote-queue.ts";
import { RemoteTrailStore } from "./remote-trail-store.ts";
import { StoreChannel } from "./store-channel.ts";

const workerEntry = new URL("./store-worker.ts", import.meta.url);

export interface SqliteWorkerStoresOptions extends OpenDatabaseOptions {
  /**
   * Default: the system clock, read by the worker itself. Any other clock (a test's FakeClock) is
   * bridged: its time is sent with every batch of calls and the worker's stores read that.
   */
  readonly clock?: Clock;
  /**
   * Told once if the worker dies while the store is open (a native crash, an uncaught error): every
   * call then rejects with ZenError `store_unavailable` and `queue.ping()` answers false.
   */
  readonly onCrash?: (error: ZenError) => void;
}

/** The three stores on one file in a worker thread; close through `close` (it owns the worker). */
export interface SqliteWorkerStores {
  readonly queue: RemoteQueue;
  readonly keyStore: RemoteKeyStore;
  readonly trail: RemoteTrailStore;
  /** Commits pending writes, closes the file, then ends the worker. */
  close(): Promise<void>;
}

/**
 * Starts the store worker and opens `<dir>/zen.db` in it (see `openDatabase`). Resolves once the
 * file is open and migrated.
 * @throws ZenError `store_unavailable` when the worker cannot start or the file's schema is newer
 *   than this build (the error `openDatabase` raises, rebuilt on this side).
 */
export async function openSqliteWorkerStores(
  options: SqliteWorkerStoresOptions,
): Promise<SqliteWorkerStores> {
  const { clock, onCommit, onCrash, ...database } = options;
  const bridgedClock = clock === undefined || clock === systemClock ? undefined : clock;
  const data: StoreWorkerData = {
    database,
    reportCommits: onCommit !== undefined,
    ...(bridgedClock && { bridgedClockStartMs: bridgedClock.now() }),
  };
  const worker = startWorker(data);
  const channel = new StoreChannel(worker, { bridgedClock, onCommit, onCrash });
  try {
    await channel.ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const queue = new RemoteQueue(channel);
  return {
    queue,
    keyStore: new RemoteKeyStore(channel),
    trail: new RemoteTrailStore(channel),
    async close() {
      try {
        await queue.close();
      } finally {
        await channel.close();
      }
    },
  };
}

/**
 * Node 20 does not apply the parent's module hooks to worker threads, so the TypeScript loader the
 * service runs under (tsx) is registered inside the worker before its entry is imported. The tsx
 * module is resolved here, against this file, so the worker finds it whatever the working directory.
 */
function startWorker(data: StoreWorkerData): Worker {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => {
    register();
    return import(${JSON.stringify(workerEntry.href)});
  });`;
  return new Worker(bootstrap, { eval: true, workerData: data, name: "zen-sqlite-store" });
}
