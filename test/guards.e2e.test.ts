/**
 * The delivery guards end to end (issue 3), through the real interfaces only: signed webhooks posted
 * to the real HTTP intake, the real SQLite queue and worker, outbound requests to real HTTP receivers
 * (the scripted sink), and the outcome read back from the receivers, `/admin/...`, `/ready` and
 * `/metrics`.
 *
 * Timing: every wait polls with a deadline. The only measured gaps are guarantees the guards make
 * ("no attempt before X"): they are checked against the sink's arrival times, which use the same
 * clock (`Date.now`) as the breaker and the buckets, so lower bounds need no tolerance.
 *
 * The Retry-After case of the issue (a 429 with `Retry-After: 2` gets no attempt before 2 s) is in
 * delivery.e2e.test.ts ("honours Retry-After: 2 on a 429").
 *
 * Egress: no test here may send a packet to a non-loopback address. The guard refuses before any
 * socket exists (unit-tested with spies in src/destinations/egress/); on top of that, the egress suite
 * wraps `net.connect` so that a regression fails the test instead of reaching 10.0.0.1 or the cloud
 * metadata endpoint.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it, mock } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultBreakerPolicy } from "../src/domain/circuit-breaker.ts";
import { type RecordedRequest, WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, postSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "gh-guards-e2e-secret-not-real";
const hookSecret = "whsec_Z3VhcmRzLWUyZS1zaW5rLXNlY3JldC1ub3QtcmVhbA=="; // fake: base64 of a made-up text
const adminToken = "guards-e2e-admin-token-not-real";

// ─── reading the service back ────────────────────────────────────────────────────────────────────────

interface TrailEntry {
  readonly at: number;
  readonly stage: string;
  readonly destination?: string;
  readonly attempt?: number;
  readonly detail?: Record<string, unknown>;
}

interface Trace {
  readonly destinations: Record<string, { state: string; detail: string }>;
  readonly trail: readonly TrailEntry[];
}

interface DlqItem {
  readonly tenant: string;
  readonly destination: string;
  readonly eventId: string;
  readonly reason: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

interface BreakerRow {
  readonly tenant: string;
  readonly destination: string;
  readonly state: string;
  readonly consecutiveFailures: number | null;
  readonly probesInFlight: number | null;
  readonly openedAt: string | null;
  readonly retryAt: string | null;
}

interface ReadyBody {
  readonly status: string;
  readonly components: {
    readonly breakers: {
      readonly open: number;
      readonly halfOpen: number;
      readonly destinations: readonly { tenant: string; destination: string; state: string }[];
    };
  };
}

async function adminGet<T>(service: TestService, path: string): Promise<T> {
  const response = await fetch(`${service.url}${path}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const body = (await response.json()) as T;
  assert.equal(response.status, 200, `GET ${path}: ${JSON.stringify(body)}`);
  return body;
}

const trace = (service: TestService, tenant: string, eventId: string) =>
  adminGet<Trace>(service, `/admin/events/${tenant}/${eventId}`);

const dlq = async (service: TestService, tenant: string) =>
  (await adminGet<{ items: DlqItem[] }>(service, `/admin/dlq?tenant=${tenant}&limit=500`)).items;

async function breaker(service: TestService, tenant: string, destination: string): Promise<BreakerRow> {
  const { items } = await adminGet<{ items: BreakerRow[] }>(service, "/admin/breakers");
  const row = items.find((item) => item.tenant === tenant && item.destination === destination);
  assert.ok(row, `no breaker row for ${tenant}/${destination}: ${JSON.stringify(items)}`);
  return row;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of one `/metrics` scrape (Prometheus text format). */
async function scrape(service: TestService): Promise<Sample[]> {
  const response = await fetch(`${service.url}/metrics`);
  assert.equal(response.status, 200);
  const samples: Sample[] = [];
  for (const line of (await response.text()).split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || line.startsWith("#")) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (key !== undefined) labels[key] = value ?? "";
    }
    samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include `labels`. */
function matching(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
}

/** Sum over the matching samples; 0 when there is none (a counter never incremented is absent). */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return matching(samples, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** The event id of an outbound webhook (the body is the canonical event). */
function eventIdOf(request: RecordedRequest): string {
  return (JSON.parse(request.body) as { id: string }).id;
}

const arrivalsIn = (requests: readonly RecordedRequest[], fromMs: number, toMs: number) =>
  requests.filter((r) => r.receivedAt >= fromMs && r.receivedAt < toMs).length;

const attemptsOf = (t: Trace, destination: string) =>
  t.trail.filter((e) => e.stage === "attempt" && e.destination === destination);

// ─── circuit breaker ─────────────────────────────────────────────────────────────────────────────────

describe("circuit breaker: a 503 storm opens it, probes test it, recovery closes it", () => {
  const tenant = "acme";
  const destination = "storm";
  const maxFailures = 5;
  const resetTimeoutMs = 2_000;
  const concurrency = 4;
  const { halfOpenProbes } = defaultBreakerPolicy; // 3, not configurable
  const events = 20;
  /**
   * Every answer waits this long, so a round of sends overlaps: the breaker sees in-flight requests
   * when it opens, and a half-open period can fill all its probe slots before the first answer.
   */
  const answerDelayMs = 150;
  let service: TestService;
  let sink: WebhookSink;

  before(async () => {
    sink = await WebhookSink.start({ fallback: { status: 503, delayMs: answerDelayMs } });
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
      "    destinations:",
      `      - { id: ${destination}, type: webhook, url: "${sink.url}", secret: env:HOOK_SECRET }`,
      "    routes:",
      `      - { from: [gh], to: [${destination}] }`,
    ].join("\n");
    service = await startTestService({
      yaml,
      env: {
        GH_SECRET: ghSecret,
        HOOK_SECRET: hookSecret,
        ZEN_ADMIN_TOKEN: adminToken,
        CIRCUIT_BREAKER_MAX_FAILURES: String(maxFailures),
        CIRCUIT_BREAKER_TIMEOUT: "2s",
        // 5 attempts: no event can exhaust them here (at most 2 failures each), so the DLQ stays empty
        // unless a delay were charged as an attempt.
        QUEUE_MAX_RETRIES: "5",
        ZEN_CONCURRENCY: String(concurrency),
      },
    });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
  });

  it("pauses deliveries while open, lets at most 3 probes through, and delivers everything after recovery without charging the delays", async () => {
    const ids = Array.from({ length: events }, (_, i) => `evt-storm-${i + 1}`);
    await Promise.all(
      ids.map((eventId) =>
        acceptSignedGithub({ baseUrl: service.url, tenant, source: "gh", secret: ghSecret, eventId }),
      ),
    );

    // ── Open #1. Polled every 20 ms; it stays open for 2 s, so it cannot be missed.
    const open1 = await waitFor("the breaker to open", async () => {
      const row = await breaker(service, tenant, destination);
      return row.state === "open" ? row : undefined;
    });
    const openedAt1 = Date.parse(open1.openedAt ?? "");
    const retryAt1 = Date.parse(open1.retryAt ?? "");
    assert.equal(retryAt1 - openedAt1, resetTimeoutMs);
    assert.equal(open1.consecutiveFailures, null);

    // While open: the gauge says 2, and /ready stays 200 but names the open breaker.
    const whileOpen = await scrape(service);
    assert.equal(total(whileOpen, "zen_circuit_state", { tenant, destination }), 2);
    const ready = await fetch(`${service.url}/ready`);
    const readyBody = (await ready.json()) as ReadyBody;
    assert.equal(ready.status, 200, JSON.stringify(readyBody));
    assert.equal(readyBody.status, "ready");
    assert.deepEqual(readyBody.components.breakers, {
      open: 1,
      halfOpen: 0,
      destinations: [{ tenant, destination, state: "open" }],
    });
    assert.ok(Date.now() < retryAt1, "the checks above ran while the breaker was still open");

    // ── Half-open #1 with the sink still failing: a probe fails, the breaker opens again (open #2).
    const open2 = await waitFor(
      "the breaker to reopen after its failed probes",
      async () => {
        const row = await breaker(service, tenant, destination);
        return row.state === "open" && row.openedAt !== open1.openedAt ? row : undefined;
      },
      10_000,
    );
    const openedAt2 = Date.parse(open2.openedAt ?? "");
    const retryAt2 = Date.parse(open2.retryAt ?? "");
    assert.ok(openedAt2 >= retryAt1, "reopened only after the first open period ended");

    // ── Recovery during open #2. Every request that arrived before this line got a 503 (the sink
    // picks the answer on arrival); the successes still take `answerDelayMs`, so the half-open #2
    // probes are answered, and the breaker closed, no earlier than retryAt2 + answerDelayMs.
    const served503 = sink.requests.length;
    sink.setFallback({ status: 200, delayMs: answerDelayMs });
    assert.ok(Date.now() < retryAt2, "recovered while the breaker was still open");

    await waitFor(
      `all ${events} events to be delivered`,
      async () => {
        const samples = await scrape(service);
        return (
          total(samples, "zen_deliveries_total", { tenant, destination, outcome: "delivered" }) === events
        );
      },
      15_000,
    );
    const requests = [...sink.requests];
    const diagnostics = JSON.stringify({
      openedAt1,
      retryAt1,
      openedAt2,
      retryAt2,
      served503,
      arrivals: requests.map((r) => r.receivedAt),
    });

    // Closed period: exactly `maxFailures` failures were recorded before it opened, plus whatever was
    // already in flight then: every worker slot but the one whose failure opened it.
    const closedPeriod = arrivalsIn(requests, 0, retryAt1);
    assert.ok(closedPeriod >= maxFailures, `closed period: ${closedPeriod} arrivals; ${diagnostics}`);
    assert.ok(
      closedPeriod <= maxFailures + concurrency - 1,
      `closed period: ${closedPeriod} arrivals > ${maxFailures} + ${concurrency - 1} in flight; ${diagnostics}`,
    );
    // Open #1: nothing new was admitted. Only requests already in flight can land after it opened,
    // and they land at once, not later in the window.
    assert.ok(arrivalsIn(requests, openedAt1, retryAt1) <= concurrency - 1, diagnostics);
    assert.equal(
      arrivalsIn(requests, openedAt1 + 1_000, retryAt1),
      0,
      `arrivals late in open #1; ${diagnostics}`,
    );
    // Half-open #1: the probes (and nothing else) arrive from retryAt1 until open #2 ends; some may
    // land just after the first failed probe reopened it.
    const probes1 = arrivalsIn(requests, retryAt1, retryAt2);
    assert.ok(probes1 >= 1 && probes1 <= halfOpenProbes, `half-open #1: ${probes1} probes; ${diagnostics}`);
    assert.equal(
      arrivalsIn(requests, openedAt2 + 1_000, retryAt2),
      0,
      `arrivals late in open #2; ${diagnostics}`,
    );
    // Every 503 went to a closed-period delivery or a probe.
    assert.equal(served503, closedPeriod + probes1, diagnostics);
    // Half-open #2: only probes can arrive before the first one is answered.
    const probes2 = arrivalsIn(requests, retryAt2, retryAt2 + answerDelayMs);
    assert.ok(probes2 <= halfOpenProbes, `half-open #2: ${probes2} probes; ${diagnostics}`);

    // Closed again, everywhere an operator looks.
    const closed = await breaker(service, tenant, destination);
    assert.equal(closed.state, "closed");
    assert.equal(closed.consecutiveFailures, 0);
    const readyAfter = (await (await fetch(`${service.url}/ready`)).json()) as ReadyBody;
    assert.deepEqual(readyAfter.components.breakers, { open: 0, halfOpen: 0, destinations: [] });

    const samples = await scrape(service);
    assert.equal(total(samples, "zen_circuit_state", { tenant, destination }), 0);
    const transitions = (from: string, to: string) =>
      total(samples, "zen_circuit_transitions_total", { tenant, destination, from, to });
    assert.equal(transitions("closed", "open"), 1);
    assert.equal(transitions("open", "half_open"), 2);
    assert.equal(transitions("half_open", "open"), 1);
    assert.equal(transitions("half_open", "closed"), 1);
    assert.equal(matching(samples, "zen_circuit_transitions_total", { tenant, destination }).length, 4);

    // Delays are counted as delays, and failures as exactly the 503s the sink served.
    assert.ok(
      total(samples, "zen_delivery_delays_total", { tenant, destination, reason: "circuit_open" }) > 0,
    );
    assert.equal(
      total(samples, "zen_delivery_delays_total", { tenant, destination, reason: "rate_limited" }),
      0,
    );
    assert.equal(
      total(samples, "zen_deliveries_total", { tenant, destination, outcome: "retry" }),
      served503,
    );
    assert.equal(total(samples, "zen_retries_total", { destination }), served503);
    assert.equal(total(samples, "zen_retries_total", { destination, reason: "server_error" }), served503);
    assert.equal(
      total(samples, "zen_deliveries_total", { tenant, destination, outcome: "dead_lettered" }),
      0,
    );
    assert.deepEqual(await dlq(service, tenant), []);

    // Per event: delivered exactly once, after exactly as many charged attempts as 503s it received;
    // a delay never moves the attempt number.
    let delayedEntries = 0;
    for (const eventId of ids) {
      const received = requests.filter((r) => eventIdOf(r) === eventId);
      const failures = received.filter((r) => r.index < served503).length;
      assert.equal(
        received.length - failures,
        1,
        `${eventId} was delivered ${received.length - failures} times`,
      );
      const t = await trace(service, tenant, eventId);
      assert.equal(t.destinations[destination]?.detail, `delivered on attempt ${failures + 1}`);
      assert.deepEqual(
        attemptsOf(t, destination).map((e) => [e.attempt, e.detail?.outcome, e.detail?.statusCode]),
        [
          ...Array.from({ length: failures }, (_, i) => [i + 1, "retry", 503]),
          [failures + 1, "delivered", 200],
        ],
        eventId,
      );
      let charged = 0;
      for (const entry of t.trail.filter((e) => e.destination === destination)) {
        if (entry.stage === "attempt") {
          assert.equal(entry.attempt, charged + 1, `${eventId}: attempt numbers run in order`);
          if (entry.detail?.outcome === "retry") charged++;
        } else if (entry.stage === "delayed") {
          delayedEntries++;
          assert.equal(entry.detail?.reason, "circuit_open", `${eventId}: ${JSON.stringify(entry)}`);
          assert.equal(entry.attempt, charged + 1, `${eventId}: a delay is not charged`);
        }
      }
    }
    assert.equal(
      delayedEntries,
      total(samples, "zen_delivery_delays_total", { tenant, destination, reason: "circuit_open" }),
      "one trail entry per delay",
    );
  });
});

// ─── circuit breaker metrics ─────────────────────────────────────────────────────────────────────────

describe("circuit breaker metrics are current at scrape time, with or without traffic", () => {
  const tenant = "acme";
  const destination = "gone";
  let service: TestService;
  let sink: WebhookSink;

  before(async () => {
    sink = await WebhookSink.start({ fallback: { status: 503 } });
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
      "    destinations:",
      `      - { id: ${destination}, type: webhook, url: "${sink.url}" }`,
      "    routes:",
      `      - { to: [${destination}] }`,
    ].join("\n");
    service = await startTestService({
      yaml,
      env: {
        GH_SECRET: ghSecret,
        ZEN_ADMIN_TOKEN: adminToken,
        CIRCUIT_BREAKER_MAX_FAILURES: "2",
        CIRCUIT_BREAKER_TIMEOUT: "1s",
        // One attempt each: both events go to the DLQ, so no delivery is left to ask the breaker again.
        QUEUE_MAX_RETRIES: "1",
        ZEN_CONCURRENCY: "1",
      },
    });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
  });

  it("shows an elapsed open period as half-open (1) in zen_circuit_state, not open (2) forever", async () => {
    for (const eventId of ["evt-gone-1", "evt-gone-2"]) {
      await acceptSignedGithub({ baseUrl: service.url, tenant, source: "gh", secret: ghSecret, eventId });
    }
    await waitFor("both events in the DLQ", async () => (await dlq(service, tenant)).length === 2);
    const open = await breaker(service, tenant, destination);
    assert.equal(open.state, "open");
    const retryAt = Date.parse(open.retryAt ?? "");
    assert.equal(total(await scrape(service), "zen_circuit_state", { tenant, destination }), 2);

    // Only /metrics is read from here on: nothing else asks the breaker.
    await waitFor(
      "zen_circuit_state to show half-open",
      async () => total(await scrape(service), "zen_circuit_state", { tenant, destination }) === 1,
      5_000,
    );
    assert.ok(Date.now() >= retryAt, "half-open only once the open period is over");
    const samples = await scrape(service);
    assert.equal(
      total(samples, "zen_circuit_transitions_total", { tenant, destination, from: "open", to: "half_open" }),
      1,
    );
    assert.equal(sink.requests.length, 2, "no probe was sent: there was nothing to deliver");
  });
});

// ─── token buckets at delivery ───────────────────────────────────────────────────────────────────────

describe("token buckets: a throttled tenant is spread out, another tenant is not slowed", () => {
  const perTenant = 10;
  const slowCapacity = 2;
  const slowRefillPerSecond = 2;
  let service: TestService;
  let slowSink: WebhookSink;
  let fastSink: WebhookSink;

  before(async () => {
    slowSink = await WebhookSink.start();
    fastSink = await WebhookSink.start();
    const tenantYaml = (id: string, url: string, limit?: string) => [
      `  - id: ${id}`,
      ...(limit ? [`    rateLimit: ${limit}`] : []),
      "    sources:",
      "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
      "    destinations:",
      `      - { id: ${id}-hook, type: webhook, url: "${url}" }`,
      "    routes:",
      `      - { to: [${id}-hook] }`,
    ];
    const yaml = [
      "tenants:",
      ...tenantYaml(
        "slow",
        slowSink.url,
        `{ capacity: ${slowCapacity}, refillPerSecond: ${slowRefillPerSecond} }`,
      ),
      // No rateLimit: the RATE_LIMIT_CAPACITY / RATE_LIMIT_REFILL_RATE default (100 burst, 10/s).
      ...tenantYaml("fast", fastSink.url),
    ].join("\n");
    service = await startTestService({
      yaml,
      env: { GH_SECRET: ghSecret, ZEN_ADMIN_TOKEN: adminToken },
    });
  });

  after(async () => {
    await service?.close();
    await slowSink?.close();
    await fastSink?.close();
  });

  it("delivers the slow tenant at its bucket's pace, the fast one at once, each on attempt 1", async () => {
    const ids = (tenant: string) => Array.from({ length: perTenant }, (_, i) => `evt-${tenant}-${i + 1}`);
    const sentAt = Date.now();
    await Promise.all(
      ["slow", "fast"].flatMap((tenant) =>
        ids(tenant).map((eventId) =>
          acceptSignedGithub({ baseUrl: service.url, tenant, source: "gh", secret: ghSecret, eventId }),
        ),
      ),
    );
    const allSentAt = Date.now();
    await fastSink.waitForRequests(perTenant, 5_000);
    await slowSink.waitForRequests(perTenant, 15_000);

    // Fast: not held back by the slow tenant's empty bucket.
    const fastLast = Math.max(...fastSink.requests.map((r) => r.receivedAt));
    assert.ok(
      fastLast - allSentAt <= 1_000,
      `fast tenant's last delivery came ${fastLast - allSentAt} ms after sending`,
    );

    // Slow: a bucket grants at most capacity + refill × elapsed tokens, and the first take was no
    // earlier than `sentAt`, so the k-th arrival cannot come before (k − capacity) / refill seconds.
    const slowTimes = slowSink.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    const offsets = slowTimes.map((t) => t - sentAt);
    slowTimes.forEach((t, i) => {
      const earliestMs = (Math.max(0, i + 1 - slowCapacity) / slowRefillPerSecond) * 1_000;
      assert.ok(t - sentAt >= earliestMs, `slow arrival ${i + 1} at +${t - sentAt} ms: ${offsets}`);
    });
    const span = (slowTimes.at(-1) ?? 0) - (slowTimes[0] ?? 0);
    assert.ok(span >= 3_500, `slow arrivals span only ${span} ms: ${offsets}`);
    // …and it is spread, not starved: the last one comes about when the bucket allows it.
    assert.ok((slowTimes.at(-1) ?? 0) - sentAt < 8_000, `slow tenant starved: ${offsets}`);

    for (const [tenant, sink] of [
      ["slow", slowSink],
      ["fast", fastSink],
    ] as const) {
      const destination = `${tenant}-hook`;
      assert.deepEqual(
        sink.requests.map(eventIdOf).sort(),
        ids(tenant).sort(),
        `${tenant}: every event delivered exactly once`,
      );
      assert.deepEqual(await dlq(service, tenant), []);
      let delayedEvents = 0;
      for (const eventId of ids(tenant)) {
        const t = await trace(service, tenant, eventId);
        assert.deepEqual(
          attemptsOf(t, destination).map((e) => [e.attempt, e.detail?.outcome]),
          [[1, "delivered"]],
          `${tenant}/${eventId}: one attempt, charged once`,
        );
        const delays = t.trail.filter((e) => e.stage === "delayed");
        for (const delay of delays) {
          assert.equal(delay.detail?.reason, "rate_limited");
          assert.equal(delay.attempt, 1, "a delay is not charged");
          assert.ok(Number(delay.detail?.nextDelayMs) > 0);
        }
        if (delays.length > 0) delayedEvents++;
      }
      if (tenant === "slow") {
        // Every event beyond the burst found the bucket empty at least once.
        assert.ok(
          delayedEvents >= perTenant - slowCapacity,
          `only ${delayedEvents} slow events were delayed`,
        );
      } else {
        assert.equal(delayedEvents, 0, "the fast tenant was never delayed");
      }
    }

    const samples = await scrape(service);
    const slowDelays = total(samples, "zen_delivery_delays_total", {
      tenant: "slow",
      destination: "slow-hook",
      reason: "rate_limited",
    });
    assert.ok(slowDelays >= perTenant - slowCapacity, `slow delays: ${slowDelays}`);
    assert.deepEqual(matching(samples, "zen_delivery_delays_total", { tenant: "fast" }), []);
    for (const tenant of ["slow", "fast"]) {
      const destination = `${tenant}-hook`;
      assert.equal(
        total(samples, "zen_deliveries_total", { tenant, destination, outcome: "delivered" }),
        perTenant,
      );
      // A delay is not a failure: no retry, no retry attempt, no DLQ.
      assert.equal(total(samples, "zen_deliveries_total", { tenant, destination, outcome: "retry" }), 0);
      assert.equal(total(samples, "zen_retries_total", { destination }), 0);
      assert.equal(total(samples, "zen_dead_lettered_total", { tenant }), 0);
    }
  });
});

// ─── intake rate limits ──────────────────────────────────────────────────────────────────────────────

describe("intake rate limits: 429 + Retry-After before any work, per source and per tenant", () => {
  let service: TestService;
  let sink: WebhookSink;

  before(async () => {
    sink = await WebhookSink.start();
    const github = (id: string, extra = "") =>
      `      - { id: ${id}, preset: github, secrets: [env:GH_SECRET]${extra} }`;
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    sources:",
      github("limited", ", rateLimit: { capacity: 3, refillPerSecond: 1 }"),
      github("open"),
      "    destinations:",
      `      - { id: hook, type: webhook, url: "${sink.url}" }`,
      "    routes:",
      "      - { to: [hook] }",
      "  - id: pooled",
      "    intakeRateLimit: { capacity: 3, refillPerSecond: 1 }",
      "    sources:",
      github("a"),
      github("b"),
      "    destinations:",
      `      - { id: pooled-hook, type: webhook, url: "${sink.url}" }`,
      "    routes:",
      "      - { to: [pooled-hook] }",
    ].join("\n");
    service = await startTestService({
      yaml,
      env: { GH_SECRET: ghSecret, ZEN_ADMIN_TOKEN: adminToken },
    });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
  });

  const post = (tenant: string, source: string, eventId: string) =>
    postSignedGithub({ baseUrl: service.url, tenant, source, secret: ghSecret, eventId });

  /** Asserts the 429 envelope; returns the Retry-After seconds. */
  async function expectRateLimited(tenant: string, source: string, eventId: string): Promise<number> {
    const body = JSON.stringify({ ref: "refs/heads/main" });
    const response = await fetch(`${service.url}/webhooks/${tenant}/${source}`, {
      method: "POST",
      // Unsigned on purpose: the limit is applied before the body is read or verified.
      headers: { "content-type": "application/json", "x-github-delivery": eventId, "x-github-event": "push" },
      body,
    });
    const answer = (await response.json()) as { error?: { code?: string; message?: string } };
    assert.equal(response.status, 429, JSON.stringify(answer));
    assert.equal(answer.error?.code, "rate_limited");
    assert.equal(typeof answer.error?.message, "string");
    assert.deepEqual(Object.keys(answer), ["error"]);
    const retryAfter = response.headers.get("retry-after") ?? "";
    assert.match(retryAfter, /^[1-9]\d*$/, `Retry-After ${JSON.stringify(retryAfter)}`);
    return Number(retryAfter);
  }

  it("answers the 4th request of a burst to a limited source 429 with Retry-After, enqueues nothing for it, and accepts again after Retry-After", async () => {
    for (let i = 1; i <= 3; i++) {
      const result = await post("acme", "limited", `evt-limited-${i}`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
    }
    // A correctly signed request is refused just the same.
    const fourth = await post("acme", "limited", "evt-limited-4");
    assert.equal(fourth.status, 429);
    assert.equal((fourth.body as { error: { code: string } }).error.code, "rate_limited");
    const retryAfter = await expectRateLimited("acme", "limited", "evt-limited-5");
    assert.equal(retryAfter, 1, "refill 1/s: the next token is less than 1 s away");

    // Nothing of the refused requests exists anywhere.
    await sink.waitForRequests(3);
    for (const eventId of ["evt-limited-4", "evt-limited-5"]) {
      const response = await fetch(`${service.url}/admin/events/acme/${eventId}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.equal(response.status, 404, `${eventId} left a trace`);
    }
    const samples = await scrape(service);
    const intake = (outcome: string) =>
      total(samples, "zen_intake_requests_total", { tenant: "acme", source: "limited", outcome });
    assert.equal(intake("accepted"), 3);
    assert.equal(intake("rate_limited"), 2);
    assert.equal(total(samples, "zen_enqueued_total", { tenant: "acme", destination: "hook" }), 3);
    // Refused before verification: not counted as a signature failure.
    assert.equal(total(samples, "zen_verification_failures_total", { tenant: "acme" }), 0);

    // Another source of the same tenant has no limit: a burst of 5 goes through while this one is empty.
    for (let i = 1; i <= 5; i++) {
      const result = await post("acme", "open", `evt-open-${i}`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
    }

    // Retry-After tells the truth: after waiting it, the source is accepted again.
    await sleep(retryAfter * 1_000);
    const later = await post("acme", "limited", "evt-limited-6");
    assert.equal(later.status, 200, JSON.stringify(later.body));
    await sink.waitForRequests(3 + 5 + 1);
    assert.ok(!sink.requests.some((r) => ["evt-limited-4", "evt-limited-5"].includes(eventIdOf(r))));
  });

  it("applies a tenant's intakeRateLimit across all its sources", async () => {
    for (const [source, eventId] of [
      ["a", "evt-pooled-1"],
      ["b", "evt-pooled-2"],
      ["a", "evt-pooled-3"],
    ] as const) {
      const result = await post("pooled", source, eventId);
      assert.equal(result.status, 200, JSON.stringify(result.body));
    }
    await expectRateLimited("pooled", "b", "evt-pooled-4");
    await expectRateLimited("pooled", "a", "evt-pooled-5");
    const samples = await scrape(service);
    assert.equal(total(samples, "zen_intake_requests_total", { tenant: "pooled", outcome: "accepted" }), 3);
    assert.equal(
      total(samples, "zen_intake_requests_total", { tenant: "pooled", outcome: "rate_limited" }),
      2,
    );
  });
});

// ─── egress guard ────────────────────────────────────────────────────────────────────────────────────

describe("egress guard: private and metadata destinations are refused before connecting", () => {
  const tenant = "acme";
  const events = 6; // more than CIRCUIT_BREAKER_MAX_FAILURES (5): a refusal must not open the breaker
  const refused = {
    metadata: {
      url: "http://169.254.169.254/latest/meta-data",
      message:
        /^egress_denied: destination address 169\.254\.169\.254 is a cloud metadata endpoint \(169\.254\.169\.254\/32\); only a ZEN_EGRESS_ALLOW_CIDRS entry allows it/,
    },
    private: {
      url: "http://10.0.0.1/hook?token=query-token-not-real",
      message:
        /^egress_denied: destination address 10\.0\.0\.1 is private \(10\.0\.0\.0\/8\); set ZEN_EGRESS_ALLOW_PRIVATE=true or allow the CIDR in ZEN_EGRESS_ALLOW_CIDRS$/,
    },
    // Loopback but outside the allowed 127.0.0.1/32: the allowance is exact, not "loopback".
    "other-loopback": {
      url: "http://127.0.0.2:9/hook",
      message:
        /^egress_denied: destination address 127\.0\.0\.2 is loopback \(127\.0\.0\.0\/8\); set ZEN_EGRESS_ALLOW_PRIVATE=true/,
    },
  } as const;
  const refusedIds = Object.keys(refused) as (keyof typeof refused)[];
  let service: TestService;
  let sink: WebhookSink;
  /** Hosts handed to `net.connect` while this suite runs. */
  const connects: string[] = [];
  /** `host:port` of the same calls. */
  const connectTargets: string[] = [];

  before(async () => {
    // Defence in depth (see the module header): a non-loopback connect fails here, before any packet.
    const realConnect = net.connect;
    const guarded = function (this: unknown, ...args: unknown[]) {
      const [first, second] = args;
      const options =
        typeof first === "object" && first !== null ? (first as { host?: string; port?: unknown }) : {};
      const host = options.host ?? (typeof second === "string" ? second : "localhost");
      connects.push(host);
      connectTargets.push(`${host}:${String(options.port ?? first)}`);
      if (!["127.0.0.1", "::1", "localhost"].includes(host)) {
        throw new Error(`test refused a connection to ${host}: the egress guard let it through`);
      }
      return Reflect.apply(realConnect, this, args);
    };
    mock.method(net, "connect", guarded as typeof net.connect);

    sink = await WebhookSink.start();
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
      "    destinations:",
      ...refusedIds.map(
        (id) => `      - { id: ${id}, type: webhook, url: "${refused[id].url}", secret: env:HOOK_SECRET }`,
      ),
      `      - { id: allowed, type: webhook, url: "${sink.url}", secret: env:HOOK_SECRET }`,
      "    routes:",
      `      - { to: [${[...refusedIds, "allowed"].join(", ")}] }`,
    ].join("\n");
    service = await startTestService({
      yaml,
      env: {
        GH_SECRET: ghSecret,
        HOOK_SECRET: hookSecret,
        ZEN_ADMIN_TOKEN: adminToken,
        // Override the test helper's default (true): the production default.
        ZEN_EGRESS_ALLOW_PRIVATE: "false",
        ZEN_EGRESS_ALLOW_CIDRS: "127.0.0.1/32",
      },
    });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
    mock.restoreAll();
  });

  it("dead-letters them at once as egress_denied without opening their breakers, and still reaches an allowed loopback sink", async () => {
    const ids = Array.from({ length: events }, (_, i) => `evt-egress-${i + 1}`);
    for (const eventId of ids) {
      await acceptSignedGithub({ baseUrl: service.url, tenant, source: "gh", secret: ghSecret, eventId });
    }
    // ZEN_EGRESS_ALLOW_CIDRS=127.0.0.1/32 opens exactly the sink's address.
    await sink.waitForRequests(events);
    const entries = await waitFor("every refused delivery in the DLQ", async () => {
      const items = await dlq(service, tenant);
      return items.length === events * refusedIds.length ? items : undefined;
    });

    for (const id of refusedIds) {
      const mine = entries.filter((e) => e.destination === id);
      assert.deepEqual(mine.map((e) => e.eventId).sort(), [...ids].sort(), id);
      for (const entry of mine) {
        assert.equal(entry.reason, "egress_denied");
        assert.equal(entry.attempts, 1, "refused on the first attempt, not retried");
        const lastError = entry.lastError ?? "";
        assert.match(lastError, refused[id].message);
        // No URL parts and no secrets in the explanation.
        for (const leak of ["http", "/hook", "meta-data", "token", hookSecret, ":9"]) {
          assert.ok(
            !lastError.includes(leak),
            `lastError of ${id} contains ${JSON.stringify(leak)}: ${lastError}`,
          );
        }
      }
      for (const eventId of ids) {
        // The trail entry is written just after the DLQ commit: wait for it rather than race it.
        const t = await waitFor(`${id}/${eventId} attempt in the trail`, async () => {
          const candidate = await trace(service, tenant, eventId);
          return attemptsOf(candidate, id).length > 0 ? candidate : undefined;
        });
        assert.deepEqual(
          attemptsOf(t, id).map((e) => [
            e.attempt,
            e.detail?.outcome,
            e.detail?.reason,
            e.detail?.statusCode,
          ]),
          [[1, "dead_lettered", "egress_denied", null]],
          `${id}/${eventId}`,
        );
      }
    }

    // Our own refusal is not provider trouble: the breakers stay closed with no failure counted.
    const samples = await scrape(service);
    for (const id of refusedIds) {
      const row = await breaker(service, tenant, id);
      assert.equal(row.state, "closed", id);
      assert.equal(row.consecutiveFailures, 0, id);
      assert.equal(total(samples, "zen_circuit_state", { tenant, destination: id }), 0, id);
      assert.equal(
        total(samples, "zen_dead_lettered_total", { tenant, destination: id, reason: "egress_denied" }),
        events,
      );
      assert.equal(total(samples, "zen_retries_total", { destination: id }), 0);
    }
    assert.deepEqual(matching(samples, "zen_circuit_transitions_total", { tenant }), []);
    assert.equal(
      total(samples, "zen_deliveries_total", { tenant, destination: "allowed", outcome: "delivered" }),
      events,
    );

    // Nothing but loopback was ever dialled, and the wrapper did see the allowed sink's connections.
    const port = new URL(sink.url).port;
    assert.deepEqual(
      connects.filter((host) => !["127.0.0.1", "::1", "localhost"].includes(host)),
      [],
    );
    assert.ok(
      connectTargets.includes(`127.0.0.1:${port}`),
      `the net.connect wrapper did not see the service connect to the sink: ${connectTargets}`,
    );
  });
});
