/**
 * The fake Slack behaves as providers.md §1.5–§1.9 documents: proven over real HTTP, with raw `fetch`
 * (JSON and form bodies) and with the official `@slack/web-api` client (form bodies, its error types).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ErrorCode, WebClient } from "@slack/web-api";
import { FakeSlack, fakeAppToken, fakeBotToken } from "./fake-slack.ts";

const channel = "C0123456789";

async function callJson(
  slack: FakeSlack,
  method: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${fakeBotToken}` },
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${slack.url}${method}`, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

async function callForm(
  slack: FakeSlack,
  method: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${slack.url}${method}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("fake Slack Web API", () => {
  let slack: FakeSlack;
  let now = Date.parse("2026-01-01T00:00:00Z");
  before(async () => {
    slack = await FakeSlack.start({
      channels: [channel, { id: "CARCHIVED1", archived: true }, { id: "CNOTMEMBER", member: false }],
      users: [{ id: "U1", name: "ada", email: "ada@example.com" }, { id: "U2" }],
      userGroups: { S1: ["U1", "U2"] },
      deadTokens: { "revoked-token-not-real": "token_revoked" },
      now: () => now,
    });
  });
  after(() => slack.close());
  beforeEach(() => {
    slack.reset();
    now = Date.parse("2026-01-01T00:00:00Z");
  });

  it("has an API base ending in /api/", () => {
    assert.match(slack.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it("posts a JSON message with a Bearer token and stores it with a ts", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }];
    const r = await callJson(slack, "chat.postMessage", { channel, text: "hi", blocks });
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true);
    assert.equal(r.body.channel, channel);
    assert.match(String(r.body.ts), /^\d+\.\d{6}$/);
    const [message] = slack.messages(channel);
    assert.equal(message?.ts, r.body.ts);
    assert.equal(message?.text, "hi");
    assert.deepEqual(message?.blocks, blocks);
    const [call] = slack.calls;
    assert.equal(call?.method, "chat.postMessage");
    assert.equal(call?.token, fakeBotToken);
    assert.equal(call?.tokenFrom, "header");
  });

  it("requires the Bearer header for JSON bodies: a token field in JSON is not_authed", async () => {
    const r = await callJson(slack, "chat.postMessage", { channel, text: "x", token: fakeBotToken }, {});
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: false, error: "not_authed" });
    assert.equal(slack.messages(channel).length, 0);
  });

  it("warns missing_charset on a JSON body without charset", async () => {
    const response = await fetch(`${slack.url}auth.test`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${fakeBotToken}` },
      body: "{}",
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.ok, true);
    assert.equal(body.warning, "missing_charset");
  });

  it("accepts form bodies with the token as a field and blocks as a JSON string", async () => {
    const blocks = [{ type: "divider" }, { type: "section", text: { type: "mrkdwn", text: "x" } }];
    const r = await callForm(slack, "chat.postMessage", {
      token: fakeBotToken,
      channel,
      text: "form",
      blocks: JSON.stringify(blocks),
    });
    assert.equal(r.body.ok, true);
    assert.deepEqual(slack.messages(channel)[0]?.blocks, blocks);
    assert.equal(slack.calls[0]?.tokenFrom, "body");
    assert.equal("token" in (slack.calls[0]?.args ?? {}), false, "the token is not kept in args");
  });

  it("answers auth errors as HTTP 200 ok:false", async () => {
    assert.equal((await callForm(slack, "auth.test", {})).body.error, "not_authed");
    assert.equal((await callForm(slack, "auth.test", { token: "nope-not-real" })).body.error, "invalid_auth");
    const revoked = await callForm(slack, "auth.test", { token: "revoked-token-not-real" });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.error, "token_revoked");
    const appOnBot = await callJson(
      slack,
      "chat.postMessage",
      { channel, text: "x" },
      {
        authorization: `Bearer ${fakeAppToken}`,
      },
    );
    assert.equal(appOnBot.body.error, "not_allowed_token_type");
  });

  it("answers channel errors: channel_not_found, is_archived, not_in_channel", async () => {
    for (const [id, error] of [
      ["CUNKNOWN", "channel_not_found"],
      ["CARCHIVED1", "is_archived"],
      ["CNOTMEMBER", "not_in_channel"],
    ] as const) {
      const r = await callJson(slack, "chat.postMessage", { channel: id, text: "x" });
      assert.deepEqual([r.status, r.body.error], [200, error]);
    }
    assert.equal(slack.allMessages().length, 0);
  });

  it("answers payload errors: no_text, msg_too_long, invalid_blocks, invalid_blocks_format", async () => {
    assert.equal((await callJson(slack, "chat.postMessage", { channel })).body.error, "no_text");
    assert.equal(
      (await callJson(slack, "chat.postMessage", { channel, text: "x".repeat(40_001) })).body.error,
      "msg_too_long",
    );
    const header = { type: "header", text: { type: "plain_text", text: "h".repeat(151) } };
    assert.equal(
      (await callJson(slack, "chat.postMessage", { channel, text: "x", blocks: [header] })).body.error,
      "invalid_blocks",
    );
    assert.equal(
      (await callJson(slack, "chat.postMessage", { channel, text: "x", blocks: { not: "an array" } })).body
        .error,
      "invalid_blocks_format",
    );
    const form = await callForm(slack, "chat.postMessage", {
      token: fakeBotToken,
      channel,
      text: "x",
      blocks: "[not json",
    });
    assert.equal(form.body.error, "invalid_blocks_format");
    assert.equal(slack.allMessages().length, 0);
  });

  it("threads replies under a message and updates messages in place", async () => {
    const first = await callJson(slack, "chat.postMessage", { channel, text: "first" });
    const ts = String(first.body.ts);
    const reply = await callJson(slack, "chat.postMessage", { channel, text: "again", thread_ts: ts });
    assert.equal(reply.body.ok, true);
    assert.notEqual(reply.body.ts, ts);
    assert.deepEqual(
      slack.replies(channel, ts).map((m) => m.text),
      ["again"],
    );
    const updated = await callJson(slack, "chat.update", { channel, ts, text: "edited" });
    assert.equal(updated.body.ok, true);
    assert.equal(updated.body.ts, ts);
    const message = slack.messages(channel).find((m) => m.ts === ts);
    assert.equal(message?.text, "edited");
    assert.equal(message?.edits, 1);
    const missing = await callJson(slack, "chat.update", { channel, ts: "1.000001", text: "x" });
    assert.equal(missing.body.error, "message_not_found");
  });

  it("gives every message a distinct, increasing ts even on the same clock tick", async () => {
    const a = await callJson(slack, "chat.postMessage", { channel, text: "a" });
    const b = await callJson(slack, "chat.postMessage", { channel, text: "b" });
    assert.ok(Number(b.body.ts) > Number(a.body.ts));
  });

  it("answers users.info (with email when set), usergroups.users.list and auth.test", async () => {
    const u1 = await callForm(slack, "users.info", { token: fakeBotToken, user: "U1" });
    const user = u1.body.user as { id: string; profile: { email?: string } };
    assert.equal(user.id, "U1");
    assert.equal(user.profile.email, "ada@example.com");
    const u2 = await callForm(slack, "users.info", { token: fakeBotToken, user: "U2" });
    assert.equal((u2.body.user as { profile: { email?: string } }).profile.email, undefined);
    assert.equal(
      (await callForm(slack, "users.info", { token: fakeBotToken, user: "U9" })).body.error,
      "user_not_found",
    );
    const group = await callForm(slack, "usergroups.users.list", { token: fakeBotToken, usergroup: "S1" });
    assert.deepEqual(group.body.users, ["U1", "U2"]);
    const none = await callForm(slack, "usergroups.users.list", { token: fakeBotToken, usergroup: "S9" });
    assert.equal(none.body.error, "no_such_subteam");
    const auth = await callForm(slack, "auth.test", { token: fakeBotToken });
    assert.equal(auth.body.ok, true);
    assert.equal(auth.body.team_id, "T0FAKETEAM");
  });

  it("answers apps.connections.open with the configured Socket Mode URL, app tokens only", async () => {
    const unset = await callForm(
      slack,
      "apps.connections.open",
      {},
      { authorization: `Bearer ${fakeAppToken}` },
    );
    assert.equal(unset.body.ok, false);
    slack.socketModeUrl = "ws://127.0.0.1:1/link";
    const r = await callForm(slack, "apps.connections.open", {}, { authorization: `Bearer ${fakeAppToken}` });
    assert.deepEqual(r.body, { ok: true, url: "ws://127.0.0.1:1/link" });
    const bot = await callForm(
      slack,
      "apps.connections.open",
      {},
      { authorization: `Bearer ${fakeBotToken}` },
    );
    assert.equal(bot.body.error, "not_allowed_token_type");
    slack.socketModeUrl = undefined;
  });

  it("answers unknown methods with unknown_method", async () => {
    const r = await callForm(slack, "chat.nope", { token: fakeBotToken });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, "unknown_method");
  });

  it("scripts failures: 429 with Retry-After, 5xx, logical errors, count, afterCommit", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 7, count: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await callJson(slack, "chat.postMessage", { channel, text: "x" });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "7");
      assert.deepEqual(r.body, { ok: false, error: "ratelimited" });
    }
    assert.equal((await callJson(slack, "chat.postMessage", { channel, text: "x" })).body.ok, true);

    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: null });
    const noHeader = await callJson(slack, "chat.postMessage", { channel, text: "x" });
    assert.equal(noHeader.status, 429);
    assert.equal(noHeader.headers.get("retry-after"), null);

    slack.failNext("chat.postMessage", { status: 503 });
    const unavailable = await fetch(`${slack.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fakeBotToken}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ channel, text: "x" }),
    });
    assert.equal(unavailable.status, 503);
    await unavailable.text();

    slack.failNext("chat.postMessage", { error: "missing_scope" });
    const scope = await callJson(slack, "chat.postMessage", { channel, text: "x" });
    assert.deepEqual(
      [scope.status, scope.body.error, scope.body.needed],
      [200, "missing_scope", "chat:write"],
    );

    const before = slack.messages(channel).length;
    slack.failNext("chat.postMessage", { status: 500, afterCommit: true });
    const lost = await fetch(`${slack.url}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${fakeBotToken}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ channel, text: "lost answer" }),
    });
    assert.equal(lost.status, 500);
    await lost.text();
    assert.equal(slack.messages(channel).length, before + 1, "the post happened; only the answer was lost");
    assert.deepEqual(
      slack.callsOf("chat.postMessage").map((c) => c.status),
      [429, 429, 200, 429, 503, 200, 500],
    );
  });

  it("drops the connection on a scripted network failure", async () => {
    slack.failNext("auth.test", { drop: true });
    await assert.rejects(callForm(slack, "auth.test", { token: fakeBotToken }));
    assert.equal((await callForm(slack, "auth.test", { token: fakeBotToken })).body.ok, true);
  });

  it("rate-limits chat.postMessage per channel when configured", async () => {
    const limited = await FakeSlack.start({
      channels: ["C1", "C2"],
      rateLimit: { perSecond: 1, retryAfterSeconds: 3 },
      now: () => now,
    });
    try {
      assert.equal((await callJson(limited, "chat.postMessage", { channel: "C1", text: "a" })).body.ok, true);
      const second = await callJson(limited, "chat.postMessage", { channel: "C1", text: "b" });
      assert.equal(second.status, 429);
      assert.equal(second.headers.get("retry-after"), "3");
      assert.equal((await callJson(limited, "chat.postMessage", { channel: "C2", text: "c" })).body.ok, true);
      now += 1001;
      assert.equal((await callJson(limited, "chat.postMessage", { channel: "C1", text: "d" })).body.ok, true);
    } finally {
      await limited.close();
    }
  });

  it("slows answers by delayMs", async () => {
    slack.delayMs = 150;
    const start = performance.now();
    await callForm(slack, "auth.test", { token: fakeBotToken });
    assert.ok(performance.now() - start >= 140);
    slack.delayMs = 0;
  });

  describe("response_url", () => {
    async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    }

    it("records JSON posts and accepts at most 5", async () => {
      const url = slack.responseUrl();
      assert.match(url, /\/response\/\d+$/);
      for (let i = 1; i <= 5; i++) assert.equal((await post(url, { text: `r${i}` })).status, 200);
      const sixth = await post(url, { text: "r6" });
      assert.deepEqual(sixth, { status: 404, text: "used_url" });
      assert.deepEqual(
        slack.responses(url).map((b) => (b as { text: string }).text),
        ["r1", "r2", "r3", "r4", "r5"],
      );
      assert.equal(slack.responsePosts(url).length, 6);
    });

    it("rejects posts after 30 minutes on the injected clock", async () => {
      const url = slack.responseUrl();
      now += 30 * 60_000;
      assert.equal((await post(url, { text: "in time" })).status, 200);
      now += 1;
      assert.deepEqual(await post(url, { text: "late" }), { status: 404, text: "expired_url" });
    });

    it("rejects non-JSON bodies and unknown URLs", async () => {
      const url = slack.responseUrl();
      const form = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "text=x",
      });
      assert.equal(form.status, 400);
      await form.text();
      assert.equal((await post(`${slack.origin}/response/999`, { text: "x" })).status, 404);
    });
  });

  describe("with the official @slack/web-api client", () => {
    let client: WebClient;
    before(() => {
      client = new WebClient(fakeBotToken, {
        slackApiUrl: slack.url,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      });
    });

    it("posts through form bodies with blocks JSON-stringified", async () => {
      const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*sdk*" } }];
      const result = await client.chat.postMessage({ channel, text: "sdk", blocks });
      assert.equal(result.ok, true);
      assert.deepEqual(slack.messages(channel).at(-1)?.blocks, blocks);
      const call = slack.callsOf("chat.postMessage").at(-1);
      assert.equal(call?.contentType, "application/x-www-form-urlencoded");
      assert.equal(typeof call?.args.blocks, "string");
    });

    it("surfaces ok:false as a platform error and 429 as a rate-limited error", async () => {
      await assert.rejects(client.chat.postMessage({ channel: "CUNKNOWN", text: "x" }), (err: unknown) => {
        const e = err as { code: string; data: { error: string } };
        return e.code === ErrorCode.PlatformError && e.data.error === "channel_not_found";
      });
      slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 4 });
      await assert.rejects(client.chat.postMessage({ channel, text: "x" }), (err: unknown) => {
        const e = err as { code: string; retryAfter: number };
        return e.code === ErrorCode.RateLimitedError && e.retryAfter === 4;
      });
    });
  });
});
