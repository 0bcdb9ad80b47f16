import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeSeverity } from "./severity.ts";

describe("normalizeSeverity", () => {
  it("maps the words of Falco, Trivy, syslog and paging tools onto five levels", () => {
    const cases: [string, string | undefined][] = [
      ["CRITICAL", "critical"],
      ["Emergency", "critical"],
      ["P1", "critical"],
      ["HIGH", "high"],
      ["Error", "high"],
      ["Warning", "medium"],
      ["MEDIUM", "medium"],
      ["Notice", "low"],
      ["LOW", "low"],
      ["Informational", "info"],
      ["Debug", "info"],
      [" high ", "high"],
      ["purple", undefined],
      ["", undefined],
    ];
    for (const [input, expected] of cases) assert.equal(normalizeSeverity(input), expected, input);
  });
});
