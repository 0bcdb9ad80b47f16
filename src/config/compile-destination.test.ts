import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadYaml, yamlProblems } from "./testing.ts";

const oneDestination = (destination: string) =>
  `tenants:\n  - id: acme\n    destinations:\n      - ${destination}\n`;

describe("destination problems", () => {
  it("lists the supported types for an unknown one", () => {
    assert.deepEqual(yamlProblems(oneDestination("{ id: alerts, type: pager, channel: C0123 }")), [
      'tenants[0].destinations[0].type: unsupported destination type "pager"; supported: webhook, jira, servicenow, slack, approval',
    ]);
    assert.deepEqual(yamlProblems(oneDestination("{ id: alerts, url: https://x.example }")), [
      "tenants[0].destinations[0].type: required",
    ]);
  });

  it("refuses bad URLs without echoing them", () => {
    const problems = yamlProblems(
      [
        "tenants:",
        "  - id: acme",
        "    destinations:",
        "      - { id: a, type: webhook, url: ftp://files.example.com/in }",
        "      - { id: b, type: webhook, url: hooks.example.com/in?token=abc-not-real }",
        "      - { id: c, type: webhook, url: https://user:pw-not-real@hooks.example.com/in }",
        "      - { id: d, type: webhook, url: env:HOOK_URL }",
        "",
      ].join("\n"),
      { HOOK_URL: "mailto:ops@example.com" },
    );
    assert.deepEqual(problems, [
      "tenants[0].destinations[0].url: expected a http:// or https:// URL, not ftp://",
      "tenants[0].destinations[1].url: expected an absolute http:// or https:// URL (value not shown)",
      "tenants[0].destinations[2].url: must not carry credentials in the file; use a header with env:/file:, or url: env:NAME",
      "tenants[0].destinations[3].url: the referenced value: expected a http:// or https:// URL, not mailto://",
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });

  it("refuses literal credentials and reserved names in headers", () => {
    const yaml = oneDestination(
      '{ id: a, type: webhook, url: "https://h.example.com", headers: { Authorization: "Bearer abc-not-real", Content-Length: "1", X-Api-Key: env:KEY, "bad name": x } }',
    );
    const problems = yamlProblems(yaml);
    assert.deepEqual(problems, [
      "tenants[0].destinations[0].headers.Authorization: looks like a credential: write env:NAME or file:/path instead of the value (not shown)",
      'tenants[0].destinations[0].headers["Content-Length"]: is set by the sender for every request and cannot be configured',
      'tenants[0].destinations[0].headers["X-Api-Key"]: environment variable KEY is not set',
      'tenants[0].destinations[0].headers["bad name"]: not a valid HTTP header name',
    ]);
  });

  it("keeps timeouts below the worker lease", () => {
    const yaml = oneDestination('{ id: a, type: webhook, url: "https://h.example.com", timeoutMs: 60000 }');
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].destinations[0].timeoutMs: must be below the worker lease (ZEN_LEASE_MS = 1m): a send still running when the lease ends is handed to a second worker",
    ]);
    const config = loadYaml(yaml, { ZEN_LEASE_MS: "90000" });
    assert.equal(config.tenants.get("acme")?.destinations.get("a")?.timeoutMs, 60_000);
  });

  it("names an unset signing secret", () => {
    const yaml = oneDestination(
      '{ id: a, type: webhook, url: "https://h.example.com", secret: env:HOOK_SECRET }',
    );
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].destinations[0].secret: environment variable HOOK_SECRET is not set",
    ]);
  });

  it("checks a webhook's rateLimit, one line per field", () => {
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    destinations:",
      '      - { id: a, type: webhook, url: "https://a.example.com", rateLimit: { capacity: 5, refillPerSecond: 0.25 } }',
      '      - { id: b, type: webhook, url: "https://b.example.com", rateLimit: { capacity: 1.5, refillPerSecond: 0 } }',
      '      - { id: c, type: webhook, url: "https://c.example.com", rateLimit: { capacity: "10", refillPerSecond: -1 } }',
      '      - { id: d, type: webhook, url: "https://d.example.com", rateLimit: { capacity: 1000000001, refillPerSecond: 1e10 } }',
      '      - { id: e, type: webhook, url: "https://e.example.com", rateLimit: { refillPerSecond: .nan, burst: 1 } }',
      '      - { id: f, type: webhook, url: "https://f.example.com", ratelimit: { capacity: 1, refillPerSecond: 1 } }',
      "",
    ].join("\n");
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].destinations[1].rateLimit.capacity: expected a positive integer",
      "tenants[0].destinations[1].rateLimit.refillPerSecond: expected a positive number",
      "tenants[0].destinations[2].rateLimit.capacity: expected a positive integer, got a string",
      "tenants[0].destinations[2].rateLimit.refillPerSecond: expected a positive number",
      "tenants[0].destinations[3].rateLimit.capacity: must be at most 1000000000",
      "tenants[0].destinations[3].rateLimit.refillPerSecond: must be at most 1000000000",
      "tenants[0].destinations[4].rateLimit.capacity: required",
      "tenants[0].destinations[4].rateLimit.refillPerSecond: expected a positive number, got NaN",
      "tenants[0].destinations[4].rateLimit.burst: unknown key; allowed keys: capacity, refillPerSecond",
      'tenants[0].destinations[5].ratelimit: unknown key (did you mean "rateLimit"?)',
    ]);
  });

  it("gives a webhook with rateLimit its own limit, and none without", () => {
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    destinations:",
      '      - { id: a, type: webhook, url: "https://a.example.com", rateLimit: { capacity: 5, refillPerSecond: 0.25 } }',
      '      - { id: b, type: webhook, url: "https://b.example.com" }',
      "",
    ].join("\n");
    const destinations = loadYaml(yaml).tenants.get("acme")?.destinations;
    assert.deepEqual(destinations?.get("a")?.rateLimit, { capacity: 5, refillPerSecond: 0.25 });
    assert.equal(destinations?.get("b")?.rateLimit, undefined);
  });
});
