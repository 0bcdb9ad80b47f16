import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { classifySlackError, slackDefaultRetryAfterMs, slackFailure } from "./slack-errors.ts";

const facts = {
  method: "chat.postMessage",
  nowMs: Date.parse("2026-01-01T00:00:00Z"),
  maxRetryAfterMs: 300_000,
};

describe("slackFailure", () => {
  it("classes the issue's codes", () => {
    const expected: Record<string, string> = {
      invalid_auth: "invalid_auth",
      not_authed: "invalid_auth",
      account_inactive: "invalid_auth",
      token_revoked: "invalid_auth",
      token_expired: "invalid_auth",
      missing_scope: "permission_denied",
      not_in_channel: "permission_denied",
      channel_not_found: "not_found",
      is_archived: "not_found",
      invalid_blocks: "validation_failed",
      msg_too_long: "validation_failed",
      no_text: "validation_failed",
      invalid_arguments: "validation_failed",
    };
    for (const [code, reason] of Object.entries(expected)) {
      const err = slackFailure({ ...facts, code, status: 200 });
      assert.ok(err instanceof PermanentError, code);
      assert.equal(err.reason, reason, code);
      assert.equal(err.message, `slack: ${code} (chat.postMessage)`);
    }
    for (const code of ["fatal_error", "internal_error", "service_unavailable", "request_timeout"]) {
      const err = slackFailure({ ...facts, code, status: 200 });
      assert.ok(err instanceof RetryableError && !(err instanceof RetryAfterError), code);
    }
    assert.deepEqual(classifySlackError("brand_new_code"), { kind: "retry", reason: "unknown" });
    assert.deepEqual(
      classifySlackError("constructor"),
      { kind: "retry", reason: "unknown" },
      "no prototype keys",
    );
  });

  it("rate limits: Retry-After seconds or HTTP-date, clamped, else the named default", () => {
    const seconds = slackFailure({ ...facts, status: 429, retryAfter: "3" });
    assert.ok(seconds instanceof RetryAfterError);
    assert.equal(seconds.retryAfterMs, 3000);
    const date = slackFailure({ ...facts, status: 429, retryAfter: "Thu, 01 Jan 2026 00:00:05 GMT" });
    assert.equal((date as RetryAfterError).retryAfterMs, 5000);
    const clamped = slackFailure({ ...facts, status: 429, retryAfter: "99999", maxRetryAfterMs: 10_000 });
    assert.equal((clamped as RetryAfterError).retryAfterMs, 10_000);
    const missing = slackFailure({ ...facts, code: "rate_limited", status: 200 });
    assert.equal((missing as RetryAfterError).retryAfterMs, slackDefaultRetryAfterMs);
    assert.equal(missing.reason, "rate_limited");
  });

  it("keeps messages one bounded line without secrets", () => {
    const err = slackFailure({ ...facts, code: "weird\ncode-secret-value-x", secrets: ["secret-value-x"] });
    assert.equal(err.message.includes("secret-value-x"), false);
    assert.equal(err.message.includes("\n"), false);
  });
});
