import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { genericRetryPolicy } from "../domain/backoff.ts";
import type { DeliveryFailure } from "../domain/classify.ts";
import { PermanentError, RetryAfterError, RetryableError } from "../domain/errors.ts";
import { decideAfterFailure, type FailureDecision } from "./decide.ts";

const options = { policy: genericRetryPolicy, maxRetryAfterMs: 60_000, random: () => 0.5 };
const serverError = new RetryableError("server_error", "HTTP 500", { statusCode: 500 });
const rateLimited = new RetryAfterError("rate_limited", 7_000, "HTTP 429", { statusCode: 429 });

describe("decideAfterFailure", () => {
  const table: ReadonlyArray<[string, DeliveryFailure, number, FailureDecision]> = [
    [
      "first 500: backoff from the policy",
      serverError,
      1,
      { kind: "retry", reason: "server_error", delayMs: 50, error: "server_error: HTTP 500" },
    ],
    [
      "second 500: doubled ceiling",
      serverError,
      2,
      { kind: "retry", reason: "server_error", delayMs: 100, error: "server_error: HTTP 500" },
    ],
    [
      "third 500 with 3 attempts: exhausted",
      serverError,
      3,
      {
        kind: "dead_letter",
        reason: "retries_exhausted",
        failureReason: "server_error",
        error: "server_error: HTTP 500",
      },
    ],
    [
      "429 with Retry-After: its delay wins over backoff",
      rateLimited,
      1,
      { kind: "retry", reason: "rate_limited", delayMs: 7_000, error: "rate_limited: HTTP 429" },
    ],
    [
      "429 with Retry-After on the last attempt: exhausted",
      rateLimited,
      3,
      {
        kind: "dead_letter",
        reason: "retries_exhausted",
        failureReason: "rate_limited",
        error: "rate_limited: HTTP 429",
      },
    ],
    [
      "Retry-After beyond the bound is clamped",
      new RetryAfterError("retry_after", 86_400_000, "HTTP 503"),
      1,
      { kind: "retry", reason: "retry_after", delayMs: 60_000, error: "retry_after: HTTP 503" },
    ],
    [
      "401: dead-letter at once",
      new PermanentError("invalid_auth", "HTTP 401", { statusCode: 401 }),
      1,
      {
        kind: "dead_letter",
        reason: "invalid_auth",
        failureReason: "invalid_auth",
        error: "invalid_auth: HTTP 401",
      },
    ],
  ];
  for (const [name, error, attempt, expected] of table) {
    test(name, () => assert.deepEqual(decideAfterFailure(error, attempt, options), expected));
  }

  test("zero or negative attempts still allow exactly one try", () => {
    const decision = decideAfterFailure(serverError, 1, {
      ...options,
      policy: { ...genericRetryPolicy, attempts: 0 },
    });
    assert.equal(decision.kind, "dead_letter");
  });

  test("retryable failures retry exactly attempts-1 times, with delays within the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 1, maxExcluded: true }),
        (attempts, r) => {
          const policy = { ...genericRetryPolicy, attempts };
          let retries = 0;
          for (let attempt = 1; ; attempt++) {
            const d = decideAfterFailure(serverError, attempt, { ...options, policy, random: () => r });
            if (d.kind === "dead_letter") break;
            assert.ok(d.delayMs >= 0 && d.delayMs <= policy.maxDelayMs);
            retries++;
          }
          assert.equal(retries, attempts - 1);
        },
      ),
    );
  });
});
