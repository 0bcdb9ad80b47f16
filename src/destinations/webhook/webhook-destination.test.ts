import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { Agent, buildConnector } from "undici";
import { WebhookSink } from "../../../test/fakes/webhook-sink.ts";
import type { WebhookDestinationConfig } from "../../config/config.ts";
import {
  ConfigError,
  type DeliveryReason,
  PermanentError,
  RetryAfterError,
  RetryableError,
} from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { FakeClock } from "../../ports/clock.ts";
import { zenUserAgent } from "../user-agent.ts";
import { webhookEgressPolicy } from "./egress-policy.ts";
import { renderBody } from "./render-body.ts";
import { WebhookDestination, type WebhookDestinationOptions } from "./webhook-destination.ts";

const whsecSecret = `whsec_${Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64")}`;
const event: ZenEvent = {
  id: "evt-1",
  tenant: "acme",
  source: "gh",
  type: "push",
  severity: "high",
  data: { ref: "refs/heads/main", n: 1, text: "héllo ✓" },
  headers: { "x-github-event": "push" },
  receivedAt: "2026-01-01T00:00:00.000Z",
};
const idempotencyKey = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a";

let sink: WebhookSink;
const destinations: WebhookDestination[] = [];

before(async () => {
  sink = await WebhookSink.start();
});
after(async () => {
  await Promise.all(destinations.map((d) => d.close()));
  await sink.close();
});
beforeEach(() => {
  sink.reset();
});

function config(overrides: Partial<WebhookDestinationConfig> = {}): WebhookDestinationConfig {
  return {
    type: "webhook",
    id: "ops-hook",
    tenant: "acme",
    url: sink.url,
    secret: whsecSecret,
    headers: {},
    timeoutMs: 30_000,
    ...overrides,
  };
}

function destination(
  overrides: Partial<WebhookDestinationConfig> = {},
  options: Partial<WebhookDestinationOptions> = {},
): WebhookDestination {
  const d = new WebhookDestination({
    config: config(overrides),
    maxRetryAfterMs: 60_000,
    clock: new FakeClock(Date.now()),
    // Transport mechanics are tested on exact bytes; redaction has its own tests (destinations/redaction.test.ts).
    redaction: undefined,
    ...options,
  });
  destinations.push(d);
  return d;
}

function send(d: WebhookDestination, signal: AbortSignal = new AbortController().signal) {
  return d.send({ event, idempotencyKey, attempt: 1 }, signal);
}

function failsWith(
  kind: new (...args: never[]) => RetryableError | PermanentError,
  reason: DeliveryReason,
  extra?: (err: RetryableError | PermanentError) => void,
) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    assert.equal((err as RetryableError | PermanentError).reason, reason);
    extra?.(err as RetryableError | PermanentError);
    return true;
  };
}

describe("WebhookDestination: a 2xx", () => {
  test("posts the rendered event with the delivery headers", async () => {
    const clock = new FakeClock(Date.now());
    const d = destination({ headers: { "X-Team": "ops", "Idempotency-Key": "spoof" } }, { clock });
    const result = await send(d);
    assert.equal(result.statusCode, 200);
    assert.equal(result.durationMs, 0); // the fake clock did not move
    assert.equal(sink.requests.length, 1);
    const req = sink.requests[0];
    assert.ok(req);
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/hook");
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(req.headers["user-agent"], zenUserAgent);
    assert.match(zenUserAgent, /^zen-integrations\/\d+\.\d+\.\d+/);
    assert.equal(req.headers["idempotency-key"], idempotencyKey); // static headers cannot override it
    assert.equal(req.headers["webhook-id"], idempotencyKey);
    assert.equal(req.headers["webhook-timestamp"], String(Math.floor(clock.now() / 1000)));
    assert.equal(req.headers["x-team"], "ops");
    assert.equal(req.body, renderBody(event));
    const parsed = JSON.parse(req.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [
      "id",
      "tenant",
      "source",
      "type",
      "severity",
      "data",
      "receivedAt",
    ]);
    assert.equal(parsed.headers, undefined); // intake headers stay with us
  });

  test("any 2xx is delivered", async () => {
    sink.respond({ status: 202 }, { status: 204 });
    const d = destination();
    assert.equal((await send(d)).statusCode, 202);
    assert.equal((await send(d)).statusCode, 204);
  });

  test("the same idempotency key and webhook-id on every attempt", async () => {
    const d = destination();
    await d.send({ event, idempotencyKey, attempt: 1 }, new AbortController().signal);
    await d.send({ event, idempotencyKey, attempt: 2 }, new AbortController().signal);
    const ids = sink.requests.map((r) => [r.headers["idempotency-key"], r.headers["webhook-id"]]);
    assert.deepEqual(ids, [
      [idempotencyKey, idempotencyKey],
      [idempotencyKey, idempotencyKey],
    ]);
  });
});

describe("WebhookDestination: Standard Webhooks signature", () => {
  test("a whsec_ secret: the standardwebhooks package verifies it", async () => {
    await send(destination());
    const req = sink.requests[0];
    assert.ok(req);
    assert.match(String(req.headers["webhook-signature"]), /^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(whsecSecret).verify(req.rawBody, req.headers as Record<string, string>);
    assert.deepEqual(verified, JSON.parse(renderBody(event)));
  });

  test("a raw secret is used as its UTF-8 bytes", async () => {
    const raw = "plain sécret";
    await send(destination({ secret: raw }));
    const req = sink.requests[0];
    assert.ok(req);
    const headers = req.headers as Record<string, string>;
    new Webhook(Buffer.from(raw, "utf8"), { format: "raw" }).verify(req.rawBody, headers);
    assert.throws(() => new Webhook(whsecSecret).verify(req.rawBody, headers), /No matching signature/);
  });

  test("a tampered body does not verify", async () => {
    await send(destination());
    const req = sink.requests[0];
    assert.ok(req);
    const tampered = req.body.replace("main", "evil");
    assert.throws(
      () => new Webhook(whsecSecret).verify(tampered, req.headers as Record<string, string>),
      /No matching signature/,
    );
  });

  test("no secret: sent unsigned", async () => {
    await send(destination({ secret: undefined }));
    const req = sink.requests[0];
    assert.ok(req);
    assert.equal(req.headers["webhook-signature"], undefined);
    assert.equal(req.headers["webhook-id"], idempotencyKey);
  });

  test("unusable config is refused at construction with the field named", () => {
    assert.throws(
      () => destination({ secret: "whsec_not base64!" }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "config_invalid" &&
        err.problems[0] ===
          "tenants.acme.destinations.ops-hook.secret: a whsec_ secret must be base64 after the prefix",
    );
    assert.throws(() => destination({ secret: "" }), ConfigError);
    assert.throws(() => destination({ url: "ftp://example.com/x" }), /must be http\(s\)/);
    assert.throws(() => destination({ url: "not a url" }), /url: not a valid URL/);
  });
});

describe("WebhookDestination: failures map through classify", () => {
  test("429 with Retry-After seconds", async () => {
    sink.respond({ status: 429, headers: { "retry-after": "7" } });
    await assert.rejects(
      send(destination()),
      failsWith(RetryAfterError, "rate_limited", (err) => {
        assert.equal((err as RetryAfterError).retryAfterMs, 7_000);
        assert.equal(err.statusCode, 429);
      }),
    );
  });

  test("429 with Retry-After as an HTTP date, relative to the injected clock", async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    sink.respond({ status: 429, headers: { "retry-after": "Tue, 01 Jan 2030 00:00:45 GMT" } });
    await assert.rejects(
      send(destination({}, { clock })),
      failsWith(RetryAfterError, "rate_limited", (err) => {
        assert.equal((err as RetryAfterError).retryAfterMs, 45_000);
      }),
    );
  });

  test("Retry-After is bounded by maxRetryAfterMs", async () => {
    sink.respond({ status: 429, headers: { "retry-after": "3600" } });
    await assert.rejects(
      send(destination({}, { maxRetryAfterMs: 10_000 })),
      failsWith(RetryAfterError, "rate_limited", (err) => {
        assert.equal((err as RetryAfterError).retryAfterMs, 10_000);
      }),
    );
  });

  test("429 without Retry-After: plain retry", async () => {
    sink.respond({ status: 429 });
    await assert.rejects(send(destination()), (err: unknown) => {
      assert.ok(err instanceof RetryableError && !(err instanceof RetryAfterError));
      assert.equal(err.reason, "rate_limited");
      return true;
    });
  });

  test("503 with Retry-After, 503 and 500 without", async () => {
    sink.respond(
      { status: 503, headers: { "retry-after": "2" } },
      { status: 503 },
      { status: 500, body: "database exploded\nstack…" },
    );
    const d = destination();
    await assert.rejects(
      send(d),
      failsWith(RetryAfterError, "retry_after", (err) => {
        assert.equal((err as RetryAfterError).retryAfterMs, 2_000);
      }),
    );
    await assert.rejects(send(d), failsWith(RetryableError, "server_error"));
    await assert.rejects(
      send(d),
      failsWith(RetryableError, "server_error", (err) => {
        assert.equal(err.message, "HTTP 500: database exploded stack…");
        assert.equal(err.statusCode, 500);
      }),
    );
  });

  const permanent: ReadonlyArray<[number, DeliveryReason]> = [
    [401, "invalid_auth"],
    [403, "permission_denied"],
    [404, "not_found"],
    [410, "not_found"],
    [400, "validation_failed"],
    [422, "validation_failed"],
  ];
  for (const [status, reason] of permanent) {
    test(`${status} is permanent: ${reason}`, async () => {
      sink.respond({ status });
      await assert.rejects(
        send(destination()),
        failsWith(PermanentError, reason, (err) => assert.equal(err.statusCode, status)),
      );
    });
  }

  test("a redirect is not followed and is permanent", async () => {
    sink.respond({ status: 301, headers: { location: `${sink.url}/moved` } });
    await assert.rejects(send(destination()), failsWith(PermanentError, "validation_failed"));
    assert.equal(sink.requests.length, 1);
  });
});

describe("WebhookDestination: transport failures", () => {
  test("a hanging receiver times out at the attempt deadline", async () => {
    sink.respond({ hang: true });
    const started = Date.now();
    await assert.rejects(
      send(destination({}, { egress: { attemptDeadlineMs: 200 } })),
      failsWith(RetryableError, "timeout"),
    );
    assert.ok(Date.now() - started < 2_000);
  });

  test("the destination's timeoutMs shortens the deadline", async () => {
    sink.respond({ hang: true });
    const started = Date.now();
    await assert.rejects(send(destination({ timeoutMs: 150 })), failsWith(RetryableError, "timeout"));
    assert.ok(Date.now() - started < 2_000);
  });

  test("the headers timeout fires on its own", async () => {
    sink.respond({ hang: true });
    await assert.rejects(
      send(destination({}, { egress: { headersTimeoutMs: 100 } })),
      failsWith(RetryableError, "timeout", (err) => assert.match(err.message, /HEADERS_TIMEOUT/)),
    );
  });

  test("the caller's signal aborts the attempt", async () => {
    sink.respond({ hang: true });
    const controller = new AbortController();
    const pending = send(destination(), controller.signal);
    await sink.waitForRequests(1);
    controller.abort();
    await assert.rejects(pending, failsWith(RetryableError, "timeout"));
  });

  test("connection refused", async () => {
    const port = await freePort();
    await assert.rejects(
      send(destination({ url: `http://127.0.0.1:${port}/hook` })),
      failsWith(RetryableError, "network_error", (err) => assert.match(err.message, /ECONNREFUSED/)),
    );
  });

  test("connection reset before a response", async () => {
    sink.respond({ reset: true });
    await assert.rejects(send(destination()), failsWith(RetryableError, "network_error"));
  });
});

describe("WebhookDestination: response body cap", () => {
  test("an endless 2xx body is cut at 64 KiB and still counts as delivered", async () => {
    sink.respond({ status: 200, streamBytes: Number.POSITIVE_INFINITY });
    const result = await send(destination());
    assert.equal(result.statusCode, 200);
    // The sink stops when we hang up; kernel buffers let it run a little past our 64 KiB.
    await waitUntil(() => (sink.streamedBytes.get(0) ?? 0) > 0);
    assert.ok((sink.streamedBytes.get(0) ?? 0) < 16 * 1024 * 1024);
  });

  test("a huge error body leaves only a short snippet in the error", async () => {
    sink.respond({ status: 500, body: `oops ${"x".repeat(1024 * 1024)}` });
    await assert.rejects(
      send(destination()),
      failsWith(RetryableError, "server_error", (err) => {
        assert.match(err.message, /^HTTP 500: oops x+…$/);
        assert.ok(err.message.length <= 220, `message length ${err.message.length}`);
      }),
    );
  });
});

describe("WebhookDestination: injected dispatcher and connector", () => {
  test("the Agent is built from webhookEgressPolicy, the connector through the seam", async () => {
    const seen: { agent?: Agent.Options; connector?: unknown } = {};
    const d = destination(
      {},
      {
        dispatcherFactory: (options) => {
          seen.agent = options;
          return new Agent(options);
        },
        connectorFactory: (options) => {
          seen.connector = options;
          return (opts, callback) => {
            // An egress guard would refuse private addresses here; this one only records the host.
            assert.equal(opts.hostname, "127.0.0.1");
            buildConnector(options)(opts, callback);
          };
        },
      },
    );
    await send(d);
    assert.deepEqual(seen.connector, { timeout: webhookEgressPolicy.connectTimeoutMs });
    assert.equal(seen.agent?.headersTimeout, 10_000);
    assert.equal(seen.agent?.bodyTimeout, 10_000);
    assert.equal(seen.agent?.connections, 10);
    assert.equal(seen.agent?.keepAliveMaxTimeout, 90_000);
    assert.equal(webhookEgressPolicy.attemptDeadlineMs, 30_000);
  });

  test("close is idempotent", async () => {
    const d = destination();
    await send(d);
    await Promise.all([d.close(), d.close()]);
    await d.close();
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntil(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
