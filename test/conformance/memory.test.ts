/** Runs the port conformance suites against the in-memory adapters. */
import { MemoryKeyStore } from "../../src/adapters/memory/key-store.ts";
import { MemoryQueue } from "../../src/adapters/memory/queue.ts";
import { MemoryRateLimitStore } from "../../src/adapters/memory/rate-limit-store.ts";
import { MemoryTrailStore } from "../../src/adapters/memory/trail-store.ts";
import { keyStoreConformance } from "./key-store.conformance.ts";
import { queueConformance } from "./queue.conformance.ts";
import { rateLimitStoreConformance } from "./rate-limit-store.conformance.ts";
import { trailConformance } from "./trail.conformance.ts";

queueConformance("memory", async (clock) => {
  const trail = new MemoryTrailStore();
  const queue = new MemoryQueue({ clock, trail });
  return { queue, trail, cleanup: () => queue.close() };
});

keyStoreConformance("memory", async (clock) => {
  const keyStore = new MemoryKeyStore({ clock });
  return { keyStore, cleanup: () => keyStore.close() };
});

trailConformance("memory", async () => {
  const trail = new MemoryTrailStore();
  return { trail, cleanup: () => trail.close() };
});

rateLimitStoreConformance("memory", async (clock) => {
  const store = new MemoryRateLimitStore({ clock });
  return { store, cleanup: () => store.close() };
});
