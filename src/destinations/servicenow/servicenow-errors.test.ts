import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { invalidCredentialsMessage, parseErrorEnvelope, serviceNowFailure } from "./servicenow-errors.ts";

const now = Date.UTC(2026, 0, 1);
const maxRetryAfterMs = 300_000;

function envelope(message: string, detail: string | null): string {
  return JSON.stringify({ error: { message, detail }, status: "failure" });
}

function fail(status: number, body: string, headers: Record<string, string> = {}) {
  return serviceNowFailure({ status, headers, body }, now, maxRetryAfterMs);
}

describe("serviceNowFailure", () => {
  const table: ReadonlyArray<{
    readonly name: string;
    readonly status: number;
    readonly body: string;
    readonly headers?: Record<string, string>;
    readonly kind: typeof PermanentError | typeof RetryableError | typeof RetryAfterError;
    readonly reason: string;
    readonly message: RegExp;
    readonly retryAfterMs?: number;
  }> = [
    {
      name: "400 keeps ServiceNow's message and detail",
      status: 400,
      body: envelope("Exception while reading request", "The payload is not valid JSON."),
      kind: PermanentError,
      reason: "validation_failed",
      message:
        /^ServiceNow rejected the request \(HTTP 400: Exception while reading request: The payload is not valid JSON\.\)$/,
    },
    {
      name: "400 with a null detail",
      status: 400,
      body: envelope("Invalid table incidentx", null),
      kind: PermanentError,
      reason: "validation_failed",
      message: /\(HTTP 400: Invalid table incidentx\)$/,
    },
    {
      name: "401 names the credentials to check",
      status: 401,
      body: envelope("User Not Authenticated", "Required to provide Auth information"),
      kind: PermanentError,
      reason: "invalid_auth",
      message:
        /^ServiceNow rejected the credentials \(check SERVICENOW_USERNAME\/PASSWORD or the tenant's providers\.servicenow\) \(HTTP 401: User Not Authenticated/,
    },
    {
      name: "403 says ACL/business rule and keeps the detail",
      status: 403,
      body: envelope("Operation Failed", "ACL Exception Insert Failed due to security constraints"),
      kind: PermanentError,
      reason: "permission_denied",
      message: /ACL, business rule or data policy \(HTTP 403: Operation Failed: ACL Exception Insert Failed/,
    },
    {
      name: "404 'No Record found' says missing or hidden by an ACL",
      status: 404,
      body: envelope("No Record found", "Record doesn't exist or ACL restricts the record retrieval"),
      kind: PermanentError,
      reason: "not_found",
      message:
        /^ServiceNow has no such record, or an ACL hides it from the API user \(HTTP 404: No Record found: Record doesn't exist or ACL restricts/,
    },
    {
      name: "404 without the envelope points at the instance URL",
      status: 404,
      body: "<html><body>Not Found</body></html>",
      kind: PermanentError,
      reason: "not_found",
      message: /^ServiceNow answered 404 without its error envelope: is the instance URL right\?/,
    },
    {
      name: "429 with Retry-After seconds",
      status: 429,
      body: envelope("Rate limit exceeded", "Rate limit of 10 requests per hour for Table API exceeded"),
      headers: { "retry-after": "7" },
      kind: RetryAfterError,
      reason: "rate_limited",
      message: /^ServiceNow rate limit exceeded \(HTTP 429: Rate limit exceeded: Rate limit of 10 requests/,
      retryAfterMs: 7_000,
    },
    {
      name: "429 without Retry-After falls back to X-RateLimit-Reset",
      status: 429,
      body: envelope("Rate limit exceeded", null),
      headers: { "x-ratelimit-reset": String(now / 1000 + 42) },
      kind: RetryAfterError,
      reason: "rate_limited",
      message: /rate limit exceeded/,
      retryAfterMs: 42_000,
    },
    {
      name: "429 with a huge Retry-After is clamped",
      status: 429,
      body: "",
      headers: { "Retry-After": "86400" },
      kind: RetryAfterError,
      reason: "rate_limited",
      message: /rate limit exceeded \(HTTP 429\)$/,
      retryAfterMs: maxRetryAfterMs,
    },
    {
      name: "429 without any hint is a plain retry",
      status: 429,
      body: envelope("Rate limit exceeded", null),
      kind: RetryableError,
      reason: "rate_limited",
      message: /rate limit exceeded/,
    },
    {
      name: "500 is retried",
      status: 500,
      body: envelope("Internal Server Error", "Something broke"),
      kind: RetryableError,
      reason: "server_error",
      message: /^ServiceNow HTTP 500: Internal Server Error: Something broke$/,
    },
    {
      name: "503 with Retry-After is retried then",
      status: 503,
      body: "",
      headers: { "retry-after": "3" },
      kind: RetryAfterError,
      reason: "retry_after",
      message: /^ServiceNow HTTP 503$/,
      retryAfterMs: 3_000,
    },
    {
      name: "405 is permanent",
      status: 405,
      body: envelope("Method not Supported", null),
      kind: PermanentError,
      reason: "validation_failed",
      message: /^ServiceNow HTTP 405: Method not Supported$/,
    },
    {
      name: "302 (a login redirect) is permanent",
      status: 302,
      body: "",
      kind: PermanentError,
      reason: "validation_failed",
      message: /redirects are not followed/,
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const error = fail(row.status, row.body, row.headers);
      assert.equal(error.constructor, row.kind);
      assert.equal(error.reason, row.reason);
      assert.equal(error.statusCode, row.status);
      assert.match(error.message, row.message);
      if (row.retryAfterMs !== undefined) {
        assert.ok(error instanceof RetryAfterError);
        assert.equal(error.retryAfterMs, row.retryAfterMs);
      }
    });
  }

  it("the 401 message is the fixed credential hint, whatever the body holds", () => {
    const error = fail(401, "");
    assert.equal(error.message, `${invalidCredentialsMessage} (HTTP 401)`);
  });

  it("keeps a long detail to one bounded line", () => {
    const error = fail(400, envelope("Bad\nrequest", "x".repeat(5000)));
    assert.ok(!error.message.includes("\n"));
    assert.ok(error.message.length < 300, `${error.message.length} chars`);
  });
});

describe("parseErrorEnvelope", () => {
  it("reads message and detail, null detail as empty", () => {
    assert.deepEqual(parseErrorEnvelope(envelope("m", "d")), { message: "m", detail: "d" });
    assert.deepEqual(parseErrorEnvelope(envelope("m", null)), { message: "m", detail: "" });
  });
  it("is undefined for anything else", () => {
    for (const body of ["", "<html/>", "null", "[]", '{"error":"x"}', '{"error":{"detail":"d"}}']) {
      assert.equal(parseErrorEnvelope(body), undefined, body);
    }
  });
});
