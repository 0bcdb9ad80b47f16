import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type BucketPolicy, type BucketState, isIdleAndFull, takeToken } from "../../domain/token-bucket.ts";
import { FakeClock } from "../../ports/clock.ts";
import { MemoryRateLimitStore } from "./rate-limit-store.ts";

const keys = ["a", "b", "c"] as const;
const policies: Readonly<Record<(typeof keys)[number], BucketPolicy>> = {
  a: { capacity: 3, refillPerSecond: 1 },
  b: { capacity: 10, refillPerSecond: 0.01 },
  c: { capacity: 1, refillPerSecond: 50 },
};

type Op =
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "take"; readonly key: (typeof keys)[number] }
  | { readonly kind: "cleanup"; readonly idleMs: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ kind: fc.constant("take" as const), key: fc.constantFrom(...keys) }),
  fc.record({ kind: fc.constant("cleanup" as const), idleMs: fc.integer({ min: 0, max: 300_000 }) }),
);

describe("MemoryRateLimitStore cleanup: properties", () => {
  test("drops exactly the full and idle buckets, and no take can tell it happened", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60, size: "max" }), async (ops) => {
        const clock = new FakeClock();
        const swept = new MemoryRateLimitStore({ clock });
        const twin = new MemoryRateLimitStore({ clock }); // same takes, never cleaned up
        const model = new Map<(typeof keys)[number], BucketState>(); // what `swept` should hold
        for (const op of ops) {
          if (op.kind === "advance") {
            clock.advance(op.ms);
          } else if (op.kind === "take") {
            const policy = policies[op.key];
            const a = await swept.take(op.key, policy);
            const b = await twin.take(op.key, policy);
            assert.deepEqual(a, b);
            model.set(op.key, takeToken(model.get(op.key), policy, clock.now()).state);
          } else {
            let expected = 0;
            for (const [key, state] of model) {
              if (isIdleAndFull(state, policies[key], clock.now(), op.idleMs)) {
                model.delete(key);
                expected++;
              }
            }
            assert.equal(await swept.cleanup(op.idleMs), expected);
            assert.equal(await swept.size(), model.size);
            assert.equal(await swept.cleanup(op.idleMs), 0, "a second sweep finds nothing more");
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
