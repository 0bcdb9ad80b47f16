/**
 * Delivery end to end, through the real interfaces only: signed webhooks posted to the real HTTP
 * intake, the real SQLite queue and worker, outbound requests to real HTTP receivers (the scripted
 * sink), and the outcome read back from the receivers, the admin API and `/metrics`.
 *
 * QUEUE_MAX_RETRIES is 3, so the retry backoff waits at most 100 ms then 200 ms (full jitter): every
 * retry scenario finishes in well under a second, except the Retry-After one, which waits the 2 s the
 * receiver asked for.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { type RecordedRequest, WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, postSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "gh-e2e-secret-not-real";
const hookSecret = "whsec_ZTJlLWRlbGl2ZXJ5LXNpbmstc2VjcmV0LW5vdC1yZWFs"; // fake, base64 of a made-up text
const adminToken = "e2e-admin-token-not-real";
const tenant = "acme";

interface DlqItem {
  readonly id: string;
  readonly tenant: string;
  readonly source: string;
  readonly destination: string;
  readonly eventId: string;
  readonly reason: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly failedAt: string;
}

interface TrailEntry {
  readonly stage: string;
  readonly destination?: string;
  readonly attempt?: number;
  readonly detail?: Record<string, unknown>;
}

interface Trace {
  readonly destinations: Record<string, { state: string; detail: string }>;
  readonly trail: readonly TrailEntry[];
}

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function headerText(request: RecordedRequest, name: string): string {
  const value = request.headers[name];
  assert.equal(typeof value, "string", `header ${name} is missing or repeated`);
  return value as string;
}

describe("delivery end to end (real service, real receivers)", () => {
  let service: TestService;
  const sinks: Record<string, WebhookSink> = {};
  const names = ["happy", "flaky", "limited", "permanent", "broken", "replay"] as const;
  let counter = 0;
  const nextEventId = (label: string) => `evt-${label}-${++counter}`;

  async function admin<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  const trace = async (eventId: string): Promise<Trace> => {
    const result = await admin<Trace>("GET", `/admin/events/${tenant}/${eventId}`);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body;
  };

  /** Waits until the event's state at `destination` is `state`; returns the trace. */
  const waitForState = (eventId: string, destination: string, state: string, timeoutMs = 10_000) =>
    waitFor(
      `${eventId} → ${destination} to be ${state}`,
      async () => {
        const t = await trace(eventId);
        return t.destinations[destination]?.state === state ? t : undefined;
      },
      timeoutMs,
    );

  const dlqEntryOf = async (eventId: string): Promise<DlqItem> => {
    const result = await admin<{ items: DlqItem[] }>("GET", `/admin/dlq?tenant=${tenant}&limit=500`);
    const entry = result.body.items.find((item) => item.eventId === eventId);
    assert.ok(entry, `no DLQ entry for ${eventId}`);
    return entry;
  };

  const send = (eventId: string, type: string) =>
    acceptSignedGithub({ baseUrl: service.url, tenant, source: "gh", secret: ghSecret, eventId, type });

  before(async () => {
    for (const name of names) sinks[name] = await WebhookSink.start();
    const refusedUrl = `http://127.0.0.1:${await closedPort()}/hook`;
    const destination = (id: string, url: string) =>
      `      - { id: ${id}, type: webhook, url: "${url}", secret: env:HOOK_SECRET }`;
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
      "    destinations:",
      ...names.map((name) => destination(name, sinks[name]?.url ?? "")),
      destination("refused", refusedUrl),
      "    routes:",
      ...[...names, "refused"].map(
        (name) => `      - { from: [gh], when: { type: ${name} }, to: [${name}] }`,
      ),
    ].join("\n");
    service = await startTestService({
      yaml,
      env: {
        GH_SECRET: ghSecret,
        HOOK_SECRET: hookSecret,
        ZEN_ADMIN_TOKEN: adminToken,
        QUEUE_MAX_RETRIES: "3",
      },
    });
  });

  after(async () => {
    await service?.close();
    await Promise.all(Object.values(sinks).map((sink) => sink.close()));
  });

  it("delivers once, signed per Standard Webhooks, with webhook-id = idempotency-key = sha256(tenant:destination:eventId)", async () => {
    const sink = sinks.happy as WebhookSink;
    const eventId = nextEventId("happy");
    await send(eventId, "happy");
    await waitForState(eventId, "happy", "delivered");

    assert.equal(sink.requests.length, 1);
    const request = sink.requests[0] as RecordedRequest;
    const expectedId = sha256Hex(`${tenant}:happy:${eventId}`);
    assert.equal(request.method, "POST");
    assert.equal(headerText(request, "webhook-id"), expectedId);
    assert.equal(headerText(request, "idempotency-key"), expectedId);
    assert.match(headerText(request, "content-type"), /^application\/json/);
    // The off-the-shelf verifier any receiver would use; it throws on a bad signature or stale time.
    const verified = new Webhook(hookSecret).verify(request.body, {
      "webhook-id": headerText(request, "webhook-id"),
      "webhook-timestamp": headerText(request, "webhook-timestamp"),
      "webhook-signature": headerText(request, "webhook-signature"),
    }) as { id: string; tenant: string; source: string; type: string; data: unknown };
    assert.equal(verified.id, eventId);
    assert.equal(verified.tenant, tenant);
    assert.equal(verified.source, "gh");
    assert.equal(verified.type, "happy");
    assert.deepEqual(verified.data, { ref: "refs/heads/main" });
    // A different secret must not verify: the check above is not vacuous.
    assert.throws(() =>
      new Webhook("whsec_b3RoZXItc2VjcmV0LW5vdC1yZWFs").verify(request.body, {
        "webhook-id": headerText(request, "webhook-id"),
        "webhook-timestamp": headerText(request, "webhook-timestamp"),
        "webhook-signature": headerText(request, "webhook-signature"),
      }),
    );

    // The provider redelivers: a duplicate, and nothing goes out twice.
    const again = await postSignedGithub({
      baseUrl: service.url,
      tenant,
      source: "gh",
      secret: ghSecret,
      eventId,
      type: "happy",
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: "duplicate", eventId });
    const t = await trace(eventId);
    assert.equal(t.destinations.happy?.detail, "delivered on attempt 1");
    assert.equal(sink.requests.length, 1);
  });

  it("retries 503 twice with reason server_error and delivers on attempt 3", async () => {
    const sink = (sinks.flaky as WebhookSink).respond({ status: 503 }, { status: 503 });
    const eventId = nextEventId("flaky");
    await send(eventId, "flaky");
    const t = await waitForState(eventId, "flaky", "delivered");

    assert.equal(sink.requests.length, 3);
    const ids = new Set(sink.requests.map((r) => r.headers["webhook-id"]));
    assert.equal(ids.size, 1, "every attempt carries the same webhook-id");
    assert.equal(t.destinations.flaky?.detail, "delivered on attempt 3");
    const attempts = t.trail.filter((e) => e.stage === "attempt");
    assert.deepEqual(
      attempts.map((e) => [e.attempt, e.detail?.outcome, e.detail?.statusCode, e.detail?.reason]),
      [
        [1, "retry", 503, "server_error"],
        [2, "retry", 503, "server_error"],
        [3, "delivered", 200, undefined],
      ],
    );
  });

  it("honours Retry-After: 2 on a 429 (no second attempt before 2 s)", async () => {
    const sink = (sinks.limited as WebhookSink).respond({ status: 429, headers: { "retry-after": "2" } });
    const eventId = nextEventId("limited");
    await send(eventId, "limited");
    const t = await waitForState(eventId, "limited", "delivered", 15_000);

    assert.equal(sink.requests.length, 2);
    const [first, second] = sink.requests as [RecordedRequest, RecordedRequest];
    const gapMs = second.receivedAt - first.receivedAt;
    assert.ok(gapMs >= 2_000, `second attempt came ${gapMs} ms after the first`);
    // Loose upper bound (busy CI machines): it came back when asked, not after a backoff cap or poll.
    assert.ok(gapMs < 10_000, `second attempt came late: ${gapMs} ms`);
    const retry = t.trail.find((e) => e.stage === "attempt" && e.attempt === 1);
    assert.equal(retry?.detail?.reason, "rate_limited");
    assert.equal(retry?.detail?.statusCode, 429);
    assert.equal(retry?.detail?.nextDelayMs, 2_000);
  });

  for (const [status, reason] of [
    [401, "invalid_auth"],
    [403, "permission_denied"],
    [404, "not_found"],
    [400, "validation_failed"],
  ] as const) {
    it(`dead-letters a ${status} at once as ${reason}, after 1 attempt`, async () => {
      const sink = (sinks.permanent as WebhookSink).reset().setFallback({ status });
      const eventId = nextEventId(`perm-${status}`);
      await send(eventId, "permanent");
      const t = await waitForState(eventId, "permanent", "dead_lettered");

      assert.equal(sink.requests.length, 1, "a permanent failure is not retried");
      const entry = await dlqEntryOf(eventId);
      assert.equal(entry.reason, reason);
      assert.equal(entry.attempts, 1);
      assert.equal(entry.destination, "permanent");
      assert.equal(entry.source, "gh");
      assert.match(entry.lastError ?? "", new RegExp(`^${reason}: HTTP ${status}`));
      assert.match(t.destinations.permanent?.detail ?? "", new RegExp(`in the DLQ: ${reason}`));
    });
  }

  it("dead-letters an always-500 receiver as retries_exhausted after QUEUE_MAX_RETRIES attempts, then replays it to the fixed receiver with the same webhook-id", async () => {
    const sink = (sinks.replay as WebhookSink).setFallback({ status: 500, body: "database on fire" });
    const eventId = nextEventId("broken");
    await send(eventId, "replay");
    await waitForState(eventId, "replay", "dead_lettered");

    assert.equal(sink.requests.length, 3);
    const entry = await dlqEntryOf(eventId);
    assert.equal(entry.reason, "retries_exhausted");
    assert.equal(entry.attempts, 3);
    assert.equal(entry.lastError, "server_error: HTTP 500: database on fire");
    const webhookId = sink.requests[0]?.headers["webhook-id"];

    // The receiver is fixed; the operator replays the entry through the admin API.
    sink.setFallback({ status: 200 });
    const replayed = await admin("POST", `/admin/dlq/${entry.id}/replay`);
    assert.deepEqual(replayed, { status: 200, body: { replayed: 1 } });
    const t = await waitForState(eventId, "replay", "delivered");

    assert.equal(sink.requests.length, 4);
    assert.equal(sink.requests[3]?.headers["webhook-id"], webhookId, "a replay keeps the webhook-id");
    assert.equal(t.destinations.replay?.detail, "delivered on attempt 1", "a replay starts attempts over");
    const gone = await admin("GET", `/admin/dlq/${entry.id}`);
    assert.equal(gone.status, 404);
  });

  it("keeps retrying a 500 without Retry-After and records lastError per attempt", async () => {
    const sink = (sinks.broken as WebhookSink).setFallback({ status: 500 });
    const eventId = nextEventId("broken");
    await send(eventId, "broken");
    const t = await waitForState(eventId, "broken", "dead_lettered");
    assert.equal(sink.requests.length, 3);
    assert.deepEqual(
      t.trail
        .filter((e) => e.stage === "attempt")
        .map((e) => [e.attempt, e.detail?.outcome, e.detail?.reason]),
      [
        [1, "retry", "server_error"],
        [2, "retry", "server_error"],
        [3, "dead_lettered", "server_error"],
      ],
    );
    assert.equal((await dlqEntryOf(eventId)).reason, "retries_exhausted");
  });

  it("retries a refused connection as network_error, then dead-letters it", async () => {
    const eventId = nextEventId("refused");
    await send(eventId, "refused");
    const t = await waitForState(eventId, "refused", "dead_lettered");
    const attempts = t.trail.filter((e) => e.stage === "attempt");
    assert.deepEqual(
      attempts.map((e) => [e.attempt, e.detail?.outcome, e.detail?.reason, e.detail?.statusCode]),
      [
        [1, "retry", "network_error", null],
        [2, "retry", "network_error", null],
        [3, "dead_lettered", "network_error", null],
      ],
    );
    const entry = await dlqEntryOf(eventId);
    assert.equal(entry.reason, "retries_exhausted");
    assert.equal(entry.attempts, 3);
    assert.match(entry.lastError ?? "", /^network_error: network error \(ECONNREFUSED/);
  });

  it("exposes intake, delivery, retry, DLQ and queue metrics at /metrics", async () => {
    const response = await fetch(`${service.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await response.text();
    const sample = (pattern: RegExp) => {
      const line = text.split("\n").find((l) => !l.startsWith("#") && pattern.test(l));
      assert.ok(line, `no sample matching ${pattern}`);
      return Number(line.split(" ").at(-1));
    };
    assert.ok(sample(/^zen_intake_requests_total\{tenant="acme",source="gh",outcome="accepted"\}/) >= 10);
    assert.equal(sample(/^zen_intake_requests_total\{.*outcome="duplicate"\}/), 1);
    assert.equal(sample(/^zen_deliveries_total\{tenant="acme",destination="happy",outcome="delivered"\}/), 1);
    assert.equal(
      sample(/^zen_deliveries_total\{tenant="acme",destination="replay",outcome="delivered"\}/),
      1,
    );
    assert.equal(sample(/^zen_retries_total\{destination="flaky",reason="server_error"\}/), 2);
    assert.equal(sample(/^zen_retries_total\{destination="limited",reason="rate_limited"\}/), 1);
    assert.equal(sample(/^zen_retries_total\{destination="refused",reason="network_error"\}/), 2);
    assert.equal(
      sample(/^zen_dead_lettered_total\{tenant="acme",destination="permanent",reason="not_found"\}/),
      1,
    );
    assert.equal(
      sample(/^zen_dead_lettered_total\{tenant="acme",destination="broken",reason="retries_exhausted"\}/),
      1,
    );
    assert.equal(sample(/^zen_dlq_replayed_total\{tenant="acme"\}/), 1);
    for (const state of ["ready", "delayed", "leased"]) {
      assert.equal(sample(new RegExp(`^zen_queue_depth\\{state="${state}"\\}`)), 0);
    }
    // 4 permanent + broken + refused; the replayed one left the DLQ.
    assert.equal(sample(/^zen_dlq_size /), 6);
    assert.ok(
      sample(/^zen_delivery_attempt_duration_seconds_count\{destination="flaky",outcome="retry"\}/) === 2,
    );
    assert.match(text, /^zen_delivery_attempt_duration_seconds_bucket\{le="0\.005",destination="happy"/m);
  });
});
