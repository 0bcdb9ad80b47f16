/**
 * The TrailStore contract (src/ports/trail.ts), as tests every adapter must pass unchanged.
 * Uses only the port; times are explicit values, so no clock is needed.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { TrailEntry, TrailStore } from "../../src/ports/trail.ts";

export interface TrailHarness {
  readonly trail: TrailStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, empty trail store for one test. */
export type TrailFactory = () => Promise<TrailHarness>;

const t0 = Date.UTC(2026, 0, 1);

export function trailConformance(name: string, make: TrailFactory): void {
  describe(`TrailStore conformance: ${name}`, () => {
    let harness: TrailHarness;
    let trail: TrailStore;

    beforeEach(async () => {
      harness = await make();
      trail = harness.trail;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("lists one event's entries in time order, then insertion order", async () => {
      const received: TrailEntry = { tenant: "acme", eventId: "e1", at: t0, stage: "received" };
      const routed: TrailEntry = { tenant: "acme", eventId: "e1", at: t0, stage: "routed" };
      const attempt: TrailEntry = {
        tenant: "acme",
        eventId: "e1",
        at: t0 + 50,
        stage: "attempt",
        attempt: 1,
      };
      const delivered: TrailEntry = { tenant: "acme", eventId: "e1", at: t0 + 100, stage: "delivered" };
      await trail.append([delivered]);
      await trail.append([received, routed]);
      await trail.append([attempt]);
      assert.deepEqual(await trail.list("acme", "e1"), [received, routed, attempt, delivered]);
    });

    it("keeps events and tenants apart", async () => {
      await trail.append([
        { tenant: "acme", eventId: "e1", at: t0, stage: "received" },
        { tenant: "acme", eventId: "e2", at: t0, stage: "received" },
        { tenant: "umbrella", eventId: "e1", at: t0, stage: "duplicate" },
      ]);
      assert.deepEqual(
        (await trail.list("umbrella", "e1")).map((e) => e.stage),
        ["duplicate"],
      );
      assert.equal((await trail.list("acme", "e1")).length, 1);
      assert.deepEqual(await trail.list("acme", "nope"), []);
    });

    it("round-trips every optional field and detail value type", async () => {
      const entry: TrailEntry = {
        tenant: "acme",
        eventId: "e1",
        at: t0,
        stage: "attempt",
        destination: "hook",
        attempt: 2,
        detail: {
          outcome: "retry",
          statusCode: 503,
          durationMs: 12.5,
          ok: false,
          reason: null,
          routes: ["r0", "r1"],
        },
      };
      const bare: TrailEntry = { tenant: "acme", eventId: "e1", at: t0 + 1, stage: "delayed" };
      await trail.append([entry, bare]);
      const [first, second] = await trail.list("acme", "e1");
      assert.deepEqual(first, entry);
      assert.deepEqual(second, bare);
      assert.equal(second !== undefined && "destination" in second, false, "absent fields stay absent");
    });

    it("accepts concurrent and empty appends", async () => {
      await trail.append([]);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          trail.append([{ tenant: "acme", eventId: "e1", at: t0 + i, stage: "attempt", attempt: i }]),
        ),
      );
      const attempts = (await trail.list("acme", "e1")).map((e) => e.attempt);
      assert.deepEqual(
        attempts,
        Array.from({ length: 100 }, (_, i) => i),
      );
    });

    it("prunes entries older than the cutoff and answers how many", async () => {
      await trail.append([
        { tenant: "acme", eventId: "e1", at: t0, stage: "received" },
        { tenant: "acme", eventId: "e1", at: t0 + 10, stage: "routed" },
        { tenant: "acme", eventId: "e2", at: t0 + 20, stage: "received" },
      ]);
      assert.equal(await trail.prune(t0 + 10), 1);
      assert.equal(await trail.prune(t0 + 10), 0);
      assert.deepEqual(
        (await trail.list("acme", "e1")).map((e) => e.stage),
        ["routed"],
      );
      assert.equal(await trail.prune(t0 + 1_000), 2);
      assert.deepEqual(await trail.list("acme", "e2"), []);
    });
  });
}
