/**
 * The intake contract (DESIGN.md §3, §6) proven through real HTTP: one service with a source per
 * preset, a custom `verify:` scheme and an id-less one, each request signed the way its provider
 * signs (src/intake/verify/sign-request.ts), posted with undici, and the outcome read back from a real
 * receiver (the scripted sink), the queue and the admin trail.
 *
 * Per source: accepted and delivered once with `webhook-id = sha256(tenant:destination:eventId)` and
 * the right event id and type; a provider's redelivery is `200 duplicate` (or `409 replayed` for a
 * source whose requests carry no id); tampered body, wrong secret and stale/future timestamps are
 * 401 with their codes; a rotated (second) secret is accepted.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import type { SourceProfile } from "../src/intake/verify/spec.ts";
import { type RecordedRequest, WebhookSink } from "./fakes/webhook-sink.ts";
import { signedHeaders } from "./support/requests.ts";
import { countRows, startTestService, type TestService } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const tenant = "acme";
const adminToken = "test-admin-token-not-real";
const staleOrFutureMs = 3_600_000; // beyond every window here (300 s, Linear's 60 s)

/** Two fake secrets per source (the second one = rotation). */
function secretPair(id: string): [string, string] {
  if (id === "standard-webhooks") {
    const encode = (text: string) => `whsec_${Buffer.from(text).toString("base64")}`;
    return [encode("test-secret-not-real-sw-one"), encode("test-secret-not-real-sw-two")];
  }
  return [`test-secret-not-real-${id}-one`, `test-secret-not-real-${id}-two`];
}
const wrongSecret = (id: string): string =>
  id === "standard-webhooks"
    ? `whsec_${Buffer.from("test-secret-not-real-wrong").toString("base64")}`
    : "test-secret-not-real-wrong";
const envName = (id: string, index: number) =>
  `${id.replace(/-/g, "_").toUpperCase()}_SECRET${index === 0 ? "" : "_NEXT"}`;

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** One webhook of a source: the body, headers the provider adds besides the signature, and what intake should extract. */
interface Sample {
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The provider's delivery id, for sources that carry it in a header (passed to `signRequest`). */
  readonly headerId?: string;
  readonly eventId: string;
  readonly type: string;
}

interface SourceCase {
  readonly id: string;
  /** YAML of the source node, without `id` and `secrets`. */
  readonly yaml: string;
  /** The n-th distinct event, stamped `nowMs` where the provider puts a time in the body. */
  sample(n: string, nowMs: number): Sample;
  /** Where the signed timestamp lives (none: no replay window). */
  readonly timestamp: "signed" | "none";
  /** Requests carry no provider id: the id is sha256(body) and a replayed request is 409. */
  readonly idLess?: boolean;
  /** A shared token proves the sender only: the body is not covered, so tampering cannot be detected. */
  readonly tokenOnly?: boolean;
  readonly contentType?: string;
}

const json = (value: unknown) => JSON.stringify(value);

const sources: readonly SourceCase[] = [
  {
    id: "github",
    yaml: "preset: github",
    timestamp: "none",
    sample: (n) => ({
      body: json({ ref: "refs/heads/dev", n }),
      headers: { "x-github-event": "push" },
      headerId: `gh-${n}`,
      eventId: `gh-${n}`,
      type: "push",
    }),
  },
  {
    id: "gitlab",
    yaml: "preset: gitlab",
    timestamp: "none",
    tokenOnly: true,
    sample: (n) => ({
      body: json({ object_kind: "push", n }),
      headers: { "x-gitlab-event": "Push Hook" },
      headerId: `gl-${n}`,
      eventId: `gl-${n}`,
      type: "Push Hook",
    }),
  },
  {
    id: "stripe",
    yaml: "preset: stripe",
    timestamp: "signed",
    sample: (n) => ({
      body: json({ id: `evt_${n}`, type: "invoice.paid" }),
      eventId: `evt_${n}`,
      type: "invoice.paid",
    }),
  },
  {
    id: "standard-webhooks",
    yaml: "preset: standard-webhooks",
    timestamp: "signed",
    sample: (n) => ({
      body: json({ type: "user.created", n }),
      headerId: `msg_${n}`,
      eventId: `msg_${n}`,
      type: "user.created",
    }),
  },
  {
    id: "shopify",
    yaml: "preset: shopify",
    timestamp: "none",
    sample: (n) => ({
      body: json({ order: n }),
      headers: { "x-shopify-topic": "orders/create" },
      headerId: `shop-${n}`,
      eventId: `shop-${n}`,
      type: "orders/create",
    }),
  },
  {
    id: "pagerduty",
    yaml: "preset: pagerduty",
    timestamp: "none",
    sample: (n) => ({
      body: json({ event: { event_type: "incident.triggered", id: n } }),
      headerId: `pd-${n}`,
      eventId: `pd-${n}`,
      type: "incident.triggered",
    }),
  },
  {
    id: "linear",
    yaml: "preset: linear",
    timestamp: "signed",
    sample: (n, nowMs) => ({
      body: json({ type: "Issue", action: "create", webhookTimestamp: nowMs, n }),
      headerId: `lin-${n}`,
      eventId: `lin-${n}`,
      type: "Issue",
    }),
  },
  {
    id: "zoom",
    yaml: "preset: zoom",
    timestamp: "signed",
    idLess: true,
    sample: (n, nowMs) => {
      const body = json({ event: "meeting.started", event_ts: nowMs, payload: { n } });
      return { body, eventId: sha256Hex(body), type: "meeting.started" };
    },
  },
  {
    id: "twilio",
    yaml: "preset: twilio",
    timestamp: "none",
    contentType: "application/x-www-form-urlencoded",
    sample: (n) => ({
      body: new URLSearchParams({
        MessageSid: `SM${n}`,
        SmsStatus: "received",
        Body: `hello ${n}`,
      }).toString(),
      headerId: `tw-${n}`,
      eventId: `tw-${n}`,
      type: "received",
    }),
  },
  {
    id: "slack",
    yaml: "preset: slack",
    timestamp: "signed",
    sample: (n) => ({
      body: json({ event_id: `Ev${n}`, event: { type: "app_mention" } }),
      eventId: `Ev${n}`,
      type: "app_mention",
    }),
  },
  {
    id: "jira",
    yaml: "preset: jira",
    timestamp: "none",
    sample: (n) => ({
      body: json({ webhookEvent: "jira:issue_created", n }),
      headerId: `jira-${n}`,
      eventId: `jira-${n}`,
      type: "jira:issue_created",
    }),
  },
  {
    id: "generic",
    yaml: "preset: generic",
    timestamp: "signed",
    sample: (n) => ({
      body: json({ n }),
      headers: { "x-event-type": "deploy" },
      headerId: `gen-${n}`,
      eventId: `gen-${n}`,
      type: "deploy",
    }),
  },
  {
    id: "custom",
    yaml: [
      "verify:",
      "          algorithm: sha512",
      "          signatureHeader: X-Custom-Signature",
      '          signaturePrefix: "v1="',
      "          encoding: base64",
      '          signedContent: "{id}.{timestamp}.{body}"',
      "          timestampHeader: X-Custom-Timestamp",
      "          toleranceSeconds: 300",
      "          idHeader: X-Custom-Id",
      "          typeField: $.kind",
    ].join("\n"),
    timestamp: "signed",
    sample: (n) => ({
      body: json({ kind: "alert", n }),
      headerId: `cus-${n}`,
      eventId: `cus-${n}`,
      type: "alert",
    }),
  },
  {
    id: "custom-noid",
    yaml: [
      "verify:",
      "          algorithm: sha256",
      "          signatureHeader: X-Plain-Signature",
      "          encoding: hex",
      '          signedContent: "{timestamp}.{body}"',
      "          timestampHeader: X-Plain-Timestamp",
      "          typeField: $.kind",
    ].join("\n"),
    timestamp: "signed",
    idLess: true,
    sample: (n) => {
      const body = json({ kind: "ping", n });
      return { body, eventId: sha256Hex(body), type: "ping" };
    },
  },
];

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string } };
}

describe("intake end to end (real HTTP, every preset)", () => {
  let service: TestService;
  let sink: WebhookSink;
  const env: Record<string, string> = { ZEN_ADMIN_TOKEN: adminToken };
  let counter = 0;
  const next = (label: string) => `${label}-${++counter}`;

  const profileOf = (tenantId: string, sourceId: string): SourceProfile => {
    const profile = service.config.tenants.get(tenantId)?.sources.get(sourceId)?.profile;
    assert.ok(profile, `no source ${tenantId}/${sourceId}`);
    return profile;
  };

  async function post(path: string, headers: Record<string, string>, body: string | Buffer): Promise<Answer> {
    const response = await request(`${service.url}${path}`, { method: "POST", headers, body });
    return { status: response.statusCode, body: (await response.body.json()) as Answer["body"] };
  }

  /** Signs `sample` for `source` (tenant acme) as its provider would, with `secret` at `nowMs`. */
  function signed(
    source: SourceCase,
    sample: Sample,
    secret: string,
    nowMs = Date.now(),
  ): Record<string, string> {
    const path = `/webhooks/${tenant}/${source.id}`;
    return {
      ...signedHeaders(profileOf(tenant, source.id), secret, sample.body, {
        nowMs,
        url: `${service.url}${path}`,
        ...(sample.headerId !== undefined && { id: sample.headerId }),
        ...(source.contentType !== undefined && { contentType: source.contentType }),
      }),
      ...sample.headers,
    };
  }

  const deliveriesOf = (path: string, key: string): RecordedRequest[] =>
    sink.requests.filter((r) => r.url === path && r.headers["webhook-id"] === key);

  const waitForDelivery = (path: string, key: string) =>
    waitFor(`a delivery to ${path} with webhook-id ${key}`, () => deliveriesOf(path, key)[0], 5_000, 5);

  /** Resolves once no job is ready, delayed or leased: everything accepted so far was delivered. */
  const drained = () =>
    waitFor(
      "the queue to drain",
      async () => {
        const stats = await service.service.stores.queue.stats();
        return stats.ready + stats.delayed + stats.leased === 0 && stats.dlq === 0;
      },
      5_000,
      5,
    );

  const storedEvents = (): number => countRows(service.dataDir, "events");

  /** `webhook-id` of an event of tenant `tenantId` at `destination`, computed independently of the code. */
  const deliveryKey = (tenantId: string, destination: string, eventId: string) =>
    sha256Hex(`${tenantId}:${destination}:${eventId}`);

  before(async () => {
    sink = await WebhookSink.start();
    const origin = new URL(sink.url).origin;
    for (const source of [...sources, { id: "fan" }]) {
      secretPair(source.id).forEach((secret, index) => {
        env[envName(source.id, index)] = secret;
      });
    }
    env.WEBHOOK_SECRET = "test-secret-not-real-webhook-generic";
    const secretsYaml = (id: string) => `secrets: [env:${envName(id, 0)}, env:${envName(id, 1)}]`;
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      ...sources.map((s) =>
        s.yaml.includes("\n")
          ? `      - id: ${s.id}\n        ${secretsYaml(s.id)}\n        ${s.yaml}`
          : `      - { id: ${s.id}, ${s.yaml}, ${secretsYaml(s.id)} }`,
      ),
      `      - { id: fan, preset: github, ${secretsYaml("fan")} }`,
      "    destinations:",
      ...["main", "fan-a", "fan-b", "main-pushes"].map(
        (id) => `      - { id: ${id}, type: webhook, url: "${origin}/${id}" }`,
      ),
      "    routes:",
      `      - { from: [${sources.map((s) => s.id).join(", ")}], to: [main] }`,
      "      - { from: [fan], to: [fan-a, fan-b] }",
      '      - { from: [fan], when: { type: push, "data.ref": refs/heads/main }, to: [main-pushes] }',
      "  - id: default",
      "    destinations:",
      `      - { id: main, type: webhook, url: "${origin}/default" }`,
      "    routes:",
      "      - { from: [generic], to: [main] }",
    ].join("\n");
    service = await startTestService({ yaml, env });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
  });

  for (const source of sources) {
    describe(`source ${source.id}`, () => {
      const path = `/webhooks/${tenant}/${source.id}`;
      const [primary, rotated] = secretPair(source.id);

      it("accepts a signed request once, extracts id and type, and delivers it with the idempotency key", async () => {
        const sample = source.sample(next(source.id), Date.now());
        const headers = signed(source, sample, primary);
        const first = await post(path, headers, sample.body);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.deepEqual(first.body, { status: "accepted", eventId: sample.eventId, deliveries: 1 });

        const key = deliveryKey(tenant, "main", sample.eventId);
        const delivered = await waitForDelivery("/main", key);
        assert.equal(delivered.headers["idempotency-key"], key);
        const event = JSON.parse(delivered.body) as Record<string, unknown>;
        assert.equal(event.id, sample.eventId);
        assert.equal(event.type, sample.type);
        assert.equal(event.tenant, tenant);
        assert.equal(event.source, source.id);

        // The provider redelivers the exact same request.
        const again = await post(path, headers, sample.body);
        if (source.idLess) {
          assert.equal(again.status, 409, JSON.stringify(again.body));
          assert.equal(again.body.error?.code, "replayed");
        } else {
          assert.equal(again.status, 200, JSON.stringify(again.body));
          assert.deepEqual(again.body, { status: "duplicate", eventId: sample.eventId });
        }
        await drained();
        assert.equal(deliveriesOf("/main", key).length, 1, "delivered exactly once");
      });

      if (source.idLess) {
        it("answers the same body re-signed with a new timestamp as a duplicate (not a replay)", async () => {
          const nowMs = Date.now();
          const sample = source.sample(next(source.id), nowMs);
          const first = await post(path, signed(source, sample, primary, nowMs), sample.body);
          assert.equal(first.status, 200, JSON.stringify(first.body));
          assert.equal(first.body.status, "accepted");
          // A provider retry: identical body, fresh signature (one second later).
          const retry = await post(path, signed(source, sample, primary, nowMs + 1_000), sample.body);
          assert.equal(retry.status, 200, JSON.stringify(retry.body));
          assert.deepEqual(retry.body, { status: "duplicate", eventId: sample.eventId });
          await drained();
          assert.equal(deliveriesOf("/main", deliveryKey(tenant, "main", sample.eventId)).length, 1);
        });
      }

      it("accepts a request signed with the rotated (second) secret", async () => {
        const sample = source.sample(next(source.id), Date.now());
        const answer = await post(path, signed(source, sample, rotated), sample.body);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.status, "accepted");
        await waitForDelivery("/main", deliveryKey(tenant, "main", sample.eventId));
      });

      it("refuses a wrong secret with 401 signature_invalid, enqueuing nothing", async () => {
        const before = storedEvents();
        const sample = source.sample(next(source.id), Date.now());
        const answer = await post(path, signed(source, sample, wrongSecret(source.id)), sample.body);
        assert.equal(answer.status, 401, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, "signature_invalid");
        assert.equal(storedEvents(), before);
      });

      if (!source.tokenOnly) {
        it("refuses a tampered body with 401 signature_invalid", async () => {
          const before = storedEvents();
          const sample = source.sample(next(source.id), Date.now());
          const headers = signed(source, sample, primary);
          const tampered = sample.body.replace(/-(\d+)/, (_, digits: string) => `-${Number(digits) + 1}`);
          assert.notEqual(tampered, sample.body);
          const answer = await post(path, headers, tampered);
          assert.equal(answer.status, 401, JSON.stringify(answer.body));
          assert.equal(answer.body.error?.code, "signature_invalid");
          assert.equal(storedEvents(), before);
        });
      }

      if (source.timestamp === "signed") {
        for (const [label, offsetMs, code] of [
          ["stale", -staleOrFutureMs, "timestamp_stale"],
          ["future", staleOrFutureMs, "timestamp_future"],
        ] as const) {
          it(`refuses a ${label} timestamp with 401 ${code}`, async () => {
            const before = storedEvents();
            const nowMs = Date.now() + offsetMs;
            const sample = source.sample(next(source.id), nowMs);
            const answer = await post(path, signed(source, sample, primary, nowMs), sample.body);
            assert.equal(answer.status, 401, JSON.stringify(answer.body));
            assert.equal(answer.body.error?.code, code);
            assert.equal(storedEvents(), before);
          });
        }
      }
    });
  }

  it("answers Zoom's URL validation handshake with plainToken and encryptedToken, enqueuing nothing", async () => {
    await drained();
    const before = { events: storedEvents(), delivered: sink.requests.length };
    const plainToken = "qgg8vlvZRS6UYooatFL8Aw";
    const body = json({ event: "endpoint.url_validation", event_ts: Date.now(), payload: { plainToken } });
    const zoom = sources.find((s) => s.id === "zoom");
    assert.ok(zoom);
    const answer = await post(
      `/webhooks/${tenant}/zoom`,
      signed(zoom, { body, eventId: "", type: "" }, secretPair("zoom")[0]),
      body,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const expected = createHmac("sha256", secretPair("zoom")[0]).update(plainToken).digest("hex");
    assert.deepEqual(answer.body, { plainToken, encryptedToken: expected });
    assert.equal(storedEvents(), before.events);
    const stats = await service.service.stores.queue.stats();
    assert.equal(stats.ready + stats.delayed + stats.leased, 0);
    assert.equal(sink.requests.length, before.delivered);
  });

  it("refuses an unsigned Zoom handshake (the challenge is verified like any event)", async () => {
    const body = json({ event: "endpoint.url_validation", payload: { plainToken: "abc" } });
    const answer = await post(`/webhooks/${tenant}/zoom`, { "content-type": "application/json" }, body);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error?.code, "signature_missing");
  });

  it("serves the seed-compatible POST /webhooks/generic with WEBHOOK_SECRET (tenant default)", async () => {
    const eventId = next("seed");
    const body = json({ hello: "world" });
    const headers = {
      ...signedHeaders(profileOf("default", "generic"), env.WEBHOOK_SECRET ?? "", body, { id: eventId }),
      "x-event-type": "deploy",
    };
    const answer = await post("/webhooks/generic", headers, body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, { status: "accepted", eventId, deliveries: 1 });
    const delivered = await waitForDelivery("/default", deliveryKey("default", "main", eventId));
    const event = JSON.parse(delivered.body) as Record<string, unknown>;
    assert.equal(event.tenant, "default");
    assert.equal(event.source, "generic");
    assert.equal(event.type, "deploy");

    const again = await post("/webhooks/generic", headers, body);
    assert.deepEqual(again.body, { status: "duplicate", eventId });

    const wrong = await post(
      "/webhooks/generic",
      signedHeaders(profileOf("default", "generic"), "test-secret-not-real-wrong", body),
      body,
    );
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, "signature_invalid");
  });

  describe("fan-out and route predicates", () => {
    const fanSecret = () => secretPair("fan")[0];
    const sendFan = async (type: string, data: unknown) => {
      const eventId = next("fan");
      const body = json(data);
      const headers = {
        ...signedHeaders(profileOf(tenant, "fan"), fanSecret(), body, { id: eventId }),
        "x-github-event": type,
      };
      return { eventId, answer: await post(`/webhooks/${tenant}/fan`, headers, body) };
    };

    it("delivers one event to every routed destination, each with its own idempotency key", async () => {
      const { eventId, answer } = await sendFan("issues", { action: "opened" });
      assert.deepEqual(answer.body, { status: "accepted", eventId, deliveries: 2 });
      const a = await waitForDelivery("/fan-a", deliveryKey(tenant, "fan-a", eventId));
      const b = await waitForDelivery("/fan-b", deliveryKey(tenant, "fan-b", eventId));
      assert.notEqual(a.headers["webhook-id"], b.headers["webhook-id"]);
      assert.equal(a.body, b.body);
      await drained();
      assert.equal(sink.requests.filter((r) => r.body.includes(eventId)).length, 2);
    });

    it("adds a destination only when `when: { type, data.* }` holds", async () => {
      const main = await sendFan("push", { ref: "refs/heads/main" });
      assert.deepEqual(main.answer.body, { status: "accepted", eventId: main.eventId, deliveries: 3 });
      await waitForDelivery("/main-pushes", deliveryKey(tenant, "main-pushes", main.eventId));

      for (const [type, ref] of [
        ["push", "refs/heads/dev"], // data.ref does not match
        ["issues", "refs/heads/main"], // type does not match
      ] as const) {
        const other = await sendFan(type, { ref });
        assert.deepEqual(other.answer.body, { status: "accepted", eventId: other.eventId, deliveries: 2 });
      }
      await drained();
      assert.equal(sink.requests.filter((r) => r.url === "/main-pushes").length, 1);
    });

    it("records the decision in the event trail (admin API)", async () => {
      const { eventId } = await sendFan("push", { ref: "refs/heads/main" });
      const response = await request(`${service.url}/admin/events/${tenant}/${eventId}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.equal(response.statusCode, 200);
      const trace = (await response.body.json()) as {
        trail: { stage: string; detail?: Record<string, unknown> }[];
      };
      // One intake entry: the decision and the routing it led to.
      const received = trace.trail.filter((e) => e.stage === "received");
      assert.equal(received.length, 1);
      const { routes, ...detail } = received[0]?.detail ?? {};
      assert.deepEqual(detail, {
        source: "fan",
        type: "push",
        destinations: ["fan-a", "fan-b", "main-pushes"],
      });
      assert.ok(Array.isArray(routes) && routes.length > 0, "the matched routes are named");
    });
  });

  describe("unknown tenant or source", () => {
    const github = () => sources[0] as SourceCase;
    for (const [label, path, code] of [
      ["tenant", "/webhooks/nobody/github", "unknown_tenant"],
      ["source", "/webhooks/acme/nothing", "unknown_source"],
      ["source of another tenant", "/webhooks/default/github", "unknown_source"],
    ] as const) {
      it(`answers an unknown ${label} with 404 ${code}, even when correctly signed`, async () => {
        const before = storedEvents();
        const sample = github().sample(next("unknown"), Date.now());
        const answer = await post(path, signed(github(), sample, secretPair("github")[0]), sample.body);
        assert.equal(answer.status, 404);
        assert.equal(answer.body.error?.code, code);
        assert.ok(answer.body.error?.message);
        assert.equal(storedEvents(), before);
      });
    }
  });
});
