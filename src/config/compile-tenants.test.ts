import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { yamlProblems } from "./testing.ts";

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
});
