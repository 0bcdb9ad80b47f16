import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadYaml, yamlProblems } from "./testing.ts";

const secret = "test-secret-not-real";
const oneSource = (source: string) => `tenants:\n  - id: acme\n    sources:\n      - ${source}\n`;

describe("source problems", () => {
  it("names the unset env var of a secret", () => {
    assert.deepEqual(yamlProblems(oneSource("{ id: gh, preset: github, secrets: [env:GH_SECRET] }")), [
      "tenants[0].sources[0].secrets[0]: environment variable GH_SECRET is not set",
    ]);
    assert.deepEqual(
      yamlProblems(oneSource("{ id: gh, preset: github, secrets: [env:GH_SECRET] }"), { GH_SECRET: " " }),
      ["tenants[0].sources[0].secrets[0]: environment variable GH_SECRET is empty"],
    );
  });

  it("names an unreadable or empty secret file", () => {
    const yaml = oneSource(
      "{ id: gh, preset: github, secrets: [file:/run/secrets/missing, file:/run/secrets/empty] }",
    );
    assert.deepEqual(yamlProblems(yaml, {}, { "/run/secrets/empty": "\n" }), [
      "tenants[0].sources[0].secrets[0]: cannot read secret file /run/secrets/missing: no such file",
      "tenants[0].sources[0].secrets[1]: secret file /run/secrets/empty is empty",
    ]);
  });

  it("refuses a literal secret without echoing it", () => {
    const problems = yamlProblems(oneSource(`{ id: gh, preset: github, secrets: ["${secret}"] }`));
    assert.deepEqual(problems, [
      "tenants[0].sources[0].secrets[0]: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
    ]);
  });

  it("refuses malformed references", () => {
    assert.deepEqual(
      yamlProblems(oneSource('{ id: gh, preset: github, secrets: ["env:GH-SECRET", "file:"] }')),
      [
        "tenants[0].sources[0].secrets[0]: expected env:NAME with NAME a variable name (letters, digits, _)",
        "tenants[0].sources[0].secrets[1]: expected file:/path/to/secret",
      ],
    );
  });

  it("names an unknown preset and lists the known ones", () => {
    const [line] = yamlProblems(oneSource("{ id: gh, preset: githb, secrets: [env:GH_SECRET] }"), {
      GH_SECRET: secret,
    });
    assert.match(
      line ?? "",
      /^tenants\[0\]\.sources\[0\]\.preset: unknown preset "githb"; known presets: github, gitlab, /,
    );
  });

  it("refuses a bad slug", () => {
    assert.deepEqual(yamlProblems(oneSource("{ id: GitHub, verify: none }")), [
      'tenants[0].sources[0].id: expected an id of lowercase letters, digits, "_" and "-" (starting with a letter or digit, at most 63 characters), got "GitHub"',
    ]);
    assert.equal(yamlProblems("tenants: [{ id: -acme }]").length, 1);
  });

  it("refuses a source without a verifier, or with two", () => {
    assert.deepEqual(yamlProblems(oneSource("{ id: gh, secrets: [env:GH_SECRET] }"), { GH_SECRET: secret }), [
      "tenants[0].sources[0]: no verifier; set preset, verify, or verify: none",
    ]);
    assert.deepEqual(yamlProblems(oneSource("{ id: gh, preset: github, verify: none }")), [
      "tenants[0].sources[0]: set either preset or verify, not both",
    ]);
  });

  it("requires secrets unless verify: none, and refuses them with it", () => {
    assert.deepEqual(yamlProblems(oneSource("{ id: gh, preset: github }")), [
      "tenants[0].sources[0].secrets: required: at least one env:NAME or file:/path (several = rotation, any one may match)",
    ]);
    assert.deepEqual(yamlProblems(oneSource("{ id: open, verify: none, secrets: [env:X] }"), { X: secret }), [
      "tenants[0].sources[0].secrets: verify: none uses no secrets; remove secrets",
    ]);
  });

  it("refuses toleranceSeconds where no timestamp is signed", () => {
    const yaml = oneSource("{ id: gh, preset: github, secrets: [env:GH_SECRET], toleranceSeconds: 60 }");
    assert.deepEqual(yamlProblems(yaml, { GH_SECRET: secret }), [
      "tenants[0].sources[0].toleranceSeconds: preset github has no signed timestamp to check",
    ]);
  });

  it("checks that keys decode as the scheme's keyEncoding, like intake will", () => {
    const yaml = oneSource("{ id: sw, preset: standard-webhooks, secrets: [env:SW_SECRET] }");
    assert.deepEqual(yamlProblems(yaml, { SW_SECRET: "whsec_not base64!" }), [
      "tenants[0].sources[0].secrets[0]: a secret is not whsec_<base64> (keyEncoding whsec)",
    ]);
  });

  it("validates event id/type overrides and content types", () => {
    const yaml = oneSource(
      "{ id: open, verify: none, eventId: { header: X-Id, jsonPath: $.id }, eventType: { jsonPath: type }, contentTypes: [json] }",
    );
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].sources[0].eventId: set exactly one of header or jsonPath",
      'tenants[0].sources[0].eventType.jsonPath: expected a JSON path like $.id, $.data.items[0].id or $["x-id"]',
      "tenants[0].sources[0].contentTypes[0]: expected a media type like application/json",
    ]);
  });

  it("lets eventId/eventType overrides replace the preset's, with any path intake can read", () => {
    const yaml = oneSource(
      "{ id: gh, preset: github, secrets: [env:GH_SECRET], eventId: { jsonPath: '$[\"x-id\"]' }, eventType: { header: X-Kind } }",
    );
    const profile = loadYaml(yaml, { GH_SECRET: secret }).tenants.get("acme")?.sources.get("gh")?.profile;
    assert.deepEqual(profile?.eventId, { jsonPath: '$["x-id"]' });
    assert.deepEqual(profile?.eventType, { header: "x-kind" });
  });

  it("compiles a source's rateLimit into its intake limit", () => {
    const yaml = oneSource("{ id: open, verify: none, rateLimit: { capacity: 20, refillPerSecond: 0.5 } }");
    const source = loadYaml(yaml).tenants.get("acme")?.sources.get("open");
    assert.deepEqual(source?.intakeRateLimit, { capacity: 20, refillPerSecond: 0.5 });
    assert.equal(
      loadYaml(oneSource("{ id: open, verify: none }")).tenants.get("acme")?.sources.get("open")
        ?.intakeRateLimit,
      undefined,
    );
  });

  it("checks a source's rateLimit", () => {
    const yaml = `tenants:
  - id: acme
    sources:
      - { id: a, verify: none, rateLimit: { capacity: 5 } }
      - { id: b, verify: none, rateLimit: [5, 1] }
      - { id: c, verify: none, rateLimit: { capacity: -5, refillPerSecond: true } }
      - { id: d, verify: none, intakeRateLimit: { capacity: 5, refillPerSecond: 1 } }
`;
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].sources[0].rateLimit.refillPerSecond: required",
      "tenants[0].sources[1].rateLimit: expected a mapping, got a list",
      "tenants[0].sources[2].rateLimit.capacity: expected a positive integer",
      "tenants[0].sources[2].rateLimit.refillPerSecond: expected a positive number, got a boolean",
      "tenants[0].sources[3].intakeRateLimit: unknown key; allowed keys: id, preset, verify, secrets, eventId, eventType, toleranceSeconds, contentTypes, rateLimit, fields",
    ]);
  });
});

describe("source fields mapping", () => {
  it("compiles fields: into header / JSON path references", () => {
    const config = loadYaml(
      oneSource(
        '{ id: mon, preset: github, secrets: [env:GH_SECRET], fields: { severity: { jsonPath: "$.alert.severity" }, subject: { header: X-Subject }, fingerprint: { jsonPath: "$.alert.id" } } }',
      ),
      { GH_SECRET: secret },
    );
    assert.deepEqual(config.tenants.get("acme")?.sources.get("mon")?.fields, {
      severity: { jsonPath: "$.alert.severity" },
      subject: { header: "x-subject" },
      fingerprint: { jsonPath: "$.alert.id" },
    });
  });

  it("names unknown field names and refs with both or neither location", () => {
    const problems = yamlProblems(
      oneSource(
        '{ id: mon, preset: github, secrets: [env:GH_SECRET], fields: { priority: { jsonPath: "$.p" }, subject: {} } }',
      ),
      { GH_SECRET: secret },
    );
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.ok(problems.some((line) => line.startsWith("tenants[0].sources[0].fields.priority")));
    assert.ok(problems.some((line) => line.startsWith("tenants[0].sources[0].fields.subject")));
  });
});
