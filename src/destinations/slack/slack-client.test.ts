/**
 * SlackClient against the fake Slack over real HTTP, through the egress guard: what it sends, and
 * every Slack failure landing in the right class with `slack: <code>` and never the token.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeSlack, fakeBotToken } from "../../../test/fakes/fake-slack.ts";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { createEgressGuard } from "../egress/egress-guard.ts";
import { SlackClient, type SlackClientOptions } from "./slack-client.ts";
import { slackDefaultRetryAfterMs } from "./slack-errors.ts";

const channel = "C0123456789";
const loopbackAllowed = createEgressGuard({ allowPrivate: true, allowCidrs: [] });

describe("SlackClient", () => {
  let slack: FakeSlack;
  const clients: SlackClient[] = [];
  const client = (overrides: Partial<SlackClientOptions> = {}) => {
    const c = new SlackClient({
      token: fakeBotToken,
      apiUrl: slack.url,
      connectorFactory: loopbackAllowed,
      maxRetryAfterMs: 300_000,
      ...overrides,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    slack = await FakeSlack.start({
      channels: [channel, { id: "CARCHIVED1", archived: true }, { id: "CNOTMEMBER", member: false }],
      users: [{ id: "U1", name: "ada", email: "ada@example.com" }],
      userGroups: { S1: ["U1", "U2"] },
      deadTokens: {
        "dead-inactive-not-real": "account_inactive",
        "dead-revoked-not-real": "token_revoked",
        "dead-expired-not-real": "token_expired",
      },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await slack.close();
  });
  beforeEach(() => slack.reset());

  it("posts Block Kit with a text fallback as the SDK does: form body, Bearer token", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*disk full*" } }];
    const result = await client().postMessage({ channel, text: "disk full", blocks });
    assert.equal(result.channel, channel);
    const [message] = slack.messages(channel);
    assert.equal(message?.ts, result.ts);
    assert.equal(message?.text, "disk full");
    assert.deepEqual(message?.blocks, blocks);
    const [call] = slack.calls;
    assert.equal(call?.tokenFrom, "header");
    assert.equal(call?.token, fakeBotToken);
    assert.equal(call?.contentType, "application/x-www-form-urlencoded");
  });

  it("threads replies and updates messages", async () => {
    const c = client();
    const first = await c.postMessage({ channel, text: "first" });
    const reply = await c.postMessage({ channel, text: "again", threadTs: first.ts });
    assert.notEqual(reply.ts, first.ts);
    assert.deepEqual(
      slack.replies(channel, first.ts).map((m) => m.text),
      ["again"],
    );
    const updated = await c.updateMessage({ channel, ts: first.ts, text: "edited" });
    assert.equal(updated.ts, first.ts);
    assert.equal(slack.messages(channel)[0]?.text, "edited");
  });

  it("reads users (with email), user group members and auth.test", async () => {
    const c = client();
    assert.deepEqual(await c.userInfo("U1"), { id: "U1", email: "ada@example.com", name: "ada" });
    assert.deepEqual(await c.userGroupMembers("S1"), ["U1", "U2"]);
    assert.deepEqual(await c.authTest(), { teamId: "T0FAKETEAM", userId: "U0FAKEBOT" });
  });

  /** Runs `call`, expects it to throw, checks class, reason and that the token is nowhere. */
  async function failure(call: () => Promise<unknown>): Promise<RetryableError | PermanentError> {
    try {
      await call();
    } catch (err) {
      assert.ok(
        err instanceof RetryableError || err instanceof PermanentError,
        `typed error, got ${String(err)}`,
      );
      assert.doesNotMatch(err.message, new RegExp(fakeBotToken));
      assert.match(err.message, /^slack: /);
      return err;
    }
    assert.fail("expected the call to fail");
  }

  describe("error classes", () => {
    const permanentCases: readonly {
      readonly name: string;
      readonly reason: string;
      readonly code: string;
      readonly run: () => Promise<unknown>;
    }[] = [
      {
        name: "a wrong token",
        reason: "invalid_auth",
        code: "invalid_auth",
        run: () => client({ token: "wrong-token-not-real" }).postMessage({ channel, text: "x" }),
      },
      {
        name: "no token",
        reason: "invalid_auth",
        code: "not_authed",
        run: () => client({ token: "" }).postMessage({ channel, text: "x" }),
      },
      {
        name: "an inactive account",
        reason: "invalid_auth",
        code: "account_inactive",
        run: () => client({ token: "dead-inactive-not-real" }).postMessage({ channel, text: "x" }),
      },
      {
        name: "a revoked token",
        reason: "invalid_auth",
        code: "token_revoked",
        run: () => client({ token: "dead-revoked-not-real" }).postMessage({ channel, text: "x" }),
      },
      {
        name: "an expired token",
        reason: "invalid_auth",
        code: "token_expired",
        run: () => client({ token: "dead-expired-not-real" }).postMessage({ channel, text: "x" }),
      },
      {
        name: "a missing scope",
        reason: "permission_denied",
        code: "missing_scope",
        run: () => {
          slack.failNext("chat.postMessage", { error: "missing_scope" });
          return client().postMessage({ channel, text: "x" });
        },
      },
      {
        name: "a channel the bot is not in",
        reason: "permission_denied",
        code: "not_in_channel",
        run: () => client().postMessage({ channel: "CNOTMEMBER", text: "x" }),
      },
      {
        name: "an unknown channel",
        reason: "not_found",
        code: "channel_not_found",
        run: () => client().postMessage({ channel: "CUNKNOWN01", text: "x" }),
      },
      {
        name: "an archived channel",
        reason: "not_found",
        code: "is_archived",
        run: () => client().postMessage({ channel: "CARCHIVED1", text: "x" }),
      },
      {
        name: "invalid blocks",
        reason: "validation_failed",
        code: "invalid_blocks",
        run: () =>
          client().postMessage({
            channel,
            text: "x",
            blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }],
          }),
      },
      {
        name: "a message too long",
        reason: "validation_failed",
        code: "msg_too_long",
        run: () => client().postMessage({ channel, text: "x".repeat(40_001) }),
      },
      {
        name: "no text",
        reason: "validation_failed",
        code: "no_text",
        run: () => client().postMessage({ channel, text: "" }),
      },
      {
        name: "invalid arguments",
        reason: "validation_failed",
        code: "invalid_arguments",
        run: () => {
          slack.failNext("chat.postMessage", { error: "invalid_arguments" });
          return client().postMessage({ channel, text: "x" });
        },
      },
      {
        name: "an updated message that is gone",
        reason: "not_found",
        code: "message_not_found",
        run: () => client().updateMessage({ channel, ts: "1.000001", text: "x" }),
      },
    ];
    for (const c of permanentCases) {
      it(`${c.name} → permanent ${c.reason} "slack: ${c.code}"`, async () => {
        const err = await failure(c.run);
        assert.ok(err instanceof PermanentError, `${err.name}: ${err.message}`);
        assert.equal(err.reason, c.reason);
        assert.match(err.message, new RegExp(`^slack: ${c.code} \\(`));
      });
    }

    it("names the scope missing_scope needs", async () => {
      slack.failNext("chat.postMessage", { error: "missing_scope" });
      const err = await failure(() => client().postMessage({ channel, text: "x" }));
      assert.equal(err.message, "slack: missing_scope (chat.postMessage; needs chat:write)");
    });

    for (const [code, reason] of [
      ["fatal_error", "server_error"],
      ["internal_error", "server_error"],
      ["service_unavailable", "server_error"],
      ["request_timeout", "timeout"],
      ["some_new_code", "unknown"],
    ] as const) {
      it(`ok:false ${code} → retry ${reason}`, async () => {
        slack.failNext("chat.postMessage", { error: code });
        const err = await failure(() => client().postMessage({ channel, text: "x" }));
        assert.ok(err instanceof RetryableError && !(err instanceof RetryAfterError));
        assert.equal(err.reason, reason);
        assert.match(err.message, new RegExp(`^slack: ${code} `));
      });
    }

    for (const status of [500, 502, 503] as const) {
      it(`HTTP ${status} → retry server_error`, async () => {
        slack.failNext("chat.postMessage", { status });
        const err = await failure(() => client().postMessage({ channel, text: "x" }));
        assert.ok(err instanceof RetryableError && !(err instanceof RetryAfterError));
        assert.equal(err.reason, "server_error");
        assert.equal(err.statusCode, status);
        assert.match(err.message, new RegExp(`^slack: HTTP ${status} \\(chat.postMessage\\)`));
      });
    }

    it("HTTP 429 Retry-After: 7 → RetryAfterError rate_limited 7 s", async () => {
      slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 7 });
      const err = await failure(() => client().postMessage({ channel, text: "x" }));
      assert.ok(err instanceof RetryAfterError);
      assert.equal(err.reason, "rate_limited");
      assert.equal(err.retryAfterMs, 7000);
      assert.equal(err.message, "slack: HTTP 429 (chat.postMessage)");
      assert.equal(slack.calls.length, 1, "the SDK did not retry");
    });

    it("HTTP 429 Retry-After beyond maxRetryAfterMs is clamped", async () => {
      slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 3600 });
      const err = await failure(() =>
        client({ maxRetryAfterMs: 120_000 }).postMessage({ channel, text: "x" }),
      );
      assert.ok(err instanceof RetryAfterError);
      assert.equal(err.retryAfterMs, 120_000);
    });

    it("HTTP 429 without Retry-After → rate_limited after the named default", async () => {
      slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: null });
      const err = await failure(() => client().postMessage({ channel, text: "x" }));
      assert.ok(err instanceof RetryAfterError);
      assert.equal(err.reason, "rate_limited");
      assert.equal(err.retryAfterMs, slackDefaultRetryAfterMs);
    });

    it("HTTP 503 with Retry-After → RetryAfterError retry_after", async () => {
      // The fake's 5xx carry no Retry-After: a raw server answers the 503 + header here.
      const raw = createServer((_req, res) => {
        res.writeHead(503, { "retry-after": "4", "content-type": "text/plain" });
        res.end("down for maintenance");
      });
      raw.listen(0, "127.0.0.1");
      await once(raw, "listening");
      const { port } = raw.address() as AddressInfo;
      try {
        const err = await failure(() =>
          client({ apiUrl: `http://127.0.0.1:${port}/api/` }).postMessage({ channel, text: "x" }),
        );
        assert.ok(err instanceof RetryAfterError);
        assert.equal(err.reason, "retry_after");
        assert.equal(err.retryAfterMs, 4000);
        assert.equal(err.message, "slack: HTTP 503 (chat.postMessage)");
      } finally {
        raw.closeAllConnections();
        await new Promise((resolve) => raw.close(resolve));
      }
    });

    it("ok:false rate_limited (chat's app-level posting limit) → rate_limited after the default", async () => {
      slack.failNext("chat.postMessage", { error: "rate_limited" });
      const err = await failure(() => client().postMessage({ channel, text: "x" }));
      assert.ok(err instanceof RetryAfterError);
      assert.equal(err.reason, "rate_limited");
      assert.equal(err.retryAfterMs, slackDefaultRetryAfterMs);
    });

    it("a dropped connection → retry network_error", async () => {
      slack.failNext("chat.postMessage", { drop: true });
      const err = await failure(() => client().postMessage({ channel, text: "x" }));
      assert.ok(err instanceof RetryableError);
      assert.equal(err.reason, "network_error");
    });

    it("a slow Slack → retry timeout after the request timeout", async () => {
      slack.delayMs = 500;
      const started = performance.now();
      const err = await failure(() => client({ timeoutMs: 100 }).postMessage({ channel, text: "x" }));
      assert.ok(err instanceof RetryableError);
      assert.equal(err.reason, "timeout");
      assert.ok(performance.now() - started < 450, "gave up at the timeout, not when Slack answered");
    });

    it("the caller's abort signal ends the call → retry timeout", async () => {
      slack.delayMs = 500;
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException("deadline", "TimeoutError")), 50);
      const started = performance.now();
      const err = await failure(() => client().postMessage({ channel, text: "x" }, controller.signal));
      assert.equal(err.reason, "timeout");
      assert.ok(performance.now() - started < 450);
    });

    it("an API base on a private address without an egress allowance → permanent egress_denied", async () => {
      const guarded = client({
        connectorFactory: createEgressGuard({ allowPrivate: false, allowCidrs: [] }),
      });
      const err = await failure(() => guarded.postMessage({ channel, text: "x" }));
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "egress_denied");
      assert.equal(slack.calls.length, 0, "no socket reached the fake");
    });
  });

  describe("respond (response_url)", () => {
    it("posts JSON to a response_url on the test base", async () => {
      const url = slack.responseUrl();
      await client().respond(url, { text: "Approved", replaceOriginal: true, responseType: "in_channel" });
      assert.deepEqual(slack.responses(url), [
        { text: "Approved", response_type: "in_channel", replace_original: true },
      ]);
    });

    it("a spent response_url → permanent not_found slack: used_url", async () => {
      const url = slack.responseUrl();
      const c = client();
      for (let i = 0; i < 5; i++) await c.respond(url, { text: `r${i}` });
      const err = await failure(() => c.respond(url, { text: "sixth" }));
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "not_found");
      assert.match(err.message, /^slack: used_url/);
    });

    it("an expired response_url → permanent not_found slack: expired_url", async () => {
      const url = slack.responseUrl();
      slack.responseUrlTtlMs = -1;
      try {
        const err = await failure(() => client().respond(url, { text: "late" }));
        assert.equal(err.reason, "not_found");
        assert.match(err.message, /^slack: expired_url/);
      } finally {
        slack.responseUrlTtlMs = 30 * 60_000;
      }
    });

    it("a 5xx from the response_url → retry server_error", async () => {
      const url = slack.responseUrl();
      slack.failNext("response_url", { status: 503 });
      const err = await failure(() => client().respond(url, { text: "x" }));
      assert.ok(err instanceof RetryableError);
      assert.equal(err.reason, "server_error");
    });

    for (const url of [
      "https://evil.example.com/actions/1",
      "http://hooks.slack.com/actions/1",
      "https://hooks.slack.com.evil.example/actions/1",
      "https://user:pw@hooks.slack.com/actions/1",
      "https://hooks.slack.com:8443/actions/1",
      "not a url",
    ]) {
      it(`refuses response_url ${url} without sending anything`, async () => {
        const err = await failure(() => client().respond(url, { text: "x" }));
        assert.ok(err instanceof PermanentError);
        assert.equal(err.reason, "validation_failed");
      });
    }
  });
});
