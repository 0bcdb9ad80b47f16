/**
 * The intake write alone, through the real SQLite adapter: how many µs of the event loop one accepted
 * event costs in the store (dedupe claim, event row, intake trail, group commit, WAL flush), without
 * HTTP, verification or a load generator. For schema and tuning experiments; `npm run bench` measures
 * the whole service.
 *
 *   npx tsx bench/store-bench.ts   # STORE_EVENTS (200 000), STORE_WAVE (32), STORE_ROUTES (0), STORE_TRAIL_ROWS (1),
 *                                  # STORE_CHECKPOINTS (background | inline), STORE_PRAGMA (one pragma)
 *
 * Events have random UUID ids (as GitHub's deliveries do) and ~1 KB of data; they are submitted in
 * waves of STORE_WAVE concurrent enqueues (one wave ≈ one group commit, as 64 connections give), each
 * wave awaited before the next. Reports events/s, main-thread CPU µs per event, wave latency
 * percentiles, and the file sizes at the end.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openSqliteStores } from "../src/adapters/sqlite/stores.ts";
import type { ZenEvent } from "../src/domain/event.ts";
import { deliveryIdempotencyKey } from "../src/domain/idempotency.ts";
import type { Submission } from "../src/ports/queue.ts";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const events = envInt("STORE_EVENTS", 200_000);
const wave = envInt("STORE_WAVE", 32);
const routes = envInt("STORE_ROUTES", 0);
/** Intake trail entries per event: 2 = `received` + `routed` (schema v1's intake), 1 = one `received`. */
const trailRows = envInt("STORE_TRAIL_ROWS", 1);
const tenant = "bench";
const source = "gh";
const filler = "x".repeat(900);

function submission(now: number): Submission {
  const id = randomUUID();
  const destinations = Array.from({ length: routes }, (_, i) => `sink${i}`);
  const event: ZenEvent = {
    id,
    tenant,
    source,
    type: "push",
    data: { ref: "refs/heads/main", delivery: id, filler },
    headers: { "x-github-event": "push", "x-github-delivery": id },
    receivedAt: new Date(now).toISOString(),
  };
  return {
    event,
    dedupeTtlMs: 24 * 3_600_000,
    deliveries: destinations.map((destination) => ({
      destination,
      idempotencyKey: deliveryIdempotencyKey(tenant, destination, id),
    })),
    trail:
      trailRows === 2
        ? [
            { tenant, eventId: id, at: now, stage: "received", detail: { source, type: "push" } },
            { tenant, eventId: id, at: now, stage: "routed", detail: { routes: [], destinations } },
          ]
        : [
            {
              tenant,
              eventId: id,
              at: now,
              stage: "received",
              detail: { source, type: "push", routes: [], destinations },
            },
          ],
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const dir = mkdtempSync(join(tmpdir(), "zen-store-bench-"));
const checkpoints = process.env.STORE_CHECKPOINTS === "inline" ? "inline" : "background";
const stores = openSqliteStores({ dir, checkpoints });
if (process.env.STORE_PRAGMA) stores.database.handle.pragma(process.env.STORE_PRAGMA);
try {
  const waveMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();
  for (let done = 0; done < events; done += wave) {
    const now = Date.now();
    const batch = Array.from({ length: Math.min(wave, events - done) }, () => submission(now));
    const t0 = performance.now();
    const results = await Promise.all(batch.map((s) => stores.queue.enqueue(s)));
    waveMs.push(performance.now() - t0);
    if (results.some((r) => r.status !== "enqueued")) throw new Error("unexpected duplicate");
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const loop = performance.eventLoopUtilization(loopBefore);
  waveMs.sort((a, b) => a - b);
  const size = (suffix: string) => {
    try {
      return (statSync(join(dir, `zen.db${suffix}`)).size / 2 ** 20).toFixed(1);
    } catch {
      return "0";
    }
  };
  console.log(
    JSON.stringify({
      events,
      wave,
      routes,
      eventsPerSecond: Math.round(events / seconds),
      wallUsPerEvent: +((seconds * 1e6) / events).toFixed(1),
      checkpoints,
      cpuUsPerEvent: +((cpu.user + cpu.system) / events).toFixed(1),
      // The event loop's busy time (all of the main thread's work, blocking waits included).
      loopUsPerEvent: +((loop.active * 1000) / events).toFixed(1),
      waveMs: {
        p50: +percentile(waveMs, 50).toFixed(2),
        p99: +percentile(waveMs, 99).toFixed(2),
        max: +(waveMs.at(-1) ?? 0).toFixed(2),
      },
      dbMiB: size(""),
      walMiB: size("-wal"),
      checkpointer: stores.database.checkpointer?.stats,
    }),
  );
} finally {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
}
