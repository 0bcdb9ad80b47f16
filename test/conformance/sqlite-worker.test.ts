/**
 * Runs the port conformance suites against the SQLite stores on a worker thread, each test on a fresh
 * file and worker. The suites' FakeClock lives on this thread: the adapter bridges it (its time is
 * sent with every batch of calls), as it does for any injected clock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  openSqliteWorkerStores,
  type SqliteWorkerStores,
} from "../../src/adapters/sqlite/worker/worker-stores.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { keyStoreConformance } from "./key-store.conformance.ts";
import { queueConformance } from "./queue.conformance.ts";
import { trailConformance } from "./trail.conformance.ts";

/** Opens the stores on a new temp dir; `cleanup` closes the file, ends the worker and removes the dir. */
async function openFresh(clock?: Clock): Promise<{ stores: SqliteWorkerStores; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "zen-sqlite-worker-conformance-"));
  const stores = await openSqliteWorkerStores({ dir, clock });
  return {
    stores,
    async cleanup() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

queueConformance("sqlite worker", async (clock) => {
  const { stores, cleanup } = await openFresh(clock);
  return { queue: stores.queue, trail: stores.trail, cleanup };
});

keyStoreConformance("sqlite worker", async (clock) => {
  const { stores, cleanup } = await openFresh(clock);
  return { keyStore: stores.keyStore, cleanup };
});

trailConformance("sqlite worker", async () => {
  const { stores, cleanup } = await openFresh();
  return { trail: stores.trail, cleanup };
});
