import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HttpError, PermanentError, RetryAfterError, RetryableError } from "../domain/errors.ts";
import { defaultCloseCode, providerHttpError, ticketClose, ticketWrite } from "./servicenow-routes.ts";

describe("providerHttpError", () => {
  const table: ReadonlyArray<[string, Error, boolean, number, string, string | undefined]> = [
    [
      "404 on a record",
      new PermanentError("not_found", "gone", { statusCode: 404 }),
      true,
      404,
      "not_found",
      undefined,
    ],
    [
      "404 on create (wrong URL)",
      new PermanentError("not_found", "no envelope"),
      false,
      502,
      "provider_error",
      undefined,
    ],
    ["400", new PermanentError("validation_failed", "bad field"), false, 502, "provider_error", undefined],
    ["401", new PermanentError("invalid_auth", "credentials"), true, 502, "provider_error", undefined],
    ["403", new PermanentError("permission_denied", "ACL"), true, 502, "provider_error", undefined],
    [
      "egress",
      new PermanentError("egress_denied", "private address"),
      false,
      502,
      "provider_error",
      undefined,
    ],
    [
      "429 + Retry-After",
      new RetryAfterError("rate_limited", 1_500, "slow down"),
      false,
      503,
      "provider_unavailable",
      "2",
    ],
    ["429", new RetryableError("rate_limited", "slow down"), false, 503, "provider_unavailable", undefined],
    ["5xx", new RetryableError("server_error", "down"), true, 503, "provider_unavailable", undefined],
    ["timeout", new RetryableError("timeout", "slow"), true, 503, "provider_unavailable", undefined],
    ["network", new RetryableError("network_error", "refused"), true, 503, "provider_unavailable", undefined],
  ];
  for (const [name, error, recordCall, status, code, retryAfter] of table) {
    it(`${name} → ${status} ${code}`, () => {
      const mapped = providerHttpError(error, recordCall);
      assert.ok(mapped instanceof HttpError);
      assert.equal(mapped.status, status);
      assert.equal(mapped.code, code);
      assert.equal(mapped.message, error.message);
      assert.equal(mapped.headers["retry-after"], retryAfter);
    });
  }

  it("passes anything else through", () => {
    const own = new HttpError("invalid_request", "x");
    assert.equal(providerHttpError(own, true), own);
    const bug = new TypeError("bug");
    assert.equal(providerHttpError(bug, true), bug);
  });
});

describe("ticketWrite / ticketClose", () => {
  it("keeps ServiceNow fields and u_* columns, defaults the tenant", () => {
    assert.deepEqual(ticketWrite({ short_description: "x", urgency: "2", u_site: "HQ" }, "create"), {
      tenant: "default",
      fields: { short_description: "x", urgency: "2", u_site: "HQ" },
    });
    assert.deepEqual(ticketWrite({ tenant: "acme", state: "3", hold_reason: "4" }, "update"), {
      tenant: "acme",
      fields: { state: "3", hold_reason: "4" },
    });
  });

  it("refuses what ServiceNow would ignore or reject", () => {
    for (const body of [
      { short_description: " " },
      { short_description: "x", u_: "y" },
      { short_description: "x", U_site: "y" },
      { short_description: "x", impact: "0" },
      { short_description: "x", hold_reason: "2" },
      { short_description: "x", correlation_id: "c".repeat(101) },
      { short_description: "x", tenant: "Not A Slug" },
      { short_description: "x", description: null },
    ]) {
      assert.throws(() => ticketWrite(body, "create"), { code: "invalid_request" }, JSON.stringify(body));
    }
  });

  it("close: state 6 with the default close code unless told otherwise", () => {
    assert.deepEqual(ticketClose({ close_notes: "done" }), {
      tenant: "default",
      fields: { state: "6", close_code: defaultCloseCode, close_notes: "done" },
    });
    assert.deepEqual(
      ticketClose({ close_notes: "done", close_code: "Duplicate", state: "7", tenant: "acme" }),
      {
        tenant: "acme",
        fields: { state: "7", close_code: "Duplicate", close_notes: "done" },
      },
    );
    assert.throws(() => ticketClose({ close_notes: "x", work_notes: "y" }), { code: "invalid_request" });
    assert.throws(() => ticketClose({ close_notes: "x", close_code: "" }), { code: "invalid_request" });
  });
});
