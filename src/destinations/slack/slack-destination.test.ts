/**
 * The Slack destination against the fake Slack over real HTTP: one Block Kit message with a text
 * fallback per event, repeats (update / thread / post), idempotent retries, both redaction layers.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeSlack, fakeBotToken } from "../../../test/fakes/fake-slack.ts";
import { MemoryKeyStore } from "../../adapters/memory/key-store.ts";
import type { SlackDestinationConfig } from "../../config/config.ts";
import { loadYaml } from "../../config/testing.ts";
import { slackRetryPolicy } from "../../domain/backoff.ts";
import { PermanentError, RetryableError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { systemClock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import { defaultRedactionPolicy } from "../../redaction/redact-delivery.ts";
import { createEgressGuard } from "../egress/egress-guard.ts";
import { createSlackDestination, type SlackDestination, slackRepeatKey } from "./slack-destination.ts";

const channel = "C0123456789";
const signal = new AbortController().signal;

let slack: FakeSlack;
const destinations: SlackDestination[] = [];

before(async () => {
  slack = await FakeSlack.start({ channels: [channel, "C0SECOND01"] });
});
after(async () => {
  await Promise.all(destinations.map((d) => d.close()));
  await slack.close();
});
beforeEach(() => slack.reset());

function config(overrides: Partial<SlackDestinationConfig> = {}): SlackDestinationConfig {
  return {
    type: "slack",
    id: "alerts",
    tenant: "acme",
    channel,
    token: fakeBotToken,
    tokenFrom: "env",
    apiUrl: slack.url,
    onRepeat: "thread",
    timeoutMs: 10_000,
    ...overrides,
  };
}

function destination(
  overrides: Partial<SlackDestinationConfig> = {},
  options: { keys?: KeyStore; redact?: boolean } = {},
): SlackDestination {
  const d = createSlackDestination(config(overrides), {
    maxRetryAfterMs: 60_000,
    clock: systemClock,
    connectorFactory: createEgressGuard({ allowPrivate: true, allowCidrs: [] }),
    keys: options.keys ?? new MemoryKeyStore(),
    redaction: options.redact ? defaultRedactionPolicy() : undefined,
  });
  destinations.push(d);
  return d;
}

let counter = 0;
function event(overrides: Partial<ZenEvent> = {}): ZenEvent {
  counter++;
  return {
    id: `evt-${counter}`,
    tenant: "acme",
    source: "monitor",
    type: "disk.full",
    severity: "high",
    subject: "Disk full on db-01",
    resource: { kind: "Node", name: "db-01" },
    data: { html_url: "https://monitor.example.com/alerts/42", host: "db-01" },
    receivedAt: "2026-01-01T10:00:00.000Z",
    ...overrides,
  };
}

const delivery = (e: ZenEvent, attempt = 1) => ({ event: e, idempotencyKey: `key-${e.id}`, attempt });

describe("SlackDestination", () => {
  it("posts one Block Kit message with a text fallback: title, severity, resource, fields, link", async () => {
    const result = await destination().send(delivery(event()), signal);
    assert.equal(result.statusCode, 200);
    const messages = slack.messages(channel);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.equal(message?.text, "🟠 [HIGH] disk.full — Disk full on db-01");
    const blocks = message?.blocks as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
      elements?: { url?: string }[];
    }[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ["header", "section", "context", "actions"],
    );
    assert.equal(blocks[0]?.text?.text, "🟠 HIGH · disk.full");
    assert.equal(blocks[1]?.text?.text, "*Disk full on db-01*");
    assert.deepEqual(
      blocks[1]?.fields?.map((f) => f.text),
      ["*Type*\ndisk.full", "*Severity*\nHIGH", "*Resource*\nNode db-01"],
    );
    assert.equal(blocks[3]?.elements?.[0]?.url, "https://monitor.example.com/alerts/42");
  });

  it("uses slackRetryPolicy", () => {
    assert.equal(destination().retryPolicy, slackRetryPolicy);
  });

  it("thread (default): a repeat of the same fingerprint replies under the first message", async () => {
    const d = destination();
    await d.send(delivery(event({ fingerprint: "disk-db-01" })), signal);
    await d.send(delivery(event({ fingerprint: "disk-db-01", subject: "Disk still full" })), signal);
    await d.send(delivery(event({ fingerprint: "other" })), signal);
    const top = slack.messages(channel).filter((m) => m.threadTs === undefined);
    assert.equal(top.length, 2);
    const replies = slack.replies(channel, top[0]?.ts ?? "");
    assert.equal(replies.length, 1);
    assert.match(replies[0]?.text ?? "", /Disk still full/);
  });

  it("update: a repeat edits the first message in place", async () => {
    const d = destination({ onRepeat: "update" });
    await d.send(delivery(event({ fingerprint: "fp-1" })), signal);
    await d.send(delivery(event({ fingerprint: "fp-1", severity: "critical", subject: "Worse" })), signal);
    const messages = slack.messages(channel);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.edits, 1);
    assert.match(messages[0]?.text ?? "", /\[CRITICAL\] disk.full — Worse/);
    assert.equal(slack.callsOf("chat.update").length, 1);
  });

  it("update: when the first message was deleted, the repeat posts a new first message", async () => {
    const keys = new MemoryKeyStore();
    const d = destination({ onRepeat: "update" }, { keys });
    await d.send(delivery(event({ fingerprint: "fp-gone" })), signal);
    slack.reset(); // the message is gone from Slack
    await d.send(delivery(event({ fingerprint: "fp-gone" })), signal);
    await d.send(delivery(event({ fingerprint: "fp-gone", subject: "third" })), signal);
    assert.equal(slack.messages(channel).length, 1);
    assert.match(slack.messages(channel)[0]?.text ?? "", /third/);
    assert.equal(slack.messages(channel)[0]?.edits, 1);
  });

  it("post: every event is a new top-level message", async () => {
    const d = destination({ onRepeat: "post" });
    await d.send(delivery(event({ fingerprint: "fp-2" })), signal);
    await d.send(delivery(event({ fingerprint: "fp-2" })), signal);
    assert.equal(slack.messages(channel).filter((m) => m.threadTs === undefined).length, 2);
  });

  it("identity: type + resource without a fingerprint; neither: each event on its own", async () => {
    const d = destination();
    await d.send(delivery(event()), signal);
    await d.send(delivery(event()), signal);
    await d.send(delivery(event({ resource: undefined })), signal);
    await d.send(delivery(event({ resource: undefined })), signal);
    const top = slack.messages(channel).filter((m) => m.threadTs === undefined);
    assert.equal(top.length, 3, "first resource event + two resource-less events");
    assert.equal(slack.replies(channel, top[0]?.ts ?? "").length, 1);
    assert.equal(slackRepeatKey(event({ resource: undefined })), undefined);
    assert.notEqual(
      slackRepeatKey(event({ resource: { kind: "Pod", name: "a", namespace: "x" } })),
      slackRepeatKey(event({ resource: { kind: "Pod", name: "a", namespace: "y" } })),
    );
  });

  it("a retried delivery whose post went through posts nothing again", async () => {
    const keys = new MemoryKeyStore();
    const d = destination({ onRepeat: "post" }, { keys });
    const e = event();
    await d.send(delivery(e, 1), signal);
    // The worker died before acking: the same delivery comes back as attempt 2.
    const again = await d.send(delivery(e, 2), signal);
    assert.equal(again.statusCode, 208);
    assert.equal(slack.messages(channel).length, 1);
    assert.equal(slack.callsOf("chat.postMessage").length, 1);
  });

  it("a retried first message of an incident also posts nothing again", async () => {
    const keys = new MemoryKeyStore();
    const d = destination({}, { keys });
    const e = event({ fingerprint: "fp-retry" });
    await d.send(delivery(e, 1), signal);
    await d.send(delivery(e, 2), signal);
    assert.equal(slack.messages(channel).length, 1, "neither a second top-level message nor a reply");
  });

  it("a failed first post leaves nothing remembered: the retry posts the first message", async () => {
    const d = destination();
    const e = event({ fingerprint: "fp-fail" });
    slack.failNext("chat.postMessage", { status: 503 });
    await assert.rejects(d.send(delivery(e, 1), signal), (err: unknown) => err instanceof RetryableError);
    await d.send(delivery(e, 2), signal);
    assert.equal(slack.messages(channel).length, 1);
    assert.equal(slack.messages(channel)[0]?.threadTs, undefined);
  });

  it("concurrent first events of one incident post one top-level message and thread the rest", async () => {
    const d = destination();
    slack.delayMs = 30;
    await Promise.all(
      Array.from({ length: 4 }, () => d.send(delivery(event({ fingerprint: "fp-race" })), signal)),
    );
    const top = slack.messages(channel).filter((m) => m.threadTs === undefined);
    assert.equal(top.length, 1);
    assert.equal(slack.replies(channel, top[0]?.ts ?? "").length, 3);
  });

  it("maps Slack errors: channel_not_found is permanent with Slack's code", async () => {
    const d = destination({ channel: "C0NOTHERE1" });
    await assert.rejects(d.send(delivery(event()), signal), (err: unknown) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "not_found");
      assert.match(err.message, /^slack: channel_not_found/);
      return true;
    });
  });

  it("redacts: a bearer token and an AWS key in the event never reach Slack", async () => {
    const bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLW5vdC1yZWFs";
    const aws = ["AKIA", "ZQ3DEXAMPLE7ABCD"].join("");
    const d = destination({}, { redact: true });
    await d.send(
      delivery(
        event({
          subject: `Shell spawned with Authorization: Bearer ${bearer}`,
          data: { output: `aws_access_key_id=${aws} token ${bearer}` },
        }),
      ),
      signal,
    );
    const sent = JSON.stringify(slack.calls.map((c) => c.args));
    assert.equal(sent.includes(bearer), false);
    assert.equal(sent.includes(aws), false);
    assert.match(sent, /REDACTED/);
  });

  it("a route's templates replace the destination's for events of that route only", async () => {
    const routed = loadYaml(
      [
        "tenants:",
        "  - id: acme",
        "    sources:",
        "      - { id: monitor, verify: none }",
        "    destinations:",
        `      - { id: alerts, type: slack, channel: ${channel}, token: env:ACME_SLACK_TOKEN }`,
        "    routes:",
        "      - from: [monitor]",
        "        when: { type: disk.full }",
        "        to: [alerts]",
        "        templates:",
        "          alerts: { text: 'route text {{ event.subject }}' }",
        "      - { from: [monitor], to: [alerts] }",
      ].join("\n"),
      { ACME_SLACK_TOKEN: fakeBotToken },
    );
    const tenant = routed.tenants.get("acme");
    const own = tenant?.destinations.get("alerts");
    assert.ok(own?.type === "slack");
    const d = createSlackDestination(
      { ...own, apiUrl: slack.url },
      {
        maxRetryAfterMs: 60_000,
        clock: systemClock,
        connectorFactory: createEgressGuard({ allowPrivate: true, allowCidrs: [] }),
        keys: new MemoryKeyStore(),
        redaction: undefined,
        routes: tenant?.routes ?? [],
      },
    );
    destinations.push(d);
    await d.send(delivery(event({ type: "disk.full", subject: "Disk full on db-01" })), signal);
    await d.send(delivery(event({ type: "cpu.high", subject: "CPU high on db-02" })), signal);
    const texts = slack.messages(channel).map((m) => m.text);
    assert.deepEqual(texts[0], "route text Disk full on db-01");
    assert.notEqual(texts[1], undefined);
    assert.equal(texts[1]?.startsWith("route text"), false, "the other route keeps the default text");
    assert.match(texts[1] ?? "", /CPU high on db-02/);
  });
});
