import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadYaml, yamlProblems } from "./testing.ts";

describe("tenant-wide checks", () => {
  it("refuses duplicate ids, naming the first declaration", () => {
    const yaml = `
tenants:
  - id: acme
    sources:
      - { id: s, verify: none }
      - { id: s, verify: none }
    destinations:
      - { id: d, type: webhook, url: "https://a.example.com" }
      - { id: d, type: webhook, url: "https://b.example.com" }
  - id: acme
`;
    assert.deepEqual(yamlProblems(yaml), [
      'tenants[0].sources[1].id: duplicate source id "s" (first declared at tenants[0].sources[0])',
      'tenants[0].destinations[1].id: duplicate destination id "d" (first declared at tenants[0].destinations[0])',
      'tenants[1].id: duplicate tenant id "acme" (first declared at tenants[0])',
    ]);
  });

  it("refuses routes naming unknown sources or destinations", () => {
    const yaml = `
tenants:
  - id: acme
    sources: [{ id: gh, verify: none }]
    destinations: [{ id: hook, type: webhook, url: "https://a.example.com" }]
    routes:
      - { from: [gh, gl], to: [hook, pager, hook] }
  - id: empty
    routes: [{ to: [hook] }]
`;
    assert.deepEqual(yamlProblems(yaml), [
      'tenants[0].routes[0].from[1]: unknown source "gl" in tenant "acme"; its sources: gh',
      'tenants[0].routes[0].to[1]: unknown destination "pager" in tenant "acme"; its destinations: hook',
      'tenants[0].routes[0].to[2]: destination "hook" is listed twice',
      'tenants[1].routes[0].to[0]: unknown destination "hook" in tenant "empty"; it has no destinations',
    ]);
  });

  it("does not repeat a broken source's problem in the routes that name it", () => {
    const yaml = `
tenants:
  - id: acme
    sources: [{ id: gh, preset: github }]
    destinations: [{ id: hook, type: webhook, url: "https://a.example.com" }]
    routes: [{ from: [gh], to: [hook] }]
`;
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].sources[0].secrets: required: at least one env:NAME or file:/path (several = rotation, any one may match)",
    ]);
  });

  it("refuses empty from and to lists", () => {
    const yaml = "tenants:\n  - id: acme\n    routes: [{ from: [], to: [] }]\n";
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].routes[0].from: must list at least 1",
      "tenants[0].routes[0].to: must list at least 1",
    ]);
  });

  it("checks route predicates against the event's fields", () => {
    const yaml = `
tenants:
  - id: acme
    destinations: [{ id: hook, type: webhook, url: "https://a.example.com" }]
    routes:
      - when: { sevrity: high, severity: [high, urgent], data: x, resource.owner: x, category: [] }
        to: [hook]
`;
    const help =
      "unknown event field; use type, severity, category, subject, data.<path>, headers.<name> or resource.<apiVersion|kind|name|namespace>";
    assert.deepEqual(yamlProblems(yaml), ["tenants[0].routes[0].when.category: must list at least 1"]);
    assert.deepEqual(yamlProblems(yaml.replace(", category: []", "")), [
      `tenants[0].routes[0].when.sevrity: ${help}`,
      'tenants[0].routes[0].when.severity: unknown severity "urgent"; use critical, high, medium, low, info',
      `tenants[0].routes[0].when.data: ${help}`,
      `tenants[0].routes[0].when["resource.owner"]: ${help}`,
    ]);
  });

  it("checks the tenant's rateLimit and intakeRateLimit without hiding its sources' problems", () => {
    const yaml = `
tenants:
  - id: acme
    rateLimit: { capacity: 0, refillPerSecond: .inf }
    intakeRateLimit: { capcity: 5, refillPerSecond: 1, burst: 3 }
    sources: [{ id: gh, preset: github }]
  - id: beta
    rateLimit:
    intakeRateLimit: 100
`;
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].rateLimit.capacity: expected a positive integer",
      "tenants[0].rateLimit.refillPerSecond: expected a positive number, got Infinity",
      "tenants[0].intakeRateLimit.capacity: required",
      'tenants[0].intakeRateLimit.capcity: unknown key (did you mean "capacity"?)',
      "tenants[0].intakeRateLimit.burst: unknown key; allowed keys: capacity, refillPerSecond",
      "tenants[0].sources[0].secrets: required: at least one env:NAME or file:/path (several = rotation, any one may match)",
      "tenants[1].rateLimit: expected a mapping, got null",
      "tenants[1].intakeRateLimit: expected a mapping, got a number",
    ]);
  });

  it("suggests the tenant's limit keys for a typo", () => {
    const yaml =
      "tenants:\n  - id: acme\n    ratelimit: { capacity: 5, refillPerSecond: 1 }\n    intakeRateLimt: {}\n";
    assert.deepEqual(yamlProblems(yaml), [
      'tenants[0].ratelimit: unknown key (did you mean "rateLimit"?)',
      'tenants[0].intakeRateLimt: unknown key (did you mean "intakeRateLimit"?)',
    ]);
  });

  it("compiles tenant limits, absent ones staying undefined", () => {
    const yaml = `
tenants:
  - id: acme
    rateLimit: { capacity: 1, refillPerSecond: 0.001 }
  - id: beta
    intakeRateLimit: { capacity: 1000000000, refillPerSecond: 1000000000 }
`;
    const tenants = loadYaml(yaml).tenants;
    assert.deepEqual(tenants.get("acme")?.rateLimit, { capacity: 1, refillPerSecond: 0.001 });
    assert.equal(tenants.get("acme")?.intakeRateLimit, undefined);
    assert.equal(tenants.get("beta")?.rateLimit, undefined);
    assert.deepEqual(tenants.get("beta")?.intakeRateLimit, { capacity: 1e9, refillPerSecond: 1e9 });
  });
});
