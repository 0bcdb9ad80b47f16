/**
 * The RateLimitStore contract (src/ports/rate-limit-store.ts), as tests every adapter must pass
 * unchanged. Driven by a FakeClock; no sleeps; uses only the port.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { BucketPolicy, TakeResult } from "../../src/domain/token-bucket.ts";
import { FakeClock } from "../../src/ports/clock.ts";
import type { RateLimitStore } from "../../src/ports/rate-limit-store.ts";

export interface RateLimitStoreHarness {
  readonly store: RateLimitStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, empty store on `clock` for one test. */
export type RateLimitStoreFactory = (clock: FakeClock) => Promise<RateLimitStoreHarness>;

/** 5 tokens, one every 500 ms. */
const small: BucketPolicy = { capacity: 5, refillPerSecond: 2 };

function retryAfter(result: TakeResult): number | undefined {
  return result.granted ? undefined : result.retryAfterMs;
}

export function rateLimitStoreConformance(name: string, make: RateLimitStoreFactory): void {
  describe(`RateLimitStore conformance: ${name}`, () => {
    let clock: FakeClock;
    let harness: RateLimitStoreHarness;
    let store: RateLimitStore;

    async function takeMany(key: string, policy: BucketPolicy, n: number): Promise<number> {
      let granted = 0;
      for (let i = 0; i < n; i++) if ((await store.take(key, policy)).granted) granted++;
      return granted;
    }

    beforeEach(async () => {
      clock = new FakeClock();
      harness = await make(clock);
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("grants up to capacity at once, then refuses with the time until the next token", async () => {
      assert.equal(await takeMany("t:d", small, 5), 5);
      const refused = await store.take("t:d", small);
      assert.equal(refused.granted, false);
      assert.equal(retryAfter(refused), 500);
    });

    it("refills over time, exactly when it said, and never beyond capacity", async () => {
      await takeMany("t:d", small, 5);
      clock.advance(499);
      assert.equal(retryAfter(await store.take("t:d", small)), 1);
      clock.advance(1);
      assert.equal((await store.take("t:d", small)).granted, true);
      assert.equal(retryAfter(await store.take("t:d", small)), 500);
      clock.advance(3_600_000);
      assert.equal(await takeMany("t:d", small, 10), 5, "an hour of quiet refills to capacity, no more");
    });

    it("takes several tokens at once and waits for all of them", async () => {
      assert.equal((await store.take("t:d", small, 4)).granted, true);
      const refused = await store.take("t:d", small, 3);
      assert.equal(retryAfter(refused), 1_000, "holds 1, needs 3: two more tokens at 2/s");
      assert.equal((await store.take("t:d", small, 1)).granted, true, "a refusal takes nothing");
      clock.advance(1_000);
      assert.equal((await store.take("t:d", small, 2)).granted, true);
    });

    it("handles fractional refill rates", async () => {
      const slow: BucketPolicy = { capacity: 1, refillPerSecond: 0.4 };
      assert.equal((await store.take("k", slow)).granted, true);
      assert.equal(retryAfter(await store.take("k", slow)), 2_500);
      clock.advance(2_499);
      assert.equal(retryAfter(await store.take("k", slow)), 1);
      clock.advance(1);
      assert.equal((await store.take("k", slow)).granted, true);
    });

    it("keeps keys independent", async () => {
      assert.equal(await takeMany("acme:slack", small, 6), 5);
      assert.equal(await takeMany("acme:jira", small, 6), 5);
      assert.equal(await takeMany("other:slack", small, 6), 5);
      assert.equal(await store.size(), 3);
    });

    it("applies each key's own policy, and the policy passed on each call", async () => {
      const tight: BucketPolicy = { capacity: 2, refillPerSecond: 1 };
      const loose: BucketPolicy = { capacity: 8, refillPerSecond: 100 };
      assert.equal(await takeMany("a", tight, 10), 2);
      assert.equal(retryAfter(await store.take("a", tight)), 1_000);
      assert.equal(await takeMany("b", loose, 10), 8);
      assert.equal(retryAfter(await store.take("b", loose)), 10);

      // A lowered capacity trims a fuller bucket at once.
      clock.advance(60_000);
      assert.equal(await takeMany("b", { capacity: 3, refillPerSecond: 100 }, 10), 3);
    });

    it("never lets the clock going backwards create tokens", async () => {
      await takeMany("k", small, 5);
      clock.advance(-10_000);
      const refused = await store.take("k", small);
      assert.equal(refused.granted, false);
      assert.equal(retryAfter(refused), 10_500, "refill resumes where the clock had been");
      clock.advance(10_500);
      assert.equal((await store.take("k", small)).granted, true);
    });

    it("grants exactly capacity to many concurrent takes", async () => {
      const results = await Promise.all(Array.from({ length: 40 }, () => store.take("race", small)));
      assert.equal(results.filter((r) => r.granted).length, 5);
    });

    it("rejects a cost above capacity or not positive, and a bad policy", async () => {
      await assert.rejects(store.take("k", small, 6), RangeError);
      await assert.rejects(store.take("k", small, 0), RangeError);
      await assert.rejects(store.take("k", { capacity: 0, refillPerSecond: 1 }), RangeError);
      await assert.rejects(store.take("k", { capacity: 1, refillPerSecond: 0 }), RangeError);
    });

    it("cleanup drops only buckets that are full and idle, and answers how many", async () => {
      const idleMs = 30 * 60_000;
      await takeMany("full-idle", small, 5); // full again 2.5 s later, then idle
      assert.equal(await store.size(), 1);

      // Slow enough not to be full again by the sweep: 100 tokens at 0.01/s take ~2.8 hours.
      const slow: BucketPolicy = { capacity: 100, refillPerSecond: 0.01 };
      await takeMany("drained-slow", slow, 100);
      assert.equal(await store.cleanup(idleMs), 0, "nothing is idle yet");

      clock.advance(idleMs - 1);
      await takeMany("recent", small, 1);
      clock.advance(1);
      assert.equal(await store.cleanup(idleMs), 1, "only full-idle");
      assert.equal(await store.size(), 2, "drained-slow (not full) and recent (not idle) stay");

      // A kept bucket keeps its state: drained-slow has refilled 18 tokens in 30 minutes, no more.
      assert.equal(await takeMany("drained-slow", slow, 30), 18);

      clock.advance(idleMs);
      assert.equal(await store.cleanup(idleMs), 1, "recent is full and idle now");
      assert.equal(await store.size(), 1);
      assert.equal(await store.cleanup(idleMs), 0);
    });

    it("a dropped bucket comes back full, as if it had never gone", async () => {
      await takeMany("k", small, 5);
      clock.advance(60 * 60_000);
      assert.equal(await store.cleanup(30 * 60_000), 1);
      assert.equal(await store.size(), 0);
      assert.equal(await takeMany("k", small, 10), 5);
    });
  });
}
