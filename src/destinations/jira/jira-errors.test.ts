import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ResponseHeaders } from "../../domain/classify.ts";
import { type DeliveryReason, PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { jiraErrorText, jiraFailure, jiraInvalidAuthMessage, maxJiraErrorChars } from "./jira-errors.ts";

const now = Date.UTC(2026, 0, 1, 10, 0, 0);
const token = "jira-token-not-real-0123456789";

function map(status: number, body = "", headers: ResponseHeaders = {}, maxRetryAfterMs = 300_000) {
  return jiraFailure({ status, headers, body, nowMs: now, maxRetryAfterMs, secrets: [token] });
}

type Kind = "permanent" | "retry" | "retry_after";

function kindOf(error: unknown): Kind {
  if (error instanceof RetryAfterError) return "retry_after";
  if (error instanceof RetryableError) return "retry";
  if (error instanceof PermanentError) return "permanent";
  throw new Error(`not a delivery failure: ${String(error)}`);
}

describe("jiraFailure: the mapping table", () => {
  const fieldErrors = JSON.stringify({
    errorMessages: ["Field 'priority' is required"],
    errors: {
      summary: "You must specify a summary of the issue.",
      labels: "The label 'a b' contains spaces which is invalid.",
    },
  });
  const cases: ReadonlyArray<
    [
      status: number,
      body: string,
      headers: ResponseHeaders,
      kind: Kind,
      reason: DeliveryReason,
      delayMs?: number,
    ]
  > = [
    [400, fieldErrors, {}, "permanent", "validation_failed"],
    [401, "", {}, "permanent", "invalid_auth"],
    [403, "", {}, "permanent", "permission_denied"],
    [404, "", {}, "permanent", "not_found"],
    [410, "", {}, "permanent", "not_found"],
    [409, "", {}, "permanent", "validation_failed"],
    [422, "", {}, "permanent", "validation_failed"],
    [301, "", { location: "https://elsewhere" }, "permanent", "validation_failed"],
    [408, "", {}, "retry", "timeout"],
    [429, "", {}, "retry", "rate_limited"],
    [429, "", { "retry-after": "7" }, "retry_after", "rate_limited", 7_000],
    [429, "", { "retry-after": "Thu, 01 Jan 2026 10:00:30 GMT" }, "retry_after", "rate_limited", 30_000],
    [429, "", { "x-ratelimit-reset": "2026-01-01T10:02Z" }, "retry_after", "rate_limited", 120_000],
    [429, "", { "retry-after": "99999" }, "retry_after", "rate_limited", 300_000],
    [500, "", {}, "retry", "server_error"],
    [502, "", {}, "retry", "server_error"],
    [503, "", {}, "retry", "server_error"],
    [503, "", { "retry-after": "3" }, "retry_after", "retry_after", 3_000],
    [500, "", { "retry-after": "3" }, "retry", "server_error"],
  ];
  for (const [status, body, headers, kind, reason, delayMs] of cases) {
    test(`${status} ${JSON.stringify(headers)} → ${kind} ${reason}`, () => {
      const error = map(status, body, headers);
      assert.equal(kindOf(error), kind);
      assert.equal(error.reason, reason);
      assert.equal(error.statusCode, status);
      if (delayMs !== undefined) assert.equal((error as RetryAfterError).retryAfterMs, delayMs);
    });
  }
});

describe("jiraFailure: messages", () => {
  test("400 keeps Jira's field messages and error messages", () => {
    const error = map(
      400,
      JSON.stringify({
        errorMessages: ["Field 'priority' is required"],
        errors: { summary: "You must specify a summary of the issue." },
      }),
    );
    assert.equal(
      error.message,
      "Jira refused the request (HTTP 400): summary: You must specify a summary of the issue.; Field 'priority' is required",
    );
  });

  test("401 names the settings to check and never the token, even when Jira echoes it", () => {
    const error = map(401, JSON.stringify({ errorMessages: [`bad token ${token}`] }));
    assert.equal(error.message, `${jiraInvalidAuthMessage} (HTTP 401)`);
    assert.ok(!error.message.includes(token));
    const echoed = map(400, JSON.stringify({ errorMessages: [`token ${token} is not allowed here`] }));
    assert.ok(!echoed.message.includes(token));
    assert.match(echoed.message, /\[redacted\]/);
  });

  test("other shapes: gateway {code,message}, plain text, HTML; bounded to one line", () => {
    assert.equal(
      jiraErrorText('{"code":401,"message":"Unauthorized; scope does not match"}'),
      "Unauthorized; scope does not match",
    );
    assert.equal(
      jiraErrorText("<html>\n<body>Bad Gateway</body>\n</html>"),
      "<html> <body>Bad Gateway</body> </html>",
    );
    assert.equal(jiraErrorText(""), "");
    const long = map(400, JSON.stringify({ errorMessages: ["x".repeat(5_000)] }));
    assert.ok(long.message.length <= maxJiraErrorChars + 1);
    assert.ok(!long.message.includes("\n"));
  });

  test("429 names Jira's rate-limit reason", () => {
    const error = map(429, "", { "retry-after": "1", "ratelimit-reason": "jira-burst-based" });
    assert.equal(error.message, "Jira rate limit (HTTP 429, jira-burst-based)");
  });
});
