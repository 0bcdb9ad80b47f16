/**
 * Slack in, Slack out, end to end (issue 4's acceptance test): a signed Events API `event_callback`
 * posted to the real `/slack/events` is acknowledged within Slack's 3 s although the Slack destination
 * is slow (the fake Slack answers after 4 s); Slack's retry of the same `event_id` (new timestamp and
 * signature, `X-Slack-Retry-Num`) is acknowledged and not processed again; exactly one Block Kit
 * message with a text fallback reaches the fake Slack.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import { FakeSlack, fakeBotToken } from "./fakes/fake-slack.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const signingSecret = "roundtrip-slack-signing-secret-not-real";
const channel = "C0ROUNDTR1";
/** Slack gives up on an answer after 3 s and retries. */
const slackAckDeadlineMs = 3_000;
/** How slow the fake Slack answers `chat.postMessage`: longer than Slack's ack deadline. */
const slowSlackMs = 4_000;

let slack: FakeSlack;
let zen: TestService;

before(async () => {
  slack = await FakeSlack.start({ channels: [channel] });
  zen = await startTestService({
    yaml: [
      "tenants:",
      "  - id: default",
      "    destinations:",
      `      - { id: alerts, type: slack, channel: ${channel} }`,
      "    routes:",
      "      - { from: [slack], when: { type: app_mention }, to: [alerts] }",
      "",
    ].join("\n"),
    env: { SLACK_SIGNING_SECRET: signingSecret, SLACK_BOT_TOKEN: fakeBotToken, SLACK_API_URL: slack.url },
  });
});
after(async () => {
  await zen.close();
  await slack.close();
});

function eventCallback(eventId: string): string {
  return JSON.stringify({
    token: "deprecated-verification-token",
    team_id: "T0ROUNDTRIP",
    api_app_id: "A0APP",
    event: {
      type: "app_mention",
      user: "U0MENTION",
      text: "<@U0BOT> the payments deploy is failing",
      ts: "1515449522.000016",
      channel: "C0SOURCE01",
      event_ts: "1515449522.000016",
    },
    type: "event_callback",
    event_id: eventId,
    event_time: 1515449522,
  });
}

async function postEvent(body: string, extraHeaders: Record<string, string> = {}) {
  const headers = signRequest(presetProfile("slack"), signingSecret, { body, nowMs: Date.now() });
  const started = Date.now();
  const response = await fetch(`${zen.url}/slack/events`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", ...extraHeaders },
    body,
  });
  await response.text();
  return { status: response.status, elapsedMs: Date.now() - started };
}

describe("Slack event in, Slack message out", () => {
  it("acks within 3 s while Slack is slow; a retry is acked and not processed again; one Block Kit message", async () => {
    slack.delayMs = slowSlackMs;
    const body = eventCallback("Ev0ROUNDTRIP1");

    const first = await postEvent(body);
    assert.equal(first.status, 200);
    assert.ok(first.elapsedMs < slackAckDeadlineMs, `first delivery acked in ${first.elapsedMs} ms`);

    // Slack did not see our answer in time (as far as it knows) and retries: new signature, same id.
    const retry = await postEvent(body, { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" });
    assert.equal(retry.status, 200);
    assert.ok(retry.elapsedMs < slackAckDeadlineMs, `retry acked in ${retry.elapsedMs} ms`);

    const [message] = await waitFor(
      "the message in the fake Slack",
      () => (slack.messages(channel).length > 0 ? slack.messages(channel) : undefined),
      slowSlackMs + 10_000,
    );
    assert.ok(message);
    assert.match(message.text ?? "", /app_mention/);
    assert.ok(Array.isArray(message.blocks) && message.blocks.length > 0, "Block Kit blocks");
    // Longer than one more slow answer: a second post would have landed by now.
    await new Promise((resolve) => setTimeout(resolve, slowSlackMs + 500));
    assert.equal(slack.messages(channel).length, 1, "exactly one message");
    assert.equal(slack.calls.filter((c) => c.method === "chat.postMessage").length, 1);
  });
});
