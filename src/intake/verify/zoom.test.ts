import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rejects } from "./test-kit.ts";
import { zoomUrlValidationResponse } from "./zoom.ts";

describe("zoomUrlValidationResponse", () => {
  it("answers the challenge with hex HMAC-SHA256 of plainToken (providers.md §4 vector)", () => {
    const body = {
      event: "endpoint.url_validation",
      payload: { plainToken: "qgg8vlvZRS6UYooatFL8Aw" },
      event_ts: 1,
    };
    assert.deepEqual(zoomUrlValidationResponse(body, "zoom_secret"), {
      plainToken: "qgg8vlvZRS6UYooatFL8Aw",
      encryptedToken: "46a324cfb7c2ec760e4cd561586a53aadb6fc7561eb8d626d6ee1b71d808b3c0",
    });
  });

  it("returns undefined for any other event or body", () => {
    assert.equal(zoomUrlValidationResponse({ event: "meeting.started", payload: {} }, "s"), undefined);
    for (const body of [undefined, null, "endpoint.url_validation", [], 42]) {
      assert.equal(zoomUrlValidationResponse(body, "s"), undefined);
    }
  });

  it("refuses a validation event without a plainToken string", () => {
    for (const payload of [undefined, {}, { plainToken: 7 }, { plainToken: "" }]) {
      rejects(
        () => zoomUrlValidationResponse({ event: "endpoint.url_validation", payload }, "s"),
        "malformed_body",
      );
    }
  });
});
