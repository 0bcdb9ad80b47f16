import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractField } from "./extract-field.ts";

describe("extractField", () => {
  const body = {
    id: "evt_1",
    event: { type: "app_mention", n: 42, ok: true, obj: {} },
    list: [{ id: "first" }],
  };

  it("reads a header case-insensitively", () => {
    assert.equal(extractField({ header: "X-GitHub-Delivery" }, { "x-github-delivery": "d-1" }, body), "d-1");
  });

  it("reads a JSON path and renders scalars as text", () => {
    assert.equal(extractField({ jsonPath: "$.event.type" }, {}, body), "app_mention");
    assert.equal(extractField({ jsonPath: "$.list[0].id" }, {}, body), "first");
    assert.equal(extractField({ jsonPath: "$.event.n" }, {}, body), "42");
    assert.equal(extractField({ jsonPath: "$.event.ok" }, {}, body), "true");
  });

  it("returns undefined for absent, empty, non-scalar and repeated values", () => {
    assert.equal(extractField({ header: "x-id" }, {}, body), undefined);
    assert.equal(extractField({ header: "x-id" }, { "x-id": "" }, body), undefined);
    assert.equal(extractField({ header: "x-id" }, { "x-id": ["a", "b"] }, body), undefined);
    assert.equal(extractField({ jsonPath: "$.event.obj" }, {}, body), undefined);
    assert.equal(extractField({ jsonPath: "$.missing" }, {}, body), undefined);
    assert.equal(extractField({ jsonPath: "$.id" }, {}, "not an object"), undefined);
    assert.equal(extractField({}, { "x-id": "a" }, body), undefined);
  });

  it("falls back from an absent header to the JSON path when both are set", () => {
    assert.equal(extractField({ header: "x-id", jsonPath: "$.id" }, {}, body), "evt_1");
    assert.equal(extractField({ header: "x-id", jsonPath: "$.id" }, { "x-id": "h" }, body), "h");
  });
});
