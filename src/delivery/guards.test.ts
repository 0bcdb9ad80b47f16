import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryRateLimitStore } from "../adapters/memory/rate-limit-store.ts";
import type { Destination } from "../destinations/destination.ts";
import { isOwnRefusal } from "../domain/circuit-breaker.ts";
import { FakeClock } from "../ports/clock.ts";
import { CircuitBreakers } from "./circuit-breakers.ts";
import { DeliveryGuards } from "./guards.ts";

const destination = { id: "hook", tenant: "acme", type: "webhook" } as Destination;

function guards(clock: FakeClock, policy = { capacity: 1, refillPerSecond: 2 }) {
  const breakers = new CircuitBreakers({ clock });
  return {
    breakers,
    guards: new DeliveryGuards({
      breakers,
      rateLimits: new MemoryRateLimitStore({ clock }),
      bucketFor: () => ({ key: "delivery:acme:dest:hook", policy }),
      clock,
      random: () => 0.5,
    }),
  };
}

describe("DeliveryGuards", () => {
  it("queues refused jobs behind each other, one refill interval apart", async () => {
    const clock = new FakeClock();
    const { guards: g } = guards(clock);
    assert.equal((await g.admit("acme", destination)).kind, "proceed");
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const verdict = await g.admit("acme", destination);
      assert.equal(verdict.kind, "delay");
      if (verdict.kind === "delay") {
        assert.equal(verdict.reason, "rate_limited");
        delays.push(verdict.delayMs);
      }
    }
    // 2 tokens/s: the first waiter at the next token, each later one a further 500 ms on.
    assert.deepEqual(delays, [500, 1000, 1500, 2000]);
    clock.advance(2000);
    const later = await g.admit("acme", destination);
    assert.equal(later.kind, "proceed", "the bucket itself is unchanged by queue positions");
  });

  it("delays while the breaker is open, spread over a quarter of the wait", async () => {
    const clock = new FakeClock();
    const { guards: g } = guards(clock, { capacity: 100, refillPerSecond: 100 });
    for (let i = 0; i < 5; i++) {
      const verdict = await g.admit("acme", destination);
      assert.equal(verdict.kind, "proceed");
      if (verdict.kind === "proceed") g.settle(verdict.pass, { kind: "failure", reason: "server_error" });
    }
    const verdict = await g.admit("acme", destination);
    assert.deepEqual(verdict, { kind: "delay", reason: "circuit_open", delayMs: 60_000 + 7_500 });
  });

  it("treats our own refusals as no answer from the provider", () => {
    for (const reason of [
      "egress_denied",
      "redaction_failed",
      "template_render_failed",
      "destination_unknown",
      "event_missing",
    ] as const) {
      assert.equal(isOwnRefusal(reason), true, reason);
    }
    for (const reason of ["server_error", "timeout", "validation_failed", "invalid_auth"] as const) {
      assert.equal(isOwnRefusal(reason), false, reason);
    }
  });
});
