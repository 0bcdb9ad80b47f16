import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { GuardsConfig } from "../config/config.ts";
import {
  type BucketPolicy,
  type BucketState,
  bucketCleanupPolicy,
  defaultBucketPolicy,
  isIdleAndFull,
  microTokensPerToken,
  refill,
  remainingTokens,
  type TakeResult,
  takeToken,
} from "./token-bucket.ts";

const t0 = Date.UTC(2026, 0, 1);
const runs = { numRuns: 1_000 };

function retryAfter(result: TakeResult): number | undefined {
  return result.granted ? undefined : result.retryAfterMs;
}

/** Takes `n` single tokens at `nowMs`, threading the state; answers the state and how many were granted. */
function drain(
  state: BucketState | undefined,
  policy: BucketPolicy,
  nowMs: number,
  n: number,
): { state: BucketState; granted: number } {
  let current = refill(state, policy, nowMs);
  let granted = 0;
  for (let i = 0; i < n; i++) {
    const result = takeToken(current, policy, nowMs);
    current = result.state;
    if (result.granted) granted++;
  }
  return { state: current, granted };
}

// Rates an operator might configure: whole, decimal, and ones with no exact binary form.
const rateArb = fc.oneof(
  fc.integer({ min: 1, max: 1_000 }),
  fc.constantFrom(0.1, 0.25, 0.3, 0.5, 1 / 3, 2.5, 7.7, 10, 33.3, 0.001),
  fc.double({ min: 0.001, max: 500, noNaN: true, noDefaultInfinity: true }),
);
const policyArb: fc.Arbitrary<BucketPolicy> = fc.record({
  capacity: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(1.5, 2.5, 10.25)),
  refillPerSecond: rateArb,
});

type Op =
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "take"; readonly cost: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
  // Occasionally the clock steps back.
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: -2_000, max: -1 }) }),
  fc.record({ kind: fc.constant("take" as const), cost: fc.constantFrom(1, 1, 1, 2, 0.5) }),
);

const forwardOpArb = opArb.filter((op) => op.kind === "take" || op.ms >= 0);

describe("token bucket: properties", () => {
  test("never grants more than capacity + refillPerSecond × elapsed", () => {
    fc.assert(
      fc.property(policyArb, fc.array(opArb, { maxLength: 200, size: "max" }), (policy, ops) => {
        let now = t0;
        // The bucket is born full at its first take; its clock never runs backwards, so the elapsed
        // time is from then to the latest time seen.
        let bornAt: number | undefined;
        let latest = t0;
        let state: BucketState | undefined;
        let grantedTokens = 0;
        for (const op of ops) {
          if (op.kind === "advance") {
            now += op.ms;
            latest = Math.max(latest, now);
            continue;
          }
          if (op.cost > policy.capacity) continue;
          if (bornAt === undefined) {
            bornAt = now;
            latest = now;
          }
          const result = takeToken(state, policy, now, op.cost);
          state = result.state;
          if (result.granted) grantedTokens += op.cost;
          const bound = policy.capacity + (policy.refillPerSecond * (latest - bornAt)) / 1_000;
          assert.ok(grantedTokens <= bound + 1e-9, `granted ${grantedTokens} > bound ${bound}`);
        }
      }),
      runs,
    );
  });

  test("retryAfterMs is exact: one ms earlier fails, at retryAfterMs succeeds", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: -1_000, max: 100_000 }),
        fc.constantFrom(1, 1, 2, 0.5, 1.5),
        (policy, fill, sinceUpdateMs, cost) => {
          fc.pre(cost <= policy.capacity);
          const cap = Math.floor(policy.capacity * microTokensPerToken);
          // A stored bucket anywhere between empty and full, updated in the past (or, after a clock
          // step back, in the "future").
          const stored: BucketState = {
            microTokens: Math.floor(fill * cap),
            updatedAtMs: t0 - sinceUpdateMs,
          };
          const result = takeToken(stored, policy, t0, cost);
          if (result.granted) return;
          const wait = result.retryAfterMs;
          assert.ok(Number.isInteger(wait) && wait >= 1, `retryAfterMs ${wait}`);
          assert.equal(takeToken(result.state, policy, t0 + wait, cost).granted, true, "at retryAfterMs");
          assert.equal(takeToken(result.state, policy, t0 + wait - 1, cost).granted, false, "1 ms before");
        },
      ),
      runs,
    );
  });

  test("a refusal takes nothing; a grant takes exactly cost", () => {
    fc.assert(
      fc.property(policyArb, fc.array(opArb, { maxLength: 50, size: "max" }), (policy, ops) => {
        let now = t0;
        let state: BucketState | undefined;
        for (const op of ops) {
          if (op.kind === "advance") {
            now += op.ms;
            continue;
          }
          if (op.cost > policy.capacity) continue;
          const before = refill(state, policy, now);
          const result = takeToken(state, policy, now, op.cost);
          const spent = before.microTokens - result.state.microTokens;
          assert.equal(spent, result.granted ? Math.ceil(op.cost * microTokensPerToken) : 0);
          assert.ok(result.state.microTokens >= 0);
          assert.ok(Number.isInteger(result.state.microTokens));
          state = result.state;
        }
      }),
      runs,
    );
  });

  test("isIdleAndFull holds only for a full bucket idle for idleMs, and dropping it changes nothing", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: -1_000, max: 4 * 3_600_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        // Forward time only: after a step back below the sweep's time, a fresh bucket is full where the
        // kept one would still be refilling (a difference of at most the tokens earned in the step).
        fc.array(forwardOpArb, { maxLength: 30, size: "max" }),
        (policy, fill, sinceUpdateMs, idleMs, later) => {
          const cap = Math.floor(policy.capacity * microTokensPerToken);
          const stored: BucketState = {
            microTokens: Math.floor(fill * cap),
            updatedAtMs: t0 - sinceUpdateMs,
          };
          const droppable = isIdleAndFull(stored, policy, t0, idleMs);
          const full = refill(stored, policy, t0).microTokens >= cap;
          const idle = sinceUpdateMs >= idleMs;
          assert.equal(droppable, full && idle);
          if (!droppable) return;
          // The kept bucket and a fresh one (what a take after cleanup sees) answer alike forever after.
          let now = t0;
          let kept: BucketState | undefined = stored;
          let fresh: BucketState | undefined;
          for (const op of later) {
            if (op.kind === "advance") {
              now += op.ms;
              continue;
            }
            if (op.cost > policy.capacity) continue;
            const a = takeToken(kept, policy, now, op.cost);
            const b = takeToken(fresh, policy, now, op.cost);
            assert.equal(a.granted, b.granted);
            assert.equal(retryAfter(a), retryAfter(b));
            kept = a.state;
            fresh = b.state;
          }
        },
      ),
      runs,
    );
  });
});

describe("token bucket: named policies", () => {
  test("defaults are the seed's: 100 tokens, 10 per second", () => {
    assert.deepEqual(defaultBucketPolicy, { capacity: 100, refillPerSecond: 10 });
    assert.ok(Object.isFrozen(defaultBucketPolicy));
  });

  test("cleanup sweeps every 5 minutes, dropping buckets idle for 30", () => {
    assert.deepEqual(bucketCleanupPolicy, { intervalMs: 300_000, idleMs: 1_800_000 });
    assert.ok(Object.isFrozen(bucketCleanupPolicy));
  });

  test("the config's rate limit is a BucketPolicy", () => {
    const fromConfig: GuardsConfig["rateLimit"] = { capacity: 50, refillPerSecond: 2.5 };
    const policy: BucketPolicy = fromConfig;
    assert.equal(takeToken(undefined, policy, t0).granted, true);
  });
});

describe("takeToken", () => {
  test("a new bucket starts full: the default policy grants a burst of 100, then one per 100 ms", () => {
    const { state, granted } = drain(undefined, defaultBucketPolicy, t0, 101);
    assert.equal(granted, 100);
    assert.equal(retryAfter(takeToken(state, defaultBucketPolicy, t0)), 100);
    assert.equal(takeToken(state, defaultBucketPolicy, t0 + 100).granted, true);
    // 10 s of quiet refills it completely, and no more.
    assert.equal(drain(state, defaultBucketPolicy, t0 + 10_000, 101).granted, 100);
    assert.equal(drain(state, defaultBucketPolicy, t0 + 1_000_000, 101).granted, 100);
  });

  test("a multi-token take waits for all of them", () => {
    const policy: BucketPolicy = { capacity: 3, refillPerSecond: 1 };
    const after = takeToken(undefined, policy, t0, 2);
    assert.equal(after.granted, true);
    const refused = takeToken(after.state, policy, t0, 3);
    assert.equal(retryAfter(refused), 2_000);
    assert.equal(refused.state.microTokens, microTokensPerToken, "a refusal takes nothing");
  });

  test("a rate with no exact binary form never over-grants (1/3 token per second)", () => {
    const policy: BucketPolicy = { capacity: 1, refillPerSecond: 1 / 3 };
    let { state } = drain(undefined, policy, t0, 1);
    let now = t0;
    let granted = 0;
    // 300 waits of the advertised length, each ending in a take: exactly 300 grants in ≥ 900 s.
    for (let i = 0; i < 300; i++) {
      const refused = takeToken(state, policy, now);
      assert.equal(refused.granted, false);
      now += refused.granted ? 0 : refused.retryAfterMs;
      const result = takeToken(refused.state, policy, now);
      assert.equal(result.granted, true);
      granted++;
      state = result.state;
    }
    assert.equal(granted, 300);
    assert.ok(now - t0 >= 900_000, `300 tokens at 1/3 per second need ≥ 900 s, took ${now - t0} ms`);
  });

  test("the clock going backwards earns nothing and keeps the later time", () => {
    const policy: BucketPolicy = { capacity: 2, refillPerSecond: 1 };
    const { state } = drain(undefined, policy, t0, 2);
    const back = takeToken(state, policy, t0 - 5_000);
    assert.equal(back.granted, false);
    assert.equal(retryAfter(back), 6_000);
    assert.equal(back.state.updatedAtMs, t0);
    assert.equal(takeToken(back.state, policy, t0 + 999).granted, false);
    assert.equal(takeToken(back.state, policy, t0 + 1_000).granted, true);
  });

  test("a lowered capacity trims a fuller bucket", () => {
    const full = refill(undefined, { capacity: 10, refillPerSecond: 1 }, t0);
    const lowered: BucketPolicy = { capacity: 3, refillPerSecond: 1 };
    assert.equal(drain(full, lowered, t0, 10).granted, 3);
  });

  test("a huge idle gap neither overflows nor over-fills", () => {
    const policy: BucketPolicy = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
    const { state } = drain(undefined, policy, 0, 1);
    assert.equal(remainingTokens(state, policy, Number.MAX_SAFE_INTEGER), 1_000_000);
  });

  test("rejects invalid policies and costs with RangeError", () => {
    const bad: ReadonlyArray<[BucketPolicy, number]> = [
      [{ capacity: 0, refillPerSecond: 1 }, 1],
      [{ capacity: -1, refillPerSecond: 1 }, 1],
      [{ capacity: Number.NaN, refillPerSecond: 1 }, 1],
      [{ capacity: Number.POSITIVE_INFINITY, refillPerSecond: 1 }, 1],
      [{ capacity: 1, refillPerSecond: 0 }, 1],
      [{ capacity: 1, refillPerSecond: Number.NaN }, 1],
      [{ capacity: 1, refillPerSecond: Number.POSITIVE_INFINITY }, 1],
      [{ capacity: 2, refillPerSecond: 1 }, 3],
      [{ capacity: 2, refillPerSecond: 1 }, 0],
      [{ capacity: 2, refillPerSecond: 1 }, -1],
      [{ capacity: 2, refillPerSecond: 1 }, Number.NaN],
    ];
    for (const [policy, cost] of bad) {
      assert.throws(
        () => takeToken(undefined, policy, t0, cost),
        RangeError,
        JSON.stringify({ policy, cost }),
      );
    }
  });
});

describe("remainingTokens and isIdleAndFull", () => {
  const policy: BucketPolicy = { capacity: 4, refillPerSecond: 2 };

  test("remainingTokens counts whole tokens after refill", () => {
    assert.equal(remainingTokens(undefined, policy, t0), 4);
    const { state } = drain(undefined, policy, t0, 4);
    assert.equal(remainingTokens(state, policy, t0 + 499), 0);
    assert.equal(remainingTokens(state, policy, t0 + 500), 1);
    assert.equal(remainingTokens(state, policy, t0 + 60_000), 4);
  });

  test("a bucket is droppable from exactly idleMs after its last take, once full", () => {
    const idleMs = bucketCleanupPolicy.idleMs;
    const { state } = drain(undefined, policy, t0, 1);
    assert.equal(isIdleAndFull(state, policy, t0 + idleMs - 1, idleMs), false);
    assert.equal(isIdleAndFull(state, policy, t0 + idleMs, idleMs), true);
    const slow: BucketPolicy = { capacity: 4, refillPerSecond: 0.001 };
    const drained = drain(undefined, slow, t0, 4).state;
    assert.equal(isIdleAndFull(drained, slow, t0 + idleMs, idleMs), false, "idle but not full");
    assert.equal(isIdleAndFull(drained, slow, t0 + 4_000_000, idleMs), true);
  });

  test("a bucket whose time is ahead of the clock is not idle", () => {
    const state: BucketState = { microTokens: 4 * microTokensPerToken, updatedAtMs: t0 + 1 };
    assert.equal(isIdleAndFull(state, policy, t0, 0), false);
  });
});
