/**
 * The egress guard end to end: `createDestination` → `WebhookDestination` → undici → guard, and the
 * worker dead-lettering the refusal. Refusals are proven without any connection attempt (spies on the
 * wrapped connector and on `net.connect`/`tls.connect`); the positive control talks to 127.0.0.1 only.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, type TestContext, test } from "node:test";
import tls from "node:tls";
import { Registry } from "prom-client";
import { WebhookSink } from "../../../test/fakes/webhook-sink.ts";
import { MemoryQueue } from "../../adapters/memory/queue.ts";
import { MemoryTrailStore } from "../../adapters/memory/trail-store.ts";
import type { WebhookDestinationConfig } from "../../config/config.ts";
import { DeliveryWorker } from "../../delivery/worker.ts";
import { genericRetryPolicy } from "../../domain/backoff.ts";
import { PermanentError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { deliveryIdempotencyKey } from "../../domain/idempotency.ts";
import { createLogger } from "../../observability/logger.ts";
import { Metrics } from "../../observability/metrics.ts";
import { FakeClock } from "../../ports/clock.ts";
import { createDestination, type DestinationDeps } from "../create-destination.ts";
import type { Destination } from "../destination.ts";
import { DestinationRegistry } from "../registry.ts";
import type { ConnectorFactory } from "../webhook/egress-policy.ts";
import type { LookupFn } from "./egress-guard.ts";

const tenant = "acme";
const hook = "ops-hook";
const privateRemedy = "set ZEN_EGRESS_ALLOW_PRIVATE=true or allow the CIDR in ZEN_EGRESS_ALLOW_CIDRS";

const event: ZenEvent = {
  id: "evt-1",
  tenant,
  source: "gh",
  type: "push",
  data: { n: 1 },
  receivedAt: "2026-01-01T00:00:00.000Z",
};

function webhook(url: string): WebhookDestinationConfig {
  return { type: "webhook", id: hook, tenant, url, headers: {}, timeoutMs: 5_000 };
}

/** Counts what reaches the wrapped connector (the last step before `net.connect`) and every socket. */
function noConnections(t: TestContext) {
  let connects = 0;
  const connectorFactory: ConnectorFactory = () => (_target, callback) => {
    connects += 1;
    callback(new Error("spy: this test must not connect"), null);
  };
  const sockets = [t.mock.method(net, "connect"), t.mock.method(tls, "connect")];
  return {
    connectorFactory,
    assertNone() {
      assert.equal(connects, 0, "the wrapped connector was called");
      assert.equal(
        sockets.reduce((n, s) => n + s.mock.callCount(), 0),
        0,
        "a socket was opened",
      );
    },
  };
}

const destinations: Destination[] = [];
function destination(url: string, deps: Partial<DestinationDeps> = {}): Destination {
  const d = createDestination(webhook(url), { maxRetryAfterMs: 60_000, ...deps });
  destinations.push(d);
  return d;
}
after(() => Promise.all(destinations.map((d) => d.close())));

async function sendRefused(d: Destination): Promise<PermanentError> {
  const attempt = d.send({ event, idempotencyKey: "k", attempt: 1 }, new AbortController().signal);
  const err = await attempt.then(
    () => assert.fail("expected egress_denied"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PermanentError, String(err));
  assert.equal(err.reason, "egress_denied");
  return err;
}

describe("WebhookDestination behind the egress guard", () => {
  test("http://10.0.0.1/ is refused with egress_denied and no connection attempt (default deps)", async (t) => {
    const spy = noConnections(t);
    const err = await sendRefused(
      destination("http://10.0.0.1/hook", { connectorFactory: spy.connectorFactory }),
    );
    assert.equal(err.message, `destination address 10.0.0.1 is private (10.0.0.0/8); ${privateRemedy}`);
    spy.assertNone();
  });

  test("the metadata endpoint stays refused even with ZEN_EGRESS_ALLOW_PRIVATE=true", async (t) => {
    const spy = noConnections(t);
    const d = destination("https://169.254.169.254/latest/meta-data/iam/", {
      egress: { allowPrivate: true, allowCidrs: [] },
      connectorFactory: spy.connectorFactory,
    });
    const err = await sendRefused(d);
    assert.equal(
      err.message,
      "destination address 169.254.169.254 is a cloud metadata endpoint (169.254.169.254/32); " +
        "only a ZEN_EGRESS_ALLOW_CIDRS entry allows it (ZEN_EGRESS_ALLOW_PRIVATE does not)",
    );
    spy.assertNone();
  });

  test("a hostname whose DNS answer is private is refused after one lookup", async (t) => {
    const spy = noConnections(t);
    const lookups: string[] = [];
    const egressLookup: LookupFn = async (hostname) => {
      lookups.push(hostname);
      return [{ address: "10.0.0.1", family: 4 }];
    };
    const err = await sendRefused(
      destination("https://hooks.tenant.test/x?token=secret", {
        egressLookup,
        connectorFactory: spy.connectorFactory,
      }),
    );
    assert.equal(
      err.message,
      `destination address 10.0.0.1 (from DNS) is private (10.0.0.0/8); ${privateRemedy}`,
    );
    assert.deepEqual(lookups, ["hooks.tenant.test"]);
    spy.assertNone();
  });

  describe("allowed loopback (positive control, 127.0.0.1 only)", () => {
    let sink: WebhookSink;
    before(async () => {
      sink = await WebhookSink.start();
    });
    after(() => sink.close());

    test("an allowlisted 127.0.0.1 is delivered to", async () => {
      const d = destination(sink.url, { egress: { allowPrivate: false, allowCidrs: ["127.0.0.1/32"] } });
      const result = await d.send({ event, idempotencyKey: "k", attempt: 1 }, new AbortController().signal);
      assert.equal(result.statusCode, 200);
      assert.equal(sink.requests.length, 1);
    });

    test("without an allowance the same sink is refused", async () => {
      const before = sink.requests.length;
      await sendRefused(destination(sink.url));
      assert.equal(sink.requests.length, before);
    });
  });
});

describe("the worker dead-letters a refused destination", () => {
  for (const url of ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/hook"]) {
    test(`${url} → DLQ reason egress_denied after one attempt`, async (t) => {
      const spy = noConnections(t);
      const clock = new FakeClock();
      const trail = new MemoryTrailStore();
      const queue = new MemoryQueue({ clock, trail });
      const registry = new DestinationRegistry([
        createDestination(webhook(url), {
          maxRetryAfterMs: 60_000,
          clock,
          connectorFactory: spy.connectorFactory,
        }),
      ]);
      const worker = new DeliveryWorker({
        queue,
        trail,
        destinations: registry,
        clock,
        random: () => 0.5,
        metrics: new Metrics(new Registry()),
        logger: createLogger("silent", { write: () => {} }),
        policy: {
          retry: genericRetryPolicy,
          maxRetryAfterMs: 60_000,
          leaseMs: 60_000,
          maxLeases: 3,
          concurrency: 1,
          pollIntervalMs: 1_000,
        },
      });
      t.after(async () => {
        await worker.stop({ graceMs: 0 });
        await registry.close();
      });
      await queue.enqueue({
        event,
        dedupeTtlMs: 3_600_000,
        deliveries: [{ destination: hook, idempotencyKey: deliveryIdempotencyKey(tenant, hook, event.id) }],
      });

      assert.equal(await worker.runOnce(), 1);
      const [entry, ...rest] = (await queue.listDlq({}, { limit: 10 })).items;
      assert.equal(rest.length, 0);
      assert.equal(entry?.reason, "egress_denied");
      assert.equal(entry?.attempts, 1);
      assert.match(
        entry?.lastError ?? "",
        /^egress_denied: destination address (169\.254\.169\.254|10\.0\.0\.1) is /,
      );
      spy.assertNone();
    });
  }
});
