/** Runs the port conformance suites against the SQLite adapters, each test on a fresh file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStores, type SqliteStores } from "../../src/adapters/sqlite/stores.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { keyStoreConformance } from "./key-store.conformance.ts";
import { queueConformance } from "./queue.conformance.ts";
import { trailConformance } from "./trail.conformance.ts";

/** Opens the stores on a new temp dir; `cleanup` closes the file and removes the dir. */
function openFresh(clock?: Clock): { stores: SqliteStores; cleanup(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), "zen-sqlite-conformance-"));
  const stores = openSqliteStores({ dir, clock });
  return {
    stores,
    async cleanup() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

queueConformance("sqlite", async (clock) => {
  const { stores, cleanup } = openFresh(clock);
  return { queue: stores.queue, trail: stores.trail, cleanup };
});

keyStoreConformance("sqlite", async (clock) => {
  const { stores, cleanup } = openFresh(clock);
  return { keyStore: stores.keyStore, cleanup };
});

trailConformance("sqlite", async () => {
  const { stores, cleanup } = openFresh();
  return { trail: stores.trail, cleanup };
});
