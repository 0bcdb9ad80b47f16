import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Config, TenantConfig } from "../config/config.ts";
import { silentLogger } from "../observability/logger.ts";
import { FakeClock } from "../ports/clock.ts";
import { errorAfterConsecutiveFailures, IntegrationRegistry } from "./registry.ts";

function config(): Config {
  const tenant = {
    id: "acme",
    providers: {},
    sources: new Map([["gh", { id: "gh", tenant: "acme", preset: "github" }]]),
    destinations: new Map([["hook", { id: "hook", tenant: "acme", type: "webhook" }]]),
    routes: [],
  } as unknown as TenantConfig;
  return { tenants: new Map([["acme", tenant]]) } as unknown as Config;
}

function status(registry: IntegrationRegistry, id: string) {
  return registry.list().find((item) => item.id === id);
}

describe("IntegrationRegistry lifecycle", () => {
  it("starts pending, becomes active on start, counts and averages", () => {
    const clock = new FakeClock();
    const registry = new IntegrationRegistry(config(), { clock, logger: silentLogger() });
    assert.equal(status(registry, "hook")?.status, "pending");
    registry.start();
    assert.deepEqual(registry.summary(), { pending: 0, active: 2, inactive: 0, error: 0 });
    registry.recordDelivery("acme", "hook", true, 10);
    registry.recordDelivery("acme", "hook", false, 30, "server_error: HTTP 503");
    clock.advance(5_000);
    const view = status(registry, "hook");
    assert.deepEqual(view?.counters, {
      sent: 1,
      failed: 1,
      averageResponseMs: 20,
      errorRate: 0.5,
      uptimeSeconds: 5,
    });
    assert.equal(view?.lastError, "server_error: HTTP 503");
    registry.recordIntake("acme", "gh", true);
    assert.deepEqual(status(registry, "gh")?.counters, {
      received: 1,
      processed: 1,
      errorRate: 0,
      uptimeSeconds: 5,
    });
  });

  it("turns error after consecutive failures and active again on a success", () => {
    const registry = new IntegrationRegistry(config(), { clock: new FakeClock(), logger: silentLogger() });
    registry.start();
    for (let i = 1; i < errorAfterConsecutiveFailures; i++)
      registry.recordDelivery("acme", "hook", false, 1, "x");
    assert.equal(status(registry, "hook")?.status, "active");
    registry.recordDelivery("acme", "hook", false, 1, "x");
    assert.equal(status(registry, "hook")?.status, "error");
    registry.recordDelivery("acme", "hook", true, 1);
    assert.equal(status(registry, "hook")?.status, "active");
  });

  it("goes inactive while the breaker is open and active when it closes", () => {
    const registry = new IntegrationRegistry(config(), { clock: new FakeClock(), logger: silentLogger() });
    registry.start();
    registry.recordBreaker("acme", "hook", "open");
    assert.equal(status(registry, "hook")?.status, "inactive");
    assert.equal(status(registry, "hook")?.lastError, null);
    registry.recordBreaker("acme", "hook", "half_open");
    assert.equal(status(registry, "hook")?.status, "inactive");
    registry.recordBreaker("acme", "hook", "closed");
    assert.equal(status(registry, "hook")?.status, "active");
    registry.recordBreaker("acme", "unknown", "open");
  });
});
