import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Config, DestinationConfig, TenantConfig, WebhookDestinationConfig } from "../config/config.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { destinationFactory } from "./create-destination.ts";
import type { Destination } from "./destination.ts";
import { DestinationRegistry } from "./registry.ts";
import { WebhookDestination } from "./webhook/webhook-destination.ts";

function fake(tenant: string, id: string, onClose: () => Promise<void> = async () => {}): Destination {
  return {
    id,
    tenant,
    type: "fake",
    send: async () => ({ statusCode: 200, durationMs: 0 }),
    close: onClose,
  };
}

function webhook(tenant: string, id: string, url = "https://hooks.example.com/in"): WebhookDestinationConfig {
  return { type: "webhook", id, tenant, url, headers: {}, timeoutMs: 30_000 };
}

function tenants(...configs: DestinationConfig[]): Config["tenants"] {
  const map = new Map<string, TenantConfig>();
  for (const config of configs) {
    const tenant = map.get(config.tenant) ?? {
      id: config.tenant,
      providers: {},
      redaction: defaultRedactionPolicy(),
      sources: new Map(),
      destinations: new Map(),
      routes: [],
    };
    (tenant.destinations as Map<string, DestinationConfig>).set(config.id, config);
    map.set(config.tenant, tenant);
  }
  return map;
}

describe("DestinationRegistry", () => {
  test("looks destinations up by tenant and id", () => {
    const a = fake("acme", "hook");
    const b = fake("globex", "hook");
    const registry = new DestinationRegistry([a, b]);
    assert.equal(registry.get("acme", "hook"), a);
    assert.equal(registry.get("globex", "hook"), b);
    assert.equal(registry.get("acme", "other"), undefined);
    assert.equal(registry.get("initech", "hook"), undefined);
    assert.equal(registry.size, 2);
  });

  test("refuses duplicates", () => {
    assert.throws(
      () => new DestinationRegistry([fake("acme", "hook"), fake("acme", "hook")]),
      /duplicate destination acme\/hook/,
    );
  });

  test("builds webhook destinations from config", async () => {
    const registry = await DestinationRegistry.fromConfig(
      tenants(webhook("acme", "ops-hook"), webhook("globex", "alerts")),
      destinationFactory({ maxRetryAfterMs: 60_000 }),
    );
    assert.ok(registry.get("acme", "ops-hook") instanceof WebhookDestination);
    assert.equal(registry.get("globex", "alerts")?.type, "webhook");
    await registry.close();
  });

  test("a destination that fails to build closes the ones already built", async () => {
    const closed: string[] = [];
    await assert.rejects(
      DestinationRegistry.fromConfig(tenants(webhook("acme", "a"), webhook("acme", "b")), (config) => {
        if (config.id === "b") throw new Error("bad config");
        return fake(config.tenant, config.id, async () => {
          closed.push(config.id);
        });
      }),
      /bad config/,
    );
    assert.deepEqual(closed, ["a"]);
  });

  test("close closes every destination once, even when one fails", async () => {
    const closed: string[] = [];
    const registry = new DestinationRegistry([
      fake("acme", "a", async () => {
        closed.push("a");
        throw new Error("socket stuck");
      }),
      fake("acme", "b", async () => {
        closed.push("b");
      }),
    ]);
    await assert.rejects(
      registry.close(),
      (err: unknown) => err instanceof AggregateError && /acme\/a/.test(err.message),
    );
    await assert.rejects(registry.close(), AggregateError); // same promise, no second close
    assert.deepEqual(closed.sort(), ["a", "b"]);
  });
});
