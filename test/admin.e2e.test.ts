/**
 * The operations API (DESIGN.md §3) end to end: a real service with real receivers fills the DLQ,
 * the queue and the integration counters through real deliveries; every assertion goes through
 * HTTP, `/admin/...`, `/ready` and `/health`, exactly as an operator's script would.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "gh-admin-e2e-secret-not-real";
const adminToken = "admin-e2e-token-not-real";

interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

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

interface DlqPage {
  readonly items: DlqItem[];
  readonly next: string | null;
}

interface Integration {
  readonly kind: string;
  readonly tenant: string;
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly lastError: string | null;
  readonly counters: Record<string, number>;
}

interface Trace {
  readonly tenant: string;
  readonly eventId: string;
  readonly event: { id: string; type: string } | null;
  readonly destinations: Record<string, { state: string; detail: string }>;
  readonly trail: {
    stage: string;
    destination?: string;
    attempt?: number;
    detail?: Record<string, unknown>;
  }[];
}

async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { token?: string | null; authorization?: string; body?: unknown; rawBody?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.token !== null) headers.authorization = `Bearer ${options.token ?? adminToken}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
}

function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const body = answer.body as ErrorBody;
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"]);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

describe("admin API without ZEN_ADMIN_TOKEN", () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ env: {} });
  });
  after(() => service?.close());

  it("is off: every /admin path answers the 404 envelope, with or without a token", async () => {
    for (const [method, path] of [
      ["GET", "/admin/dlq"],
      ["GET", "/admin/queue"],
      ["GET", "/admin/integrations"],
      ["POST", "/admin/dlq/purge"],
      ["DELETE", "/admin/dlq/1"],
    ] as const) {
      assertError(await call(service.url, method, path, { token: null }), 404, "not_found");
      assertError(await call(service.url, method, path, { token: "anything" }), 404, "not_found");
    }
  });

  it("still serves /health and /ready", async () => {
    assert.deepEqual(await call(service.url, "GET", "/health", { token: null }), {
      status: 200,
      body: { status: "ok" },
    });
    assert.equal((await call(service.url, "GET", "/ready", { token: null })).status, 200);
  });
});

describe("admin API (ZEN_ADMIN_TOKEN set)", () => {
  let service: TestService;
  let ok: WebhookSink;
  let reject: WebhookSink;
  let slow: WebhookSink;
  let wobbly: WebhookSink;
  let fanoutId = "";
  let counter = 0;
  const url = () => service.url;
  const admin = <T = unknown>(method: string, path: string, body?: unknown) =>
    call<T>(url(), method, path, body === undefined ? {} : { body });

  const send = (tenant: string, type: string) => {
    const eventId = `evt-${tenant}-${type}-${++counter}`;
    return acceptSignedGithub({ baseUrl: url(), tenant, source: "gh", secret: ghSecret, eventId, type }).then(
      () => eventId,
    );
  };

  const listAll = async (query = ""): Promise<DlqItem[]> =>
    (await admin<DlqPage>("GET", `/admin/dlq?limit=500${query}`)).body.items;

  const waitForDlq = (what: string, query: string, count: number) =>
    waitFor(what, async () => {
      const items = await listAll(query);
      return items.length === count ? items : undefined;
    });

  const integration = async (tenant: string, id: string): Promise<Integration> => {
    const answer = await admin<{ items: Integration[] }>("GET", "/admin/integrations");
    const found = answer.body.items.find(
      (i) => i.kind === "destination" && i.tenant === tenant && i.id === id,
    );
    assert.ok(found, `no integration ${tenant}/${id}`);
    return found;
  };

  before(async () => {
    ok = await WebhookSink.start();
    reject = await WebhookSink.start({ fallback: { status: 400, body: "schema mismatch" } });
    // Retry-After far beyond the test: the delivery stays parked as "retrying".
    slow = await WebhookSink.start({ fallback: { status: 429, headers: { "retry-after": "120" } } });
    wobbly = await WebhookSink.start({ fallback: { status: 400 } });
    const source = "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }";
    const hook = (id: string, sink: WebhookSink) =>
      `      - { id: ${id}, type: webhook, url: "${sink.url}" }`;
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    sources:",
      source,
      "    destinations:",
      hook("ok", ok),
      hook("reject-a", reject),
      hook("reject-b", reject),
      hook("slow", slow),
      "    routes:",
      "      - { from: [gh], when: { type: fanout }, to: [ok, reject-a, slow] }",
      "      - { from: [gh], when: { type: a }, to: [reject-a] }",
      "      - { from: [gh], when: { type: b }, to: [reject-b] }",
      "  - id: beta",
      "    sources:",
      source,
      "    destinations:",
      hook("reject-a", reject),
      "    routes:",
      "      - { to: [reject-a] }",
      "  - id: gamma",
      "    sources:",
      source,
      "    destinations:",
      hook("wobbly", wobbly),
      "    routes:",
      "      - { to: [wobbly] }",
    ].join("\n");
    service = await startTestService({
      yaml,
      env: { GH_SECRET: ghSecret, ZEN_ADMIN_TOKEN: adminToken, QUEUE_MAX_RETRIES: "3" },
    });

    // The DLQ: acme/reject-a ×3 (+1 from the fan-out), acme/reject-b ×2, beta/reject-a ×2.
    for (const [tenant, type, n] of [
      ["acme", "a", 3],
      ["acme", "b", 2],
      ["beta", "x", 2],
    ] as const) {
      for (let i = 0; i < n; i++) await send(tenant, type);
    }
    fanoutId = await send("acme", "fanout");
    await waitForDlq("8 DLQ entries", "", 8);
    await waitFor("the fan-out to settle", async () => {
      const t = (await admin<Trace>("GET", `/admin/events/acme/${fanoutId}`)).body;
      return t.destinations.ok?.state === "delivered" && t.destinations.slow?.state === "retrying";
    });
  });

  after(async () => {
    await service?.close();
    await Promise.all([ok, reject, slow, wobbly].map((sink) => sink?.close()));
  });

  it("refuses a missing, wrong or malformed bearer token with 401 unauthorized", async () => {
    for (const options of [
      { token: null },
      { token: "wrong-token" },
      { token: "" },
      { token: `${adminToken}x` },
      { authorization: adminToken },
      { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString("base64")}` },
    ]) {
      for (const [method, path] of [
        ["GET", "/admin/dlq"],
        ["GET", "/admin/dlq/1"],
        ["POST", "/admin/dlq/purge"],
        ["GET", "/admin/queue"],
      ] as const) {
        const body = method === "POST" ? { body: { all: true } } : {};
        assertError(await call(url(), method, path, { ...options, ...body }), 401, "unauthorized");
      }
    }
    // Refused requests changed nothing.
    assert.equal((await listAll()).length, 8);
  });

  it("accepts the auth scheme in any case (RFC 9110 §11.1)", async () => {
    const answer = await call(url(), "GET", "/admin/queue", { authorization: `bearer ${adminToken}` });
    assert.equal(answer.status, 200);
  });

  it("GET /admin/dlq lists entries in exactly the documented shape, newest first", async () => {
    const answer = await admin<DlqPage>("GET", "/admin/dlq");
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body), ["items", "next"]);
    assert.equal(answer.body.next, null);
    assert.equal(answer.body.items.length, 8);
    for (const item of answer.body.items) {
      assert.deepEqual(Object.keys(item), [
        "id",
        "tenant",
        "source",
        "destination",
        "eventId",
        "reason",
        "attempts",
        "lastError",
        "failedAt",
      ]);
      assert.equal(typeof item.id, "string");
      assert.equal(item.source, "gh");
      assert.equal(item.reason, "validation_failed");
      assert.equal(item.attempts, 1);
      assert.equal(item.lastError, "validation_failed: HTTP 400: schema mismatch");
      assert.match(item.failedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const times = answer.body.items.map((i) => Date.parse(i.failedAt));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
    );
  });

  it("filters by tenant and destination", async () => {
    const beta = await listAll("&tenant=beta");
    assert.equal(beta.length, 2);
    assert.ok(beta.every((i) => i.tenant === "beta" && i.destination === "reject-a"));
    const b = await listAll("&destination=reject-b");
    assert.equal(b.length, 2);
    assert.ok(b.every((i) => i.tenant === "acme" && i.destination === "reject-b"));
    const acmeA = await listAll("&tenant=acme&destination=reject-a");
    assert.equal(acmeA.length, 4);
    assert.ok(acmeA.some((i) => i.eventId === fanoutId));
    assert.deepEqual(await listAll("&tenant=nobody"), []);
  });

  it("pages with limit and cursor through every entry exactly once", async () => {
    const everything = await listAll();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=3" : `?limit=3&cursor=${encodeURIComponent(cursor)}`;
      const page: Answer<DlqPage> = await admin<DlqPage>("GET", `/admin/dlq${query}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 3);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.next;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      everything.map((i) => i.id),
    );
    // Paging composes with filters.
    const first = await admin<DlqPage>("GET", "/admin/dlq?tenant=acme&limit=4");
    assert.equal(first.body.items.length, 4);
    assert.ok(first.body.next);
    const second = await admin<DlqPage>(
      "GET",
      `/admin/dlq?tenant=acme&limit=4&cursor=${encodeURIComponent(first.body.next ?? "")}`,
    );
    assert.equal(second.body.items.length, 2);
    assert.equal(second.body.next, null);
    assert.ok(second.body.items.every((i) => i.tenant === "acme"));
  });

  it("refuses a bad limit, a bad cursor and unknown filters with 400 invalid_request", async () => {
    for (const query of [
      "limit=0",
      "limit=-1",
      "limit=501",
      "limit=abc",
      "limit=1.5",
      "limit=",
      "limit=2&limit=3",
      "cursor=not-a-cursor",
      "tenant=",
      "tenat=acme",
    ]) {
      assertError(await admin("GET", `/admin/dlq?${query}`), 400, "invalid_request");
    }
  });

  it("GET /admin/dlq/{id} shows one entry with its event; an unknown id is 404", async () => {
    const [item] = await listAll("&destination=reject-b");
    assert.ok(item);
    const answer = await admin<Record<string, unknown>>("GET", `/admin/dlq/${item.id}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.id, item.id);
    assert.equal(answer.body.eventId, item.eventId);
    assert.equal(answer.body.reason, "validation_failed");
    assert.equal(answer.body.failedAt, item.failedAt);
    assert.match(String(answer.body.idempotencyKey), /^[0-9a-f]{64}$/);
    const event = answer.body.event as {
      id: string;
      tenant: string;
      source: string;
      type: string;
      data: unknown;
    };
    assert.equal(event.id, item.eventId);
    assert.equal(event.tenant, "acme");
    assert.equal(event.source, "gh");
    assert.equal(event.type, "b");
    assert.deepEqual(event.data, { ref: "refs/heads/main" });

    for (const id of ["999999", "abc", "0", "-1"]) {
      assertError(await admin("GET", `/admin/dlq/${id}`), 404, "not_found");
    }
  });

  it("POST /admin/dlq/{id}/replay requeues one entry with attempts reset", async () => {
    const [item] = await listAll("&tenant=acme&destination=reject-b");
    assert.ok(item);
    const before = reject.requests.length;
    assert.deepEqual(await admin("POST", `/admin/dlq/${item.id}/replay`), {
      status: 200,
      body: { replayed: 1 },
    });
    // It left the DLQ, was attempted again (attempt 1) and, still refused, came back as a new entry.
    assertError(await admin("GET", `/admin/dlq/${item.id}`), 404, "not_found");
    const back = await waitFor("the replayed entry to return", async () => {
      const items = await listAll("&destination=reject-b");
      return items.find((i) => i.eventId === item.eventId);
    });
    assert.notEqual(back.id, item.id);
    assert.equal(back.attempts, 1);
    assert.equal(reject.requests.length, before + 1);
    assertError(await admin("POST", "/admin/dlq/999999/replay"), 404, "not_found");
  });

  it("POST /admin/dlq/replay requeues every entry matching the filter body", async () => {
    const before = reject.requests.length;
    assert.deepEqual(await admin("POST", "/admin/dlq/replay", { tenant: "beta" }), {
      status: 200,
      body: { replayed: 2 },
    });
    await waitFor("beta's entries to come back", async () => {
      const items = await listAll("&tenant=beta");
      return items.length === 2 && reject.requests.length === before + 2;
    });
    assert.equal((await listAll()).length, 8, "other tenants were not touched");
    assertError(
      await admin("POST", "/admin/dlq/replay", { tenant: "beta", typo: 1 }),
      400,
      "invalid_request",
    );
    assertError(await admin("POST", "/admin/dlq/replay", ["beta"]), 400, "invalid_request");
    assertError(
      await call(url(), "POST", "/admin/dlq/replay", { rawBody: "{not json" }),
      400,
      "malformed_body",
    );
    assert.deepEqual(await admin("POST", "/admin/dlq/replay", { tenant: "nobody" }), {
      status: 200,
      body: { replayed: 0 },
    });
    // Replaying the whole DLQ must be asked for explicitly, as with purge.
    for (const body of [undefined, {}, { all: false }, { all: "yes" }]) {
      assertError(await admin("POST", "/admin/dlq/replay", body), 400, "invalid_request");
    }
  });

  it("DELETE /admin/dlq/{id} purges one entry; a second delete is 404", async () => {
    const [item] = await listAll("&tenant=beta");
    assert.ok(item);
    assert.deepEqual(await admin("DELETE", `/admin/dlq/${item.id}`), { status: 200, body: { purged: 1 } });
    assertError(await admin("DELETE", `/admin/dlq/${item.id}`), 404, "not_found");
    assertError(await admin("DELETE", "/admin/dlq/abc"), 404, "not_found");
    assert.equal((await listAll()).length, 7);
  });

  it("POST /admin/dlq/purge removes what the filter matches and refuses an empty filter without all:true", async () => {
    for (const body of [undefined, {}, { all: false }, { all: "true" }]) {
      assertError(await admin("POST", "/admin/dlq/purge", body), 400, "invalid_request");
    }
    assertError(
      await admin("POST", "/admin/dlq/purge", { destination: "reject-b", oops: 1 }),
      400,
      "invalid_request",
    );
    assert.equal((await listAll()).length, 7, "refused purges removed nothing");

    assert.deepEqual(await admin("POST", "/admin/dlq/purge", { tenant: "acme", destination: "reject-b" }), {
      status: 200,
      body: { purged: 2 },
    });
    assert.deepEqual(await listAll("&destination=reject-b"), []);
    assert.equal((await listAll()).length, 5);
    assert.deepEqual(await admin("POST", "/admin/dlq/purge", { all: true }), {
      status: 200,
      body: { purged: 5 },
    });
    assert.deepEqual((await admin("GET", "/admin/dlq")).body, { items: [], next: null });
  });

  it("GET /admin/queue reports depth by state and by destination, and the DLQ size", async () => {
    const answer = await admin("GET", "/admin/queue");
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      ready: 0,
      delayed: 1,
      leased: 0,
      byDestination: { slow: { ready: 0, delayed: 1, leased: 0 } },
      dlq: 0,
    });
  });

  it("GET /admin/events/{tenant}/{eventId} explains an event: routes, attempts, one state per destination", async () => {
    const answer = await admin<Trace>("GET", `/admin/events/acme/${fanoutId}`);
    assert.equal(answer.status, 200);
    const trace = answer.body;
    assert.equal(trace.tenant, "acme");
    assert.equal(trace.eventId, fanoutId);
    assert.equal(trace.event?.type, "fanout");
    const routed = trace.trail.find((e) => e.stage === "received");
    assert.deepEqual(routed?.detail?.destinations, ["ok", "reject-a", "slow"]);

    assert.deepEqual(Object.keys(trace.destinations).sort(), ["ok", "reject-a", "slow"]);
    assert.deepEqual(trace.destinations.ok, { state: "delivered", detail: "delivered on attempt 1" });
    assert.equal(trace.destinations["reject-a"]?.state, "dead_lettered");
    assert.equal(
      trace.destinations["reject-a"]?.detail,
      "in the DLQ: validation_failed (validation_failed: HTTP 400: schema mismatch)",
    );
    assert.equal(trace.destinations.slow?.state, "retrying");
    assert.match(
      trace.destinations.slow?.detail ?? "",
      /^retrying: 1 failed attempt\(s\), last error rate_limited: HTTP 429/,
    );

    const attempts = trace.trail
      .filter((e) => e.stage === "attempt")
      .map((e) => [
        e.destination,
        e.attempt,
        e.detail?.outcome,
        e.detail?.statusCode,
        e.detail?.reason ?? null,
      ])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(attempts, [
      ["ok", 1, "delivered", 200, null],
      ["reject-a", 1, "dead_lettered", 400, "validation_failed"],
      ["slow", 1, "retry", 429, "rate_limited"],
    ]);

    assertError(await admin("GET", "/admin/events/acme/no-such-event"), 404, "not_found");
    assertError(await admin("GET", `/admin/events/beta/${fanoutId}`), 404, "not_found");
  });

  it("GET /admin/breakers lists every configured destination; client errors do not trip a breaker", async () => {
    const res = await admin<{ items: { tenant: string; destination: string; state: string }[] }>(
      "GET",
      "/admin/breakers",
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((row) => `${row.tenant}/${row.destination}`),
      ["acme/ok", "acme/reject-a", "acme/reject-b", "acme/slow", "beta/reject-a", "gamma/wobbly"],
    );
    for (const row of res.body.items.filter((r) => r.destination.startsWith("reject"))) {
      assert.deepEqual(Object.keys(row).sort(), [
        "consecutiveFailures",
        "destination",
        "openedAt",
        "probesInFlight",
        "retryAt",
        "state",
        "tenant",
      ]);
      assert.equal(row.state, "closed", `${row.tenant}/${row.destination} answered 400s only`);
    }
  });

  it("GET /admin/integrations: counters move, 5 failures in a row turn a destination to error, a success back to active", async () => {
    const list = await admin<{ items: Integration[] }>("GET", "/admin/integrations");
    assert.equal(list.status, 200);
    const okView = list.body.items.find(
      (i) => i.kind === "destination" && i.tenant === "acme" && i.id === "ok",
    );
    assert.equal(okView?.status, "active");
    assert.equal(okView?.type, "webhook");
    assert.equal(okView?.counters.sent, 1);
    assert.equal(okView?.counters.failed, 0);
    assert.equal(okView?.counters.errorRate, 0);
    const gh = list.body.items.find((i) => i.kind === "source" && i.tenant === "acme" && i.id === "gh");
    assert.equal(gh?.status, "active");
    assert.equal(gh?.type, "github");
    assert.equal(gh?.counters.received, 6);
    assert.equal(gh?.counters.processed, 6);

    const initial = await integration("gamma", "wobbly");
    assert.equal(initial.status, "active");
    assert.deepEqual(
      { sent: initial.counters.sent, failed: initial.counters.failed, errorRate: initial.counters.errorRate },
      { sent: 0, failed: 0, errorRate: 0 },
    );
    assert.equal(initial.lastError, null);

    for (let i = 0; i < 4; i++) await send("gamma", "x");
    const four = await waitFor("4 failures", async () => {
      const view = await integration("gamma", "wobbly");
      return view.counters.failed === 4 ? view : undefined;
    });
    assert.equal(four.status, "active", "4 failures in a row are not yet an error");
    assert.equal(four.counters.errorRate, 1);

    await send("gamma", "x");
    const failing = await waitFor("5 failures", async () => {
      const view = await integration("gamma", "wobbly");
      return view.counters.failed === 5 ? view : undefined;
    });
    assert.equal(failing.status, "error");
    assert.ok(failing.lastError);
    assert.equal(typeof failing.counters.averageResponseMs, "number");
    assert.ok((failing.counters.averageResponseMs ?? -1) >= 0);

    wobbly.setFallback({ status: 200 });
    await send("gamma", "x");
    const healed = await waitFor("a success", async () => {
      const view = await integration("gamma", "wobbly");
      return view.counters.sent === 1 ? view : undefined;
    });
    assert.equal(healed.status, "active");
    assert.equal(healed.counters.failed, 5);
    assert.equal(healed.counters.errorRate, 5 / 6);
  });

  it("/ready reports each component and /health answers ok", async () => {
    const ready = await call<{ status: string; components: Record<string, unknown> }>(
      url(),
      "GET",
      "/ready",
      {
        token: null,
      },
    );
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, "ready");
    assert.deepEqual(ready.body.components.store, { status: "up" });
    assert.deepEqual(ready.body.components.workers, { status: "up" });
    assert.deepEqual(ready.body.components.intake, { status: "up" });
    // acme: gh + 4 destinations; beta: gh + 1; gamma: gh + 1 — all active again.
    assert.deepEqual(ready.body.components.integrations, { pending: 0, active: 9, inactive: 0, error: 0 });
    assert.deepEqual(await call(url(), "GET", "/health", { token: null }), {
      status: 200,
      body: { status: "ok" },
    });
  });
});
