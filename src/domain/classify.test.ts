import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errors as undiciErrors } from "undici";
import {
  classifyHttpStatus,
  classifyNetworkError,
  type DeliveryFailure,
  type ResponseHeaders,
} from "./classify.ts";
import { type DeliveryReason, PermanentError, RetryAfterError, RetryableError } from "./errors.ts";

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const maxRetryAfterMs = 60_000;

type Expected =
  | { readonly kind: "delivered" }
  | { readonly kind: "retry"; readonly reason: DeliveryReason }
  | { readonly kind: "retry_after"; readonly reason: DeliveryReason; readonly retryAfterMs: number }
  | { readonly kind: "permanent"; readonly reason: DeliveryReason };

function kindOf(error: DeliveryFailure): Expected {
  if (error instanceof RetryAfterError) {
    return { kind: "retry_after", reason: error.reason, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof RetryableError) return { kind: "retry", reason: error.reason };
  return { kind: "permanent", reason: error.reason };
}

describe("classifyHttpStatus", () => {
  const httpDateIn30s = new Date(now + 30_000).toUTCString();
  const table: ReadonlyArray<[number, ResponseHeaders, Expected]> = [
    [200, {}, { kind: "delivered" }],
    [202, {}, { kind: "delivered" }],
    [204, {}, { kind: "delivered" }],
    [299, {}, { kind: "delivered" }],
    [301, { location: "https://elsewhere" }, { kind: "permanent", reason: "validation_failed" }],
    [302, {}, { kind: "permanent", reason: "validation_failed" }],
    [307, {}, { kind: "permanent", reason: "validation_failed" }],
    [400, {}, { kind: "permanent", reason: "validation_failed" }],
    [401, {}, { kind: "permanent", reason: "invalid_auth" }],
    [403, {}, { kind: "permanent", reason: "permission_denied" }],
    [404, {}, { kind: "permanent", reason: "not_found" }],
    [410, {}, { kind: "permanent", reason: "not_found" }],
    [408, {}, { kind: "retry", reason: "timeout" }],
    [413, {}, { kind: "permanent", reason: "validation_failed" }],
    [422, {}, { kind: "permanent", reason: "validation_failed" }],
    [429, {}, { kind: "retry", reason: "rate_limited" }],
    [429, { "retry-after": "garbage" }, { kind: "retry", reason: "rate_limited" }],
    [429, { "retry-after": "7" }, { kind: "retry_after", reason: "rate_limited", retryAfterMs: 7_000 }],
    [
      429,
      { "retry-after": httpDateIn30s },
      { kind: "retry_after", reason: "rate_limited", retryAfterMs: 30_000 },
    ],
    [
      429,
      { "Retry-After": "3" }, // not lower-cased by the caller
      { kind: "retry_after", reason: "rate_limited", retryAfterMs: 3_000 },
    ],
    [
      429,
      { "retry-after": ["4", "9"] }, // repeated header: the first wins
      { kind: "retry_after", reason: "rate_limited", retryAfterMs: 4_000 },
    ],
    [
      429,
      { "retry-after": "86400" }, // a day: clamped to the bound
      { kind: "retry_after", reason: "rate_limited", retryAfterMs: maxRetryAfterMs },
    ],
    [429, { "retry-after": "-3" }, { kind: "retry_after", reason: "rate_limited", retryAfterMs: 0 }],
    [499, {}, { kind: "permanent", reason: "validation_failed" }],
    [500, {}, { kind: "retry", reason: "server_error" }],
    [500, { "retry-after": "5" }, { kind: "retry", reason: "server_error" }],
    [501, {}, { kind: "retry", reason: "server_error" }],
    [502, {}, { kind: "retry", reason: "server_error" }],
    [502, { "retry-after": "2" }, { kind: "retry_after", reason: "retry_after", retryAfterMs: 2_000 }],
    [503, {}, { kind: "retry", reason: "server_error" }],
    [503, { "retry-after": "5" }, { kind: "retry_after", reason: "retry_after", retryAfterMs: 5_000 }],
    [
      503,
      { "retry-after": httpDateIn30s },
      { kind: "retry_after", reason: "retry_after", retryAfterMs: 30_000 },
    ],
    [504, { "retry-after": "1" }, { kind: "retry_after", reason: "retry_after", retryAfterMs: 1_000 }],
    [599, {}, { kind: "retry", reason: "server_error" }],
    [100, {}, { kind: "retry", reason: "unknown" }],
    [600, {}, { kind: "retry", reason: "unknown" }],
  ];

  for (const [status, headers, expected] of table) {
    test(`${status} ${JSON.stringify(headers)} → ${JSON.stringify(expected)}`, () => {
      const result = classifyHttpStatus(status, headers, now, maxRetryAfterMs);
      if (result.kind === "delivered") {
        assert.deepEqual({ kind: "delivered" }, expected);
        assert.equal(result.statusCode, status);
        return;
      }
      assert.deepEqual(kindOf(result.error), expected);
      assert.equal(result.error.statusCode, status);
      assert.equal(result.error.code, result.error.reason);
    });
  }

  test("3xx says redirects are not followed", () => {
    const result = classifyHttpStatus(301, {}, now, maxRetryAfterMs);
    assert.equal(result.kind, "failed");
    assert.match(result.kind === "failed" ? result.error.message : "", /redirects are not followed/);
  });

  test("the body snippet lands in the message as one bounded line", () => {
    const result = classifyHttpStatus(500, {}, now, maxRetryAfterMs, `boom\n\u0000${"x".repeat(1000)}`);
    assert.equal(result.kind, "failed");
    const message = result.kind === "failed" ? result.error.message : "";
    assert.match(message, /^HTTP 500: boom x+…$/);
    assert.ok(message.length < 220, `message too long: ${message.length}`);
  });
});

describe("classifyNetworkError", () => {
  function sysError(code: string, message = `connect ${code} 127.0.0.1:9`): Error {
    return Object.assign(new Error(message), { code });
  }

  const table: ReadonlyArray<[string, unknown, DeliveryReason]> = [
    ["undici HeadersTimeoutError", new undiciErrors.HeadersTimeoutError(), "timeout"],
    ["undici BodyTimeoutError", new undiciErrors.BodyTimeoutError(), "timeout"],
    ["undici ConnectTimeoutError", new undiciErrors.ConnectTimeoutError(), "timeout"],
    ["undici RequestAbortedError", new undiciErrors.RequestAbortedError(), "timeout"],
    ["DOM AbortError", new DOMException("This operation was aborted", "AbortError"), "timeout"],
    ["AbortSignal.timeout reason", new DOMException("The operation timed out", "TimeoutError"), "timeout"],
    ["ETIMEDOUT", sysError("ETIMEDOUT"), "timeout"],
    ["ECONNREFUSED", sysError("ECONNREFUSED"), "network_error"],
    ["ECONNRESET", sysError("ECONNRESET", "read ECONNRESET"), "network_error"],
    ["ENOTFOUND", sysError("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid"), "network_error"],
    ["EAI_AGAIN", sysError("EAI_AGAIN"), "network_error"],
    ["undici SocketError", new undiciErrors.SocketError("other side closed"), "network_error"],
    [
      "fetch-style cause chain",
      new TypeError("fetch failed", { cause: sysError("ECONNREFUSED") }),
      "network_error",
    ],
    [
      "Happy Eyeballs AggregateError",
      new AggregateError([sysError("ECONNREFUSED"), sysError("ECONNREFUSED")], "all failed"),
      "network_error",
    ],
    ["plain Error", new Error("something odd"), "unknown"],
    ["TLS failure", sysError("CERT_HAS_EXPIRED", "certificate has expired"), "unknown"],
    ["a string", "weird", "unknown"],
    ["null", null, "unknown"],
  ];

  for (const [name, err, reason] of table) {
    test(`${name} → ${reason}`, () => {
      const result = classifyNetworkError(err);
      assert.ok(result instanceof RetryableError);
      assert.ok(!(result instanceof RetryAfterError));
      assert.equal(result.reason, reason);
      assert.equal(result.statusCode, undefined);
      if (err !== null && typeof err === "object") assert.equal(result.cause, err);
    });
  }

  test("typed delivery errors pass through unchanged", () => {
    const permanent = new PermanentError("invalid_auth", "HTTP 401", { statusCode: 401 });
    const later = new RetryAfterError("rate_limited", 1000, "HTTP 429", { statusCode: 429 });
    assert.equal(classifyNetworkError(permanent), permanent);
    assert.equal(classifyNetworkError(later), later);
  });

  test("messages name the code and stay bounded", () => {
    const result = classifyNetworkError(sysError("ECONNREFUSED", `connect ECONNREFUSED ${"y".repeat(500)}`));
    assert.match(result.message, /^network error \(ECONNREFUSED: connect ECONNREFUSED y+…\)$/);
    assert.ok(result.message.length < 240);
  });

  test("a self-referencing cause chain terminates", () => {
    const err: Error & { cause?: unknown } = new Error("loop");
    err.cause = err;
    assert.equal(classifyNetworkError(err).reason, "unknown");
  });
});
