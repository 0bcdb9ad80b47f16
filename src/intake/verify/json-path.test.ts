import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../domain/errors.ts";
import { parseJsonPath, readJsonPath } from "./json-path.ts";

describe("parseJsonPath", () => {
  it("parses names, indexes and quoted names", () => {
    assert.deepEqual(parseJsonPath("$"), []);
    assert.deepEqual(parseJsonPath("$.a.b"), ["a", "b"]);
    assert.deepEqual(parseJsonPath("$.a[0].b"), ["a", 0, "b"]);
    assert.deepEqual(parseJsonPath("$.items[12][3]"), ["items", 12, 3]);
    assert.deepEqual(parseJsonPath(`$["x.y"]['z w'].event_type`), ["x.y", "z w", "event_type"]);
  });

  it("refuses anything else with a ConfigError naming the path", () => {
    for (const bad of ["a.b", "$.", "$..a", "$.a[", "$.a[-1]", "$.a b", "$[*]", "$.a.*"]) {
      assert.throws(
        () => parseJsonPath(bad),
        (error) => error instanceof ConfigError && (error.problems[0] ?? "").includes(JSON.stringify(bad)),
        bad,
      );
    }
  });
});

describe("readJsonPath", () => {
  const doc = { a: { b: "x", list: [{ id: 1 }, { id: 2 }] }, n: null };

  it("follows names and indexes", () => {
    assert.equal(readJsonPath(doc, parseJsonPath("$.a.b")), "x");
    assert.equal(readJsonPath(doc, parseJsonPath("$.a.list[1].id")), 2);
    assert.equal(readJsonPath(doc, parseJsonPath("$")), doc);
  });

  it("returns undefined for missing steps and type mismatches", () => {
    for (const path of ["$.z", "$.a.list[2].id", "$.a.b.c", "$.n.x", "$.a[0]", "$.a.list.id"]) {
      assert.equal(readJsonPath(doc, parseJsonPath(path)), undefined, path);
    }
  });

  it("never reads inherited properties", () => {
    for (const path of ["$.constructor", "$.__proto__", "$.a.toString", "$.a.list.length"]) {
      assert.equal(readJsonPath(doc, parseJsonPath(path)), undefined, path);
    }
  });
});
