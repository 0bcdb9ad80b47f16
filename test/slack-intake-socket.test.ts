/**
 * Slack over Socket Mode, end to end: the real service with the official `@slack/socket-mode` client,
 * `apps.connections.open` answered by the fake Slack Web API, the WebSocket served by the fake Socket
 * Mode server, events delivered to a real HTTP sink through the real queue and SQLite store.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../src/observability/logger.ts";
import { type RunningService, startService } from "../src/service.ts";
import type { BlockActionsHandler, BlockActionsPayload } from "../src/slack/interactions.ts";
import { FakeSlack, fakeAppToken, fakeBotToken } from "./fakes/fake-slack.ts";
import { FakeSlackSocket } from "./fakes/fake-slack-socket.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { countRows, makeDataDir, testConfig } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const handler: BlockActionsHandler & { tenants: string[] } = {
  actionPrefix: "test:",
  tenants: [],
  async handle(payload: BlockActionsPayload, context: { tenant: string }) {
    handler.tenants.push(context.tenant);
    return { kind: "ephemeral", text: `clicked ${payload.actions[0]?.value ?? ""}` };
  },
};

const adminToken = "socket-admin-token-not-real";

function eventPayload(eventId: string, team = "T0DEFAULT") {
  return {
    team_id: team,
    api_app_id: "A000FAKE",
    event: { type: "app_mention", user: "U1", text: "hi", ts: "1515449522.000016", channel: "C1" },
    type: "event_callback",
    event_id: eventId,
    event_time: 1515449522,
  };
}

describe("Slack Socket Mode", () => {
  let slack: FakeSlack;
  let socket: FakeSlackSocket;
  let sink: WebhookSink;
  let service: RunningService;
  let dataDir: string;

  before(async () => {
    slack = await FakeSlack.start({ channels: ["C0APPROVE1"], users: [{ id: "U0LEAD", name: "lead" }] });
    socket = await FakeSlackSocket.start();
    slack.socketModeUrl = socket.url;
    sink = await WebhookSink.start();
    dataDir = makeDataDir();
    const config = testConfig(dataDir, {
      yaml: `
tenants:
  - id: default
    approvals:
      channel: C0APPROVE1
      roles: [{ id: sre, users: [U0LEAD], actions: ["*"], risks: [low, medium, high, critical] }]
    destinations: [{ id: hook, type: webhook, url: "${sink.url}" }]
    routes: [{ from: [slack], to: [hook] }]
  - id: acme
    providers: { slack: { signingSecrets: [env:ACME_SECRET], teams: [T0ACME] } }
`,
      env: {
        SLACK_APP_TOKEN: fakeAppToken,
        SLACK_BOT_TOKEN: fakeBotToken,
        SLACK_API_URL: slack.url,
        ACME_SECRET: "acme-secret-not-real",
        ZEN_ADMIN_TOKEN: adminToken,
      },
    });
    service = await startService(config, {
      logger: silentLogger(),
      slack: { blockActionHandlers: [handler] },
    });
    await socket.waitForConnection();
  });

  after(async () => {
    await service.stop({ graceMs: 500 });
    // The service's shutdown closes the socket (the server sees the close a moment later).
    await waitFor("the socket to close", () => socket.openSockets === 0, 2_000);
    await socket.close();
    await sink.close();
    await slack.close();
  });

  it("opened the connection with the app token through apps.connections.open", () => {
    const open = slack.calls.filter((call) => call.method === "apps.connections.open");
    assert.equal(open.length, 1);
    assert.equal(open[0]?.token, fakeAppToken);
  });

  it("acks an events_api envelope only once the event is durable, and delivers it once", async () => {
    const id = socket.send({ type: "events_api", payload: eventPayload("Ev0SOCK1") });
    await socket.waitForAck(id);
    // Read through a connection of our own: committed before the ack.
    assert.equal(countRows(dataDir, "events"), 1);
    await sink.waitForRequests(1);
    assert.match(sink.requests[0]?.body ?? "", /Ev0SOCK1/);
  });

  it("acks Slack's redelivery of the same event_id without enqueuing it again", async () => {
    const id = socket.send({
      type: "events_api",
      payload: eventPayload("Ev0SOCK1"),
      retry_attempt: 1,
      retry_reason: "timeout",
    });
    await socket.waitForAck(id);
    assert.equal(countRows(dataDir, "events"), 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sink.requests.filter((r) => r.body.includes("Ev0SOCK1")).length, 1);
  });

  it("answers a slash command with its reply as the ack payload", async () => {
    const id = socket.send({
      type: "slash_commands",
      payload: {
        team_id: "T0DEFAULT",
        user_id: "U1",
        command: "/zen",
        text: "help",
        response_url: slack.responseUrl(),
      },
    });
    const ack = await socket.waitForAck(id);
    const reply = ack.payload as { response_type?: string; text?: string };
    assert.equal(reply.response_type, "ephemeral");
    assert.match(reply.text ?? "", /`\/zen status`/);
  });

  it("dispatches an interactive block_actions envelope and acks with the handler's reply", async () => {
    const id = socket.send({
      type: "interactive",
      payload: {
        type: "block_actions",
        team: { id: "T0DEFAULT" },
        user: { id: "U1" },
        actions: [{ type: "button", action_id: "test:approve", value: "INC-7" }],
      },
    });
    const ack = await socket.waitForAck(id);
    assert.deepEqual(ack.payload, { response_type: "ephemeral", text: "clicked INC-7" });
    assert.deepEqual(handler.tenants, ["default"]);
  });

  it("an approval click over Socket Mode reaches the approvals flow: allowed → approved, others refused", async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const created = await admin("POST", "/admin/approvals", {
      tenant: "default",
      action: "restart-deployment",
      risk: "high",
      requester: "U0REQUESTER",
      summary: "Restart api",
    });
    assert.equal(created.status, 201);
    const approvalId = String(created.body.id);
    await waitFor("the request message", () =>
      slack.messages("C0APPROVE1").find((m) => JSON.stringify(m.blocks ?? []).includes(approvalId)),
    );
    const click = async (user: string) => {
      const id = socket.send({
        type: "interactive",
        payload: {
          type: "block_actions",
          team: { id: "T0DEFAULT" },
          user: { id: user },
          actions: [{ type: "button", action_id: "zen_approval:approve", value: approvalId }],
        },
      });
      return (await socket.waitForAck(id)).payload as { text?: string } | undefined;
    };
    const refused = await click("U0STRANGER");
    assert.match(refused?.text ?? "", /not allowed/);
    assert.equal((await admin("GET", `/admin/approvals/${approvalId}`)).body.status, "pending");
    assert.equal((await click("U0LEAD"))?.text, undefined, "an accepted click is acked without a message");
    assert.equal((await admin("GET", `/admin/approvals/${approvalId}`)).body.status, "approved");
  });

  it("drops (acks) an envelope naming another tenant's workspace, and a malformed one", async () => {
    const before = countRows(dataDir, "events");
    const foreign = socket.send({ type: "events_api", payload: eventPayload("Ev0FOREIGN", "T0ACME") });
    const broken = socket.send({ type: "slash_commands", payload: { team_id: "T0DEFAULT", text: "help" } });
    assert.deepEqual((await socket.waitForAck(foreign)).payload, {});
    assert.deepEqual((await socket.waitForAck(broken)).payload, {});
    assert.equal(countRows(dataDir, "events"), before);
  });
});
