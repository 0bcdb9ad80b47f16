import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { RetryPolicy } from "../config/config.ts";
import {
  backoffCeilingMs,
  computeBackoffMs,
  genericRetryPolicy,
  parseRetryAfter,
  slackRetryPolicy,
} from "./backoff.ts";

const policyArb: fc.Arbitrary<RetryPolicy> = fc.record({
  attempts: fc.integer({ min: 1, max: 20 }),
  initialDelayMs: fc.integer({ min: 0, max: 60_000 }),
  maxDelayMs: fc.integer({ min: 0, max: 3_600_000 }),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
  jitter: fc.boolean(),
});
const attemptArb = fc.integer({ min: 1, max: 2_000 });
// [0, 1) like Math.random, plus the edges a broken source might produce.
const randomArb = fc.oneof(
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  fc.constantFrom(0, 1, -1, 2, Number.NaN),
);

describe("computeBackoffMs", () => {
  test("never exceeds the cap and is never negative", () => {
    fc.assert(
      fc.property(policyArb, attemptArb, randomArb, (policy, attempt, r) => {
        const delay = computeBackoffMs(policy, attempt, () => r);
        assert.ok(delay >= 0, `negative: ${delay}`);
        assert.ok(delay <= policy.maxDelayMs, `${delay} > cap ${policy.maxDelayMs}`);
        assert.ok(Number.isInteger(delay));
      }),
    );
  });

  test("the upper bound is monotone non-decreasing in the attempt", () => {
    fc.assert(
      fc.property(policyArb, attemptArb, (policy, attempt) => {
        assert.ok(backoffCeilingMs(policy, attempt) <= backoffCeilingMs(policy, attempt + 1));
      }),
    );
  });

  test("jittered delays stay within [0, ceiling]", () => {
    fc.assert(
      fc.property(policyArb, attemptArb, randomArb, (policy, attempt, r) => {
        const delay = computeBackoffMs({ ...policy, jitter: true }, attempt, () => r);
        assert.ok(delay <= backoffCeilingMs(policy, attempt));
      }),
    );
  });

  test("without jitter: exponential from the initial delay, then capped", () => {
    const policy = { ...genericRetryPolicy, jitter: false };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => computeBackoffMs(policy, a, () => 0.5));
    assert.deepEqual(delays, [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  test("full jitter scales the ceiling by the random draw", () => {
    assert.equal(
      computeBackoffMs(slackRetryPolicy, 3, () => 0),
      0,
    );
    assert.equal(
      computeBackoffMs(slackRetryPolicy, 3, () => 0.5),
      400,
    );
    assert.equal(
      computeBackoffMs(slackRetryPolicy, 3, () => 0.999_999),
      799,
    );
  });

  test("huge attempts saturate at the cap instead of overflowing", () => {
    assert.equal(computeBackoffMs({ ...slackRetryPolicy, jitter: false }, 10_000, Math.random), 10_000);
  });

  test("named policies match the documented numbers", () => {
    assert.deepEqual(genericRetryPolicy, {
      attempts: 3,
      initialDelayMs: 100,
      maxDelayMs: 5_000,
      factor: 2,
      jitter: true,
    });
    assert.deepEqual(slackRetryPolicy, {
      attempts: 5,
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      factor: 2,
      jitter: true,
    });
    assert.ok(Object.isFrozen(genericRetryPolicy) && Object.isFrozen(slackRetryPolicy));
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2015, 9, 21, 7, 27, 0); // Wed, 21 Oct 2015 07:27:00 GMT

  const cases: ReadonlyArray<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ["", undefined],
    ["   ", undefined],
    ["120", 120_000],
    [" 3 ", 3_000],
    ["0", 0],
    ["1.5", 1_500],
    ["-5", 0],
    ["-0.5", 0],
    ["soon", undefined],
    ["foo 1", undefined],
    ["12abc", undefined],
    ["1e3", undefined],
    ["Wed, 21 Oct 2015 07:28:00 GMT", 60_000], // IMF-fixdate
    ["Wednesday, 21-Oct-15 07:28:30 GMT", 90_000], // RFC 850
    ["Wed Oct 21 07:29:00 2015", 120_000], // asctime, read as UTC
    ["Wed Oct  1 07:29:00 2015", 0], // asctime with a padded day, in the past
    ["Tue, 20 Oct 2015 07:28:00 GMT", 0], // in the past
    ["Wed, 21 Foo 2015 07:28:00 GMT", undefined],
    ["Wed, 21 Oct 2015 25:28:00 GMT", undefined],
    ["2015-10-21T07:28:00Z", undefined], // ISO is not an HTTP-date
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(parseRetryAfter(value, now), expected);
    });
  }

  test("an absurdly long delay saturates instead of becoming Infinity", () => {
    assert.equal(parseRetryAfter("9".repeat(400), now), Number.MAX_SAFE_INTEGER);
  });

  test("never negative, never NaN, for any string", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 4_102_444_800_000 }), (value, nowMs) => {
        const ms = parseRetryAfter(value, nowMs);
        assert.ok(ms === undefined || (ms >= 0 && Number.isFinite(ms)));
      }),
    );
  });

  test("delay-seconds round-trip", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        assert.equal(parseRetryAfter(String(seconds), now), seconds * 1000);
      }),
    );
  });

  test("IMF-fixdate round-trips through Date#toUTCString", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (seconds) => {
        const at = now + seconds * 1000;
        assert.equal(parseRetryAfter(new Date(at).toUTCString(), now), seconds * 1000);
      }),
    );
  });
});
