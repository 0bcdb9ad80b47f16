import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeZenBack } from "../../test/fakes/fake-zen-back.ts";
import type { ZenBackDestinationConfig } from "../config/config.ts";
import { createDestination } from "../destinations/create-destination.ts";
import type { Destination } from "../destinations/destination.ts";
import { PermanentError, RetryAfterError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import type { ZenBackDecision } from "./zen-back-destination.ts";

const apiKey = "zen-back-key-not-real";

const decision: ZenBackDecision = {
  approvalId: "ap_0123456789abcdef0123456789abcdef",
  tenant: "acme",
  action: "restart-deployment",
  risk: "high",
  decision: "approved",
  approver: { slackUserId: "U0LEAD1", email: "lead@example.com" },
  decidedAt: "2026-01-01T00:00:00.000Z",
  requester: "U0REQ",
  approvers: [{ slackUserId: "U0LEAD1", email: "lead@example.com" }],
};

const event = (data: unknown): ZenEvent => ({
  id: `${decision.approvalId}.decision`,
  tenant: "acme",
  source: "_approvals",
  type: "approval.decided",
  data,
  receivedAt: "2026-01-01T00:00:00.000Z",
});

function zenBackDestination(
  url: string,
  options: { key?: string; allowPrivate?: boolean } = {},
): Destination {
  const config: ZenBackDestinationConfig = {
    type: "zen-back",
    id: "_zen-back",
    tenant: "acme",
    url,
    apiKey: options.key ?? apiKey,
    timeoutMs: 10_000,
  };
  return createDestination(config, {
    maxRetryAfterMs: 60_000,
    egress: { allowPrivate: options.allowPrivate ?? true, allowCidrs: [] },
  });
}

describe("zen-back destination", () => {
  let fake: FakeZenBack;
  before(async () => {
    fake = await FakeZenBack.start(apiKey);
  });
  after(async () => {
    await fake.close();
  });

  it("POSTs the decision as JSON with the bearer token and the delivery's idempotency key", async () => {
    const destination = zenBackDestination(fake.url);
    try {
      const result = await destination.send(
        { event: event(decision), idempotencyKey: "key-1", attempt: 1 },
        new AbortController().signal,
      );
      assert.equal(result.statusCode, 200);
      const request = fake.requests.at(-1);
      assert.equal(request?.method, "POST");
      assert.equal(request?.path, new URL(fake.url).pathname, "the URL as configured, nothing appended");
      assert.equal(request?.headers.authorization, `Bearer ${apiKey}`);
      assert.equal(request?.headers["idempotency-key"], "key-1");
      assert.equal(request?.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(request?.body ?? ""), decision);
      assert.deepEqual(fake.accepted.at(-1), { idempotencyKey: "key-1", decision });
    } finally {
      await destination.close();
    }
  });

  it("503 with Retry-After is a RetryAfterError; a wrong key is permanent invalid_auth", async () => {
    const destination = zenBackDestination(fake.url);
    const wrongKey = zenBackDestination(fake.url, { key: "wrong-key" });
    try {
      fake.failNext({ status: 503, retryAfterSeconds: 7 });
      await assert.rejects(
        destination.send(
          { event: event(decision), idempotencyKey: "key-2", attempt: 1 },
          new AbortController().signal,
        ),
        (err: unknown) =>
          err instanceof RetryAfterError && err.reason === "retry_after" && err.retryAfterMs === 7_000,
      );
      await assert.rejects(
        wrongKey.send(
          { event: event(decision), idempotencyKey: "key-3", attempt: 1 },
          new AbortController().signal,
        ),
        (err: unknown) => err instanceof PermanentError && err.reason === "invalid_auth",
      );
      assert.ok(!fake.accepted.some((a) => a.idempotencyKey === "key-3"));
    } finally {
      await destination.close();
      await wrongKey.close();
    }
  });

  it("goes through the egress guard: a loopback zen-back is refused unless private egress is allowed", async () => {
    const destination = zenBackDestination(fake.url, { allowPrivate: false });
    const before = fake.requests.length;
    try {
      await assert.rejects(
        destination.send(
          { event: event(decision), idempotencyKey: "key-4", attempt: 1 },
          new AbortController().signal,
        ),
        (err: unknown) => err instanceof PermanentError && err.reason === "egress_denied",
      );
      assert.equal(fake.requests.length, before, "nothing left the process");
    } finally {
      await destination.close();
    }
  });

  it("an event without a decision is a permanent validation failure", async () => {
    const destination = zenBackDestination(fake.url);
    try {
      await assert.rejects(
        destination.send(
          { event: event({ hello: 1 }), idempotencyKey: "key-5", attempt: 1 },
          new AbortController().signal,
        ),
        (err: unknown) => err instanceof PermanentError && err.reason === "validation_failed",
      );
    } finally {
      await destination.close();
    }
  });
});
