import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfig, TenantConfig } from "../config/config.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import type { ZenEvent } from "./event.ts";
import { eventField, globMatches, matchRoutes, routeMatches } from "./route-match.ts";

const event: ZenEvent = {
  id: "e1",
  tenant: "acme",
  source: "gh",
  type: "pull_request",
  severity: "high",
  data: { action: "opened", repository: { name: "api" }, labels: ["a", "b"], count: 3 },
  headers: { "x-github-event": "pull_request" },
  receivedAt: "2026-01-01T00:00:00.000Z",
};

function tenant(routes: RouteConfig[]): TenantConfig {
  return {
    id: "acme",
    providers: {},
    redaction: defaultRedactionPolicy(),
    sources: new Map(),
    destinations: new Map(),
    routes,
  };
}

describe("route matching", () => {
  it("globs match prefixes and exact values", () => {
    assert.equal(globMatches("invoice.*", "invoice.paid"), true);
    assert.equal(globMatches("invoice.*", "invoices.paid"), false);
    assert.equal(globMatches("push", "push"), true);
    assert.equal(globMatches("push", "pushed"), false);
    assert.equal(globMatches("a.b", "aXb"), false, "dots are literal");
  });

  it("reads nested, array and header fields", () => {
    assert.equal(eventField(event, "data.repository.name"), "api");
    assert.equal(eventField(event, "data.labels.1"), "b");
    assert.equal(eventField(event, "data.count"), "3");
    assert.equal(eventField(event, "headers.x-github-event"), "pull_request");
    assert.equal(eventField(event, "data.repository"), undefined, "objects do not match");
    assert.equal(eventField(event, "data.missing.deeper"), undefined);
  });

  it("applies from, types and when together", () => {
    const base: RouteConfig = { index: 0, to: ["d"] };
    assert.equal(routeMatches(base, event), true);
    assert.equal(routeMatches({ ...base, from: ["other"] }, event), false);
    assert.equal(routeMatches({ ...base, types: ["push", "pull_*"] }, event), true);
    assert.equal(routeMatches({ ...base, types: ["push"] }, event), false);
    assert.equal(
      routeMatches({ ...base, when: { "data.action": "opened", severity: ["high", "critical"] } }, event),
      true,
    );
    assert.equal(routeMatches({ ...base, when: { "data.action": "closed" } }, event), false);
    assert.equal(routeMatches({ ...base, when: { "data.nothing": "x" } }, event), false);
  });

  it("fans out to every matching route's destinations, each once, in order", () => {
    const match = matchRoutes(
      tenant([
        { index: 0, from: ["gh"], to: ["hook-a", "hook-b"] },
        { index: 1, types: ["push"], to: ["never"] },
        { index: 2, when: { severity: "high" }, to: ["hook-b", "hook-c"] },
      ]),
      event,
    );
    assert.deepEqual(match.routes, [0, 2]);
    assert.deepEqual(match.destinations, ["hook-a", "hook-b", "hook-c"]);
  });

  it("matches nothing when no route applies", () => {
    assert.deepEqual(matchRoutes(tenant([{ index: 0, from: ["x"], to: ["d"] }]), event), {
      routes: [],
      destinations: [],
    });
  });
});
