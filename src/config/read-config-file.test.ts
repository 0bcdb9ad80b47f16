import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load-config.ts";
import { fakeFiles, problemsOf, testConfigPath, yamlProblems } from "./testing.ts";

describe("reading the config file", () => {
  it("names a missing file", () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { ZEN_CONFIG: "/nope/zen.yaml" }, readFile: fakeFiles({}) }),
    );
    assert.deepEqual(problems, ["env ZEN_CONFIG: cannot read config file /nope/zen.yaml: no such file"]);
  });

  it("reports a YAML syntax error with its line and column", () => {
    const yaml = "tenants:\n  - id: acme\n    sources: [ { id: gh\n  - id: beta\n";
    const problems = yamlProblems(yaml);
    assert.ok(problems.length > 0);
    for (const line of problems) assert.match(line, /^\/etc\/zen\/zen\.yaml:\d+:\d+: YAML syntax error: \S/);
  });

  it("names the exact line of a bad indentation", () => {
    assert.deepEqual(yamlProblems("tenants:\n  - id: acme\n   sources: []\n"), [
      `${testConfigPath}:3:1: YAML syntax error: Sequence item without - indicator`,
    ]);
  });

  it("reports a repeated key with its line", () => {
    const yaml = "tenants:\n  - id: acme\n    id: beta\n";
    assert.deepEqual(
      yamlProblems(yaml).map((line) => line.split(": YAML")[0]),
      [`${testConfigPath}:3:5`],
    );
  });

  it("does not echo the offending text of a broken line", () => {
    const yaml = 'tenants:\n  - id: acme\n    token: "sk-live-not-real\n';
    const problems = yamlProblems(yaml);
    assert.ok(problems.length > 0);
    assert.ok(problems.every((line) => !line.includes("sk-live")));
  });

  it("reports a top level that is not a mapping", () => {
    assert.deepEqual(yamlProblems("- acme\n"), ["(top level): expected a mapping, got a list"]);
    assert.deepEqual(yamlProblems(""), ["(top level): expected a mapping, got null"]);
  });

  it("refuses unknown keys, suggesting the likely one", () => {
    const yaml = `
tenant: []
tenants:
  - id: acme
    source: []
    sources:
      - { id: gh, prest: github, secrets: [env:GH_SECRET] }
      - id: custom
        verify: { algorithm: sha256, signatureHeadr: X-Sig, encoding: hex }
        secrets: [env:GH_SECRET]
`;
    assert.deepEqual(yamlProblems(yaml, { GH_SECRET: "test-secret-not-real" }), [
      'tenant: unknown key (did you mean "tenants"?)',
      'tenants[0].source: unknown key (did you mean "sources"?)',
      'tenants[0].sources[0].prest: unknown key (did you mean "preset"?)',
      "tenants[0].sources[0]: no verifier; set preset, verify, or verify: none",
      "tenants[0].sources[1].verify.signatureHeader: required",
      'tenants[0].sources[1].verify.signatureHeadr: unknown key (did you mean "signatureHeader"?)',
    ]);
  });
});
