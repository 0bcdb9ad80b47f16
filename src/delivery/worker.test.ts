import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { Registry } from "prom-client";
import { WebhookSink } from "../../test/fakes/webhook-sink.ts";
import { MemoryQueue } from "../adapters/memory/queue.ts";
import { MemoryTrailStore } from "../adapters/memory/trail-store.ts";
import type { RetryPolicy, WebhookDestinationConfig } from "../config/config.ts";
import { createDestination } from "../destinations/create-destination.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destinations/destination.ts";
import { DestinationRegistry } from "../destinations/registry.ts";
import { genericRetryPolicy } from "../domain/backoff.ts";
import { DeferredError, RetryAfterError, RetryableError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import { deliveryIdempotencyKey } from "../domain/idempotency.ts";
import { createLogger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import { type Clock, FakeClock, systemClock } from "../ports/clock.ts";
import type { TrailEntry, TrailStore } from "../ports/trail.ts";
import { DeliveryWorker, type DeliveryWorkerPolicy, leaseMarginMs } from "./worker.ts";

/** The fake receivers listen on loopback, which the egress guard refuses unless allowed. */
const loopbackOnly = { allowPrivate: false, allowCidrs: ["127.0.0.1/32"] };

const tenant = "acme";
const source = "gh";
const hook = "ops-hook";

const policy: DeliveryWorkerPolicy = {
  retry: genericRetryPolicy, // 3 attempts, 100 ms initial, factor 2
  maxRetryAfterMs: 300_000,
  leaseMs: 60_000,
  maxLeases: 3,
  concurrency: 4,
  pollIntervalMs: 1_000,
};

let sink: WebhookSink;
before(async () => {
  sink = await WebhookSink.start();
});
after(() => sink.close());

interface Harness {
  readonly clock: FakeClock;
  readonly queue: MemoryQueue;
  readonly trail: MemoryTrailStore;
  readonly metrics: Metrics;
  readonly logs: Array<Record<string, unknown>>;
  readonly registry: DestinationRegistry;
  readonly worker: DeliveryWorker;
}

const harnesses: Harness[] = [];

interface HarnessOptions {
  readonly destinations?: readonly Destination[];
  readonly policy?: Partial<DeliveryWorkerPolicy>;
  readonly clock?: Clock;
  readonly trail?: TrailStore;
}

function webhookConfig(overrides: Partial<WebhookDestinationConfig> = {}): WebhookDestinationConfig {
  return { type: "webhook", id: hook, tenant, url: sink.url, headers: {}, timeoutMs: 5_000, ...overrides };
}

function harness(options: HarnessOptions = {}): Harness {
  const clock = new FakeClock();
  const workerClock = options.clock ?? clock;
  const trail = new MemoryTrailStore();
  const queue = new MemoryQueue({ clock: workerClock, trail });
  const metrics = new Metrics(new Registry());
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger("info", {
    write: (line: string) => {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const registry = new DestinationRegistry(
    options.destinations ?? [
      createDestination(webhookConfig(), {
        maxRetryAfterMs: 300_000,
        clock: workerClock,
        egress: loopbackOnly,
      }),
    ],
  );
  const worker = new DeliveryWorker({
    queue,
    trail: options.trail ?? trail,
    destinations: registry,
    clock: workerClock,
    random: () => 0.5,
    metrics,
    logger,
    policy: { ...policy, ...options.policy },
  });
  const h = { clock, queue, trail, metrics, logs, registry, worker };
  harnesses.push(h);
  return h;
}

beforeEach(() => {
  sink.reset();
});
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.worker.stop({ graceMs: 0 });
    await h.registry.close();
  }
});

function event(id: string, at: number): ZenEvent {
  return { id, tenant, source, type: "push", data: { n: 1 }, receivedAt: new Date(at).toISOString() };
}

async function enqueue(h: Harness, eventId = "evt-1", destination = hook): Promise<string> {
  const e = event(eventId, h.clock.now());
  const result = await h.queue.enqueue({
    event: e,
    dedupeTtlMs: 3_600_000,
    deliveries: [{ destination, idempotencyKey: deliveryIdempotencyKey(tenant, destination, eventId) }],
  });
  assert.equal(result.status, "enqueued");
  return deliveryIdempotencyKey(tenant, destination, eventId);
}

async function counter(
  metric: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return match?.value ?? 0;
}

function stages(entries: readonly TrailEntry[]): string[] {
  return entries.map((e) => (e.stage === "attempt" ? `attempt:${String(e.detail?.outcome)}` : e.stage));
}

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A destination whose sends are scripted in the test (for failures a real receiver cannot produce). */
class ScriptedDestination implements Destination {
  readonly type = "scripted";
  readonly tenant = tenant;
  readonly calls: DeliveryRequest[] = [];
  constructor(
    readonly id: string,
    private readonly script: (request: DeliveryRequest) => Promise<SendResult>,
    readonly retryPolicy?: RetryPolicy,
  ) {}
  send(request: DeliveryRequest): Promise<SendResult> {
    this.calls.push(request);
    return this.script(request);
  }
  async close(): Promise<void> {}
}

describe("DeliveryWorker: success", () => {
  test("delivers, completes the job, and records trail, metrics and a log line", async () => {
    const h = harness();
    const key = await enqueue(h);
    assert.equal(await h.worker.runOnce(), 1);

    assert.equal(sink.requests.length, 1);
    assert.equal(sink.requests[0]?.headers["idempotency-key"], key);
    assert.equal(sink.requests[0]?.headers["webhook-id"], key);
    const stats = await h.queue.stats();
    assert.deepEqual([stats.ready, stats.delayed, stats.leased, stats.dlq], [0, 0, 0, 0]);

    const trail = await h.trail.list(tenant, "evt-1");
    assert.deepEqual(stages(trail), ["attempt:delivered", "delivered"]);
    assert.deepEqual(trail[0]?.detail, { outcome: "delivered", statusCode: 200, durationMs: 0 });
    assert.equal(trail[0]?.attempt, 1);
    assert.equal(trail[0]?.destination, hook);

    assert.equal(await counter(h.metrics.deliveries, { tenant, destination: hook, outcome: "delivered" }), 1);
    const latency = await h.metrics.attemptLatency.get();
    assert.ok(latency.values.some((v) => v.labels.outcome === "delivered" && v.value === 1));

    const line = h.logs.find((l) => l.msg === "delivered");
    assert.ok(line);
    assert.equal(line.tenant, tenant);
    assert.equal(line.source, source);
    assert.equal(line.destination, hook);
    assert.equal(line.eventId, "evt-1");
    assert.equal(line.attempt, 1);
    assert.equal(line.statusCode, 200);
  });

  test("nothing due: runOnce returns 0 without touching the sink", async () => {
    const h = harness();
    assert.equal(await h.worker.runOnce(), 0);
    assert.equal(sink.requests.length, 0);
  });

  test("leases at most `concurrency` jobs per batch", async () => {
    const h = harness({ policy: { concurrency: 2 } });
    for (const id of ["a", "b", "c", "d", "e"]) await enqueue(h, id);
    assert.equal(await h.worker.runOnce(), 2);
    assert.equal(await h.worker.runOnce(), 2);
    assert.equal(await h.worker.runOnce(), 1);
    assert.equal(sink.requests.length, 5);
  });
});

describe("DeliveryWorker: retries", () => {
  test("backs off between failures, then delivers; no attempt before the backoff ends", async () => {
    const h = harness();
    sink.respond({ status: 500 }, { status: 503 }, { status: 200 });
    await enqueue(h);

    assert.equal(await h.worker.runOnce(), 1); // attempt 1: 500 → retry in 0.5 × 100 ms
    assert.equal(await h.queue.nextWakeAt(), h.clock.now() + 50);
    h.clock.advance(49);
    assert.equal(await h.worker.runOnce(), 0);
    h.clock.advance(1);
    assert.equal(await h.worker.runOnce(), 1); // attempt 2: 503 → retry in 0.5 × 200 ms
    h.clock.advance(99);
    assert.equal(await h.worker.runOnce(), 0);
    h.clock.advance(1);
    assert.equal(await h.worker.runOnce(), 1); // attempt 3: 200
    assert.equal(sink.requests.length, 3);

    const keys = new Set(sink.requests.map((r) => r.headers["idempotency-key"]));
    assert.equal(keys.size, 1, "every attempt carries the same idempotency key");
    const trail = await h.trail.list(tenant, "evt-1");
    assert.deepEqual(stages(trail), ["attempt:retry", "attempt:retry", "attempt:delivered", "delivered"]);
    assert.deepEqual(trail[0]?.detail, {
      outcome: "retry",
      statusCode: 500,
      durationMs: 0,
      reason: "server_error",
      nextDelayMs: 50,
    });
    assert.deepEqual(
      trail.map((e) => e.attempt),
      [1, 2, 3, 3],
    );
    assert.equal(await counter(h.metrics.retries, { destination: hook, reason: "server_error" }), 2);
    assert.equal(await counter(h.metrics.deliveries, { outcome: "retry" }), 2);
    const retryLog = h.logs.find((l) => l.msg === "delivery failed, retry scheduled");
    assert.equal(retryLog?.reason, "server_error");
    assert.equal(retryLog?.nextDelayMs, 50);
    assert.equal(retryLog?.attempt, 1);
  });

  test("exhausted retries go to the DLQ as retries_exhausted with the last error", async () => {
    const h = harness();
    sink.setFallback({ status: 500, body: "still broken" });
    await enqueue(h);
    for (let i = 0; i < 3; i++) {
      assert.equal(await h.worker.runOnce(), 1);
      h.clock.advance(genericRetryPolicy.maxDelayMs);
    }
    assert.equal(await h.worker.runOnce(), 0);
    assert.equal(sink.requests.length, 3);

    const page = await h.queue.listDlq({}, { limit: 10 });
    assert.equal(page.items.length, 1);
    const entry = page.items[0];
    assert.equal(entry?.reason, "retries_exhausted");
    assert.equal(entry?.attempts, 3);
    assert.equal(entry?.lastError, "server_error: HTTP 500: still broken");

    const trail = await h.trail.list(tenant, "evt-1");
    assert.deepEqual(stages(trail), [
      "attempt:retry",
      "attempt:retry",
      "attempt:dead_lettered",
      "dead_lettered",
    ]);
    assert.deepEqual(trail.at(-1)?.detail, {
      reason: "retries_exhausted",
      error: "server_error: HTTP 500: still broken",
    });
    assert.equal(
      await counter(h.metrics.deadLettered, { tenant, destination: hook, reason: "retries_exhausted" }),
      1,
    );
    const dlqLog = h.logs.find((l) => l.msg === "delivery dead-lettered");
    assert.equal(dlqLog?.reason, "retries_exhausted");
    assert.equal(dlqLog?.failureReason, "server_error");
    assert.equal(dlqLog?.attempt, 3);
  });

  test("a permanent failure goes to the DLQ at once with its reason", async () => {
    const h = harness();
    sink.respond({ status: 404 });
    await enqueue(h);
    assert.equal(await h.worker.runOnce(), 1);
    h.clock.advance(60_000);
    assert.equal(await h.worker.runOnce(), 0);
    assert.equal(sink.requests.length, 1);

    const [entry] = (await h.queue.listDlq({}, { limit: 10 })).items;
    assert.equal(entry?.reason, "not_found");
    assert.equal(entry?.attempts, 1);
    assert.equal(entry?.lastError, "not_found: HTTP 404: error 404");
    assert.equal(await counter(h.metrics.deadLettered, { reason: "not_found" }), 1);
    assert.equal(await counter(h.metrics.retries, {}), 0);
  });

  test("Retry-After is respected: no attempt before it, then delivered", async () => {
    const h = harness();
    sink.respond({ status: 429, headers: { "retry-after": "120" } }, { status: 200 });
    await enqueue(h);
    const start = h.clock.now();
    assert.equal(await h.worker.runOnce(), 1);
    assert.equal(await h.queue.nextWakeAt(), start + 120_000);
    h.clock.advance(119_999);
    assert.equal(await h.worker.runOnce(), 0);
    assert.equal(sink.requests.length, 1);
    h.clock.advance(1);
    assert.equal(await h.worker.runOnce(), 1);
    assert.equal(sink.requests.length, 2);
    assert.equal(await counter(h.metrics.retries, { reason: "rate_limited" }), 1);
    const trail = await h.trail.list(tenant, "evt-1");
    assert.equal(trail[0]?.detail?.nextDelayMs, 120_000);
    assert.equal(trail[0]?.detail?.reason, "rate_limited");
  });

  test("the worker clamps a destination's Retry-After to maxRetryAfterMs", async () => {
    const dest = new ScriptedDestination(hook, async () => {
      throw new RetryAfterError("retry_after", 86_400_000, "HTTP 503");
    });
    const h = harness({ destinations: [dest], policy: { maxRetryAfterMs: 30_000 } });
    await enqueue(h);
    await h.worker.runOnce();
    assert.equal(await h.queue.nextWakeAt(), h.clock.now() + 30_000);
  });

  test("a deferral (lock_busy) comes back after its delay uncharged: more deferrals than attempts still deliver", async () => {
    let deferrals = 0;
    const dest = new ScriptedDestination(hook, async () => {
      if (deferrals < 5) {
        deferrals += 1;
        throw new DeferredError(1_500, "another delivery holds the ticket lock");
      }
      return { statusCode: 200, durationMs: 1 };
    });
    const h = harness({ destinations: [dest] }); // the queue allows 3 attempts
    await enqueue(h);
    for (let i = 0; i < 5; i += 1) {
      await h.worker.runOnce();
      assert.equal(await h.queue.nextWakeAt(), h.clock.now() + 1_500, "back exactly after the deferral");
      assert.equal(await h.worker.runOnce(), 0, "not before");
      h.clock.advance(1_500);
    }
    await h.worker.runOnce();
    assert.equal(dest.calls.length, 6);
    assert.deepEqual(
      dest.calls.map((c) => c.attempt),
      [1, 1, 1, 1, 1, 1],
      "no attempt was charged",
    );
    const stats = await h.queue.stats();
    assert.deepEqual([stats.ready, stats.delayed, stats.leased, stats.dlq], [0, 0, 0, 0]);
    assert.equal(await counter(h.metrics.deliveryDelays, { reason: "lock_busy" }), 5);
    assert.equal(await counter(h.metrics.retries, {}), 0);
    const trail = await h.trail.list(tenant, "evt-1");
    assert.equal(stages(trail).filter((s) => s === "delayed").length, 5);
  });

  test("a destination's own retry policy wins over the queue's", async () => {
    const dest = new ScriptedDestination(
      hook,
      async () => {
        throw new RetryableError("server_error", "HTTP 500");
      },
      { ...genericRetryPolicy, attempts: 1 },
    );
    const h = harness({ destinations: [dest] });
    await enqueue(h);
    await h.worker.runOnce();
    const [entry] = (await h.queue.listDlq({}, { limit: 10 })).items;
    assert.equal(entry?.reason, "retries_exhausted");
    assert.equal(dest.calls.length, 1);
  });

  test("an untyped error from a destination is retried as unknown", async () => {
    const dest = new ScriptedDestination(hook, async () => {
      throw new Error("bug in a destination");
    });
    const h = harness({ destinations: [dest] });
    await enqueue(h);
    await h.worker.runOnce();
    assert.equal(await counter(h.metrics.retries, { reason: "unknown" }), 1);
  });

  test("the worker's attempt deadline bounds a destination without its own", async () => {
    // Never answers; gives up only when the worker's signal says so, as every destination must.
    const waitsForever: Destination = {
      id: hook,
      tenant,
      type: "scripted",
      close: async () => {},
      send: (_request, signal) =>
        new Promise<SendResult>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    };
    const h = harness({ destinations: [waitsForever] });
    const worker = new DeliveryWorker({
      queue: h.queue,
      trail: h.trail,
      destinations: h.registry,
      metrics: h.metrics,
      logger: createLogger("silent"),
      policy,
      clock: h.clock,
      attemptDeadlineMs: 50,
    });
    await enqueue(h);
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await counter(h.metrics.retries, { reason: "timeout" }), 1);
    await worker.stop({ graceMs: 0 });
  });

  test("a timeout retries with backoff", async () => {
    const h = harness({
      destinations: [
        createDestination(webhookConfig({ timeoutMs: 100 }), {
          egress: loopbackOnly,
          maxRetryAfterMs: 300_000,
          clock: new FakeClock(),
        }),
      ],
    });
    sink.respond({ hang: true });
    await enqueue(h);
    await h.worker.runOnce();
    assert.equal(await counter(h.metrics.retries, { reason: "timeout" }), 1);
  });
});

describe("DeliveryWorker: dead ends", () => {
  test("an unknown destination is dead-lettered uncharged without a send", async () => {
    const h = harness();
    await enqueue(h, "evt-1", "removed-from-config");
    assert.equal(await h.worker.runOnce(), 1);
    assert.equal(sink.requests.length, 0);
    const [entry] = (await h.queue.listDlq({}, { limit: 10 })).items;
    assert.equal(entry?.reason, "destination_unknown");
    assert.equal(entry?.attempts, 0);
    assert.deepEqual(stages(await h.trail.list(tenant, "evt-1")), ["dead_lettered"]);
    assert.equal(await counter(h.metrics.deadLettered, { reason: "destination_unknown" }), 1);
  });

  test("a poison pill returned by lease is surfaced in metrics, trail and logs", async () => {
    const h = harness({ policy: { maxLeases: 2 } });
    await enqueue(h);
    // Two workers crash mid-send: the job is leased and its lease expires, twice.
    for (let i = 0; i < 2; i++) {
      const { jobs } = await h.queue.lease({ limit: 1, leaseMs: policy.leaseMs, maxLeases: 2 });
      assert.equal(jobs.length, 1);
      h.clock.advance(policy.leaseMs);
    }
    assert.equal(await h.worker.runOnce(), 0);
    assert.equal(sink.requests.length, 0);

    const [entry] = (await h.queue.listDlq({}, { limit: 10 })).items;
    assert.equal(entry?.reason, "poison_pill");
    assert.equal(
      await counter(h.metrics.deadLettered, { tenant, destination: hook, reason: "poison_pill" }),
      1,
    );
    assert.equal(await counter(h.metrics.deliveries, { outcome: "dead_lettered" }), 1);
    const trail = await h.trail.list(tenant, "evt-1");
    assert.deepEqual(stages(trail), ["quarantined"]);
    assert.equal(trail[0]?.detail?.reason, "poison_pill");
    const line = h.logs.find((l) => l.msg === "delivery quarantined: its lease kept expiring");
    assert.equal(line?.eventId, "evt-1");
    assert.equal(line?.reason, "poison_pill");
  });

  test("a lost lease is logged and not counted as delivered", async () => {
    let h: Harness | undefined;
    const dest = new ScriptedDestination(hook, async () => {
      // While this send is slow, the lease expires and another worker takes the job.
      assert.ok(h);
      h.clock.advance(policy.leaseMs);
      const { jobs } = await h.queue.lease({ limit: 1, leaseMs: policy.leaseMs, maxLeases: 5 });
      assert.equal(jobs.length, 1);
      return { statusCode: 200, durationMs: 1 };
    });
    h = harness({ destinations: [dest] });
    await enqueue(h);
    await h.worker.runOnce();
    assert.equal(await counter(h.metrics.deliveries, { outcome: "delivered" }), 0);
    assert.ok(
      h.logs.some((l) => l.msg === "lease lost: another worker owns the job" && l.operation === "complete"),
    );
  });

  test("a failing trail store does not block delivery", async () => {
    const broken: TrailStore = {
      append: async () => {
        throw new Error("disk full");
      },
      list: async () => [],
      prune: async () => 0,
      close: async () => {},
    };
    const h = harness({ trail: broken });
    await enqueue(h);
    assert.equal(await h.worker.runOnce(), 1);
    assert.equal((await h.queue.stats()).ready, 0);
    assert.equal(await counter(h.metrics.deliveries, { outcome: "delivered" }), 1);
    assert.ok(h.logs.some((l) => l.msg === "trail write failed; delivery state is unaffected"));
  });
});

describe("DeliveryWorker: lifecycle", () => {
  test("start() delivers on enqueue and retries on its timer, without runOnce", async () => {
    const h = harness({
      clock: systemClock,
      policy: { retry: { ...genericRetryPolicy, initialDelayMs: 20, jitter: false } },
    });
    sink.respond({ status: 503 }, { status: 200 });
    h.worker.start();
    const startedAt = Date.now();
    await enqueue(h);
    await waitUntil(async () => (await counter(h.metrics.deliveries, { outcome: "delivered" })) === 1);
    // The retry came from the timer at nextWakeAt (20 ms), not from the 1 s poll interval.
    assert.ok(Date.now() - startedAt < 800, `took ${Date.now() - startedAt} ms`);
    assert.equal(sink.requests.length, 2);
    assert.deepEqual(await h.worker.stop({ graceMs: 1_000 }), { released: 0 });
  });

  test("an enqueue wakes an idle worker at once, not at the next poll", async () => {
    const h = harness({ clock: systemClock, policy: { pollIntervalMs: 10_000 } });
    h.worker.start();
    await new Promise((resolve) => setTimeout(resolve, 50)); // idle: the 10 s poll timer is armed
    await enqueue(h);
    await waitUntil(async () => (await counter(h.metrics.deliveries, { outcome: "delivered" })) === 1, 1_000);
  });

  test("a finished send frees its slot and wakes the loop for the next due job", async () => {
    const h = harness({ clock: systemClock, policy: { concurrency: 1, pollIntervalMs: 10_000 } });
    sink.respond({ status: 200, delayMs: 30 }, { status: 200 });
    await enqueue(h, "first");
    await enqueue(h, "second");
    h.worker.start();
    await waitUntil(async () => (await counter(h.metrics.deliveries, { outcome: "delivered" })) === 2, 1_000);
  });

  test("stop() lets in-flight sends finish within the grace period", async () => {
    const h = harness({ clock: systemClock });
    sink.respond({ status: 200, delayMs: 100 });
    h.worker.start();
    await enqueue(h);
    await sink.waitForRequests(1);
    assert.equal(h.worker.inFlightCount, 1);
    assert.deepEqual(await h.worker.stop({ graceMs: 5_000 }), { released: 0 });
    assert.equal(await counter(h.metrics.deliveries, { outcome: "delivered" }), 1);
  });

  test("stop() after the grace period aborts and releases in-flight jobs uncharged", async () => {
    const h = harness({ clock: systemClock });
    sink.respond({ hang: true });
    h.worker.start();
    const key = await enqueue(h);
    await sink.waitForRequests(1);

    assert.deepEqual(await h.worker.stop({ graceMs: 50 }), { released: 1 });
    assert.equal(h.worker.inFlightCount, 0);
    assert.equal(await h.worker.runOnce(), 0, "a stopped worker leases nothing");
    const [job] = await h.queue.jobsOfEvent(tenant, "evt-1");
    assert.equal(job?.attempts, 0, "the interrupted attempt is not charged");
    const stats = await h.queue.stats();
    assert.deepEqual([stats.ready, stats.leased, stats.dlq], [1, 0, 0]);
    assert.equal(await counter(h.metrics.deliveries, { outcome: "released" }), 1);
    assert.deepEqual(stages(await h.trail.list(tenant, "evt-1")), ["attempt:released"]);
    assert.ok(h.logs.some((l) => l.msg === "delivery released on shutdown" && l.eventId === "evt-1"));

    // Another worker picks the job up at once and delivers it with the same idempotency key.
    const next = new DeliveryWorker({
      queue: h.queue,
      trail: h.trail,
      destinations: h.registry,
      metrics: h.metrics,
      logger: createLogger("silent"),
      policy,
      clock: systemClock,
    });
    assert.equal(await next.runOnce(), 1);
    assert.equal(sink.requests.length, 2);
    assert.equal(sink.requests[1]?.headers["idempotency-key"], key);
    assert.equal(await counter(h.metrics.deliveries, { outcome: "delivered" }), 1);
    await next.stop({ graceMs: 0 });
  });

  test("jobs leased while stop() begins are given back unattempted", async () => {
    const h = harness();
    await enqueue(h);
    const running = h.worker.runOnce(); // its lease call is in flight when stop() starts
    const stopped = h.worker.stop({ graceMs: 0 });
    assert.equal(await running, 0);
    assert.deepEqual(await stopped, { released: 0 });
    assert.equal(sink.requests.length, 0);
    const [job] = await h.queue.jobsOfEvent(tenant, "evt-1");
    assert.equal(job?.attempts, 0);
    assert.equal((await h.queue.stats()).ready, 1);
  });

  test("stop() is idempotent", async () => {
    const h = harness();
    h.worker.start();
    const [a, b] = await Promise.all([h.worker.stop({ graceMs: 0 }), h.worker.stop({ graceMs: 0 })]);
    assert.deepEqual(a, b);
  });

  test("refuses a lease that cannot cover the attempt deadline", () => {
    assert.throws(
      () => harness({ policy: { leaseMs: 30_000 + leaseMarginMs - 1 } }),
      (err: unknown) =>
        err instanceof RangeError && /queue\.leaseMs \(34999\) must be at least/.test(err.message),
    );
  });
});
