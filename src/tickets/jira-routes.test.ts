import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type DeliveryReason,
  HttpError,
  PermanentError,
  RetryAfterError,
  RetryableError,
} from "../domain/errors.ts";
import { issueFieldsOf, jiraHttpError, jiraIssueRequestSchema } from "./jira-routes.ts";

describe("jiraHttpError: Jira failures for the API caller", () => {
  const cases: ReadonlyArray<[error: Error, status: number, code: string, retryAfter?: string]> = [
    [
      new PermanentError("validation_failed", "Jira refused the request (HTTP 400): summary: x"),
      502,
      "provider_error",
    ],
    [new PermanentError("invalid_auth", "Jira rejected the credentials"), 502, "provider_error"],
    [new PermanentError("permission_denied", "denied"), 502, "provider_error"],
    [new PermanentError("not_found", "not found"), 502, "provider_error"],
    [new PermanentError("egress_denied", "refused address"), 502, "provider_error"],
    [new RetryAfterError("rate_limited", 7_000, "Jira rate limit"), 503, "provider_unavailable", "7"],
    [new RetryableError("rate_limited", "Jira rate limit"), 503, "provider_unavailable", "5"],
    [
      new RetryAfterError("retry_after", 1_200, "Jira server error (HTTP 503)"),
      503,
      "provider_unavailable",
      "2",
    ],
    [new RetryableError("server_error", "Jira server error (HTTP 500)"), 503, "provider_unavailable"],
    [new RetryableError("timeout", "timed out"), 503, "provider_unavailable"],
    [new RetryableError("network_error", "refused"), 503, "provider_unavailable"],
  ];
  for (const [error, status, code, retryAfter] of cases) {
    test(`${error.name} ${(error as unknown as { reason: DeliveryReason }).reason} → ${status} ${code}`, () => {
      const mapped = jiraHttpError(error);
      assert.ok(mapped instanceof HttpError);
      assert.equal(mapped.status, status);
      assert.equal(mapped.code, code);
      assert.equal(mapped.message, error.message);
      assert.equal(mapped.headers["retry-after"], retryAfter);
    });
  }

  test("anything else passes through", () => {
    const other = new HttpError("rate_limited", "bucket empty");
    assert.equal(jiraHttpError(other), other);
  });
});

describe("issueFieldsOf", () => {
  test("defaults, ADF description, deduped labels; a blank description is left out", () => {
    const body = jiraIssueRequestSchema.parse({
      project: "OPS",
      summary: "  Rotate certs  ",
      description: "# Why\nexpiring",
      labels: ["a", "b", "a"],
    });
    const fields = issueFieldsOf(body);
    assert.equal(fields.summary, "Rotate certs");
    assert.deepEqual(fields.issuetype, { name: "Task" });
    assert.deepEqual(fields.labels, ["a", "b"]);
    assert.equal(fields.description?.content[0]?.type, "heading");
    assert.equal(fields.priority, undefined);
    const blank = issueFieldsOf(
      jiraIssueRequestSchema.parse({ project: "OPS", summary: "x", description: " \n " }),
    );
    assert.equal("description" in blank, false);
  });
});
