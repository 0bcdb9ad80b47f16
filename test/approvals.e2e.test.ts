/**
 * Approvals end to end: the real service (real config loading, real SQLite files, HTTP on port 0),
 * the real Slack client against the fake Slack Web API (messages, users.info, response_url), a fake
 * zen-back, and clicks sent to `POST /slack/interactions` signed the way Slack signs them (v0).
 *
 * The service clock is real time plus an offset the expiry test moves forward; clicks are signed
 * with the same clock, as Slack's would be at that moment.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import type { Clock } from "../src/ports/clock.ts";
import { FakeSlack, fakeBotToken } from "./fakes/fake-slack.ts";
import { FakeZenBack } from "./fakes/fake-zen-back.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, waitFor } from "./support/signed.ts";

const adminToken = "approvals-admin-token-not-real";
const slackSecret = "acme-slack-signing-secret-not-real";
const zenBackKey = "zen-back-api-key-not-real";
const ghSecret = "gh-secret-not-real";
const channel = "C0APPROVALS";

/** Real time plus `offsetMs`: lets a test jump past an expiry without sleeping. */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

const yaml = (sinkUrl: string) => `
tenants:
  - id: acme
    providers:
      slack: { signingSecrets: [env:ACME_SLACK_SECRET], teams: [T0ACME], botToken: env:ACME_BOT_TOKEN }
    approvals:
      channel: ${channel}
      expiresIn: 1h
      twoApproversFor: [critical]
      roles:
        - id: sre-leads
          users: [U0LEAD1, U0LEAD2]
          actions: [restart-deployment]
          risks: [low, medium, high, critical]
        - { id: dbas, emails: [Mail.Lead@example.com], actions: [db-failover], risks: [high] }
        - { id: on-call, groups: [S0ONCALL], actions: [scale-deployment], risks: [low, medium] }
    sources:
      - { id: gh, preset: github, secrets: [env:GH_SECRET] }
    destinations:
      - { id: ops-hook, type: webhook, url: "${sinkUrl}" }
      - { id: restart-approval, type: approval, action: restart-deployment, risk: high, then: [ops-hook] }
    routes:
      - { from: [gh], to: [restart-approval] }
`;

interface Posted {
  readonly status: number;
  readonly body: unknown;
}

describe("approvals end to end", () => {
  let slack: FakeSlack;
  let zenBack: FakeZenBack;
  let sink: WebhookSink;
  let zen: TestService;
  const clock = new OffsetClock();

  before(async () => {
    slack = await FakeSlack.start({
      channels: [channel],
      users: [
        { id: "U0LEAD1", name: "lead1" },
        { id: "U0LEAD2", name: "lead2" },
        { id: "U0MAIL", name: "mail", email: "mail.lead@EXAMPLE.com" },
        { id: "U0NOBODY", name: "nobody", email: "nobody@example.com" },
        { id: "U0ONCALL", name: "oncall" },
      ],
      userGroups: { S0ONCALL: ["U0ONCALL"] },
    });
    zenBack = await FakeZenBack.start(zenBackKey);
    sink = await WebhookSink.start();
    zen = await startTestService({
      yaml: yaml(sink.url),
      clock,
      env: {
        ZEN_ADMIN_TOKEN: adminToken,
        SLACK_API_URL: slack.url,
        ACME_SLACK_SECRET: slackSecret,
        ACME_BOT_TOKEN: fakeBotToken,
        ZEN_BACK_URL: zenBack.url,
        ZEN_BACK_APIKEY: zenBackKey,
        GH_SECRET: ghSecret,
        // Retries of zen-back come quickly; Retry-After still wins.
        QUEUE_MAX_RETRIES: "5",
      },
    });
  });

  after(async () => {
    await zen.close();
    await Promise.all([slack.close(), zenBack.close(), sink.close()]);
  });

  async function admin(method: string, path: string, body?: unknown, token = adminToken): Promise<Posted> {
    const response = await fetch(`${zen.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  async function createApproval(fields: Record<string, unknown> = {}): Promise<string> {
    const created = await admin("POST", "/admin/approvals", {
      tenant: "acme",
      action: "restart-deployment",
      risk: "high",
      requester: "U0REQUESTER",
      summary: "Restart api in production",
      ...fields,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const body = created.body as { id: string; status: string; expiresAt: string };
    assert.equal(body.status, "pending");
    assert.match(body.id, /^ap_[0-9a-f]{32}$/);
    await requestMessageOf(body.id);
    return body.id;
  }

  /** The fake Slack's message carrying this approval's buttons (waits for the worker to post it). */
  function requestMessageOf(id: string) {
    return waitFor(`the request message of ${id}`, () =>
      slack.messages(channel).find((m) => JSON.stringify(m.blocks ?? []).includes(id)),
    );
  }

  /** A signed `block_actions` click, as Slack sends it; answers status and the parsed reply. */
  async function click(
    userId: string,
    vote: "approve" | "reject",
    approvalId: string,
    responseUrl = slack.responseUrl(),
  ): Promise<{
    status: number;
    reply: { response_type?: string; text?: string } | undefined;
    responseUrl: string;
  }> {
    const payload = {
      type: "block_actions",
      team: { id: "T0ACME", domain: "acme" },
      user: { id: userId, username: userId.toLowerCase() },
      api_app_id: "A0APP",
      container: { type: "message", message_ts: "1700000000.000100", channel_id: channel },
      channel: { id: channel },
      trigger_id: `trigger-${Math.random()}`,
      response_url: responseUrl,
      actions: [
        {
          type: "button",
          action_id: `zen_approval:${vote}`,
          block_id: `zen_approval:${approvalId}:v1`,
          value: approvalId,
          action_ts: String(clock.now() / 1000),
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const headers = signRequest(presetProfile("slack"), slackSecret, { body, nowMs: clock.now() });
    const response = await fetch(`${zen.url}/slack/interactions`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    const text = await response.text();
    return { status: response.status, reply: text === "" ? undefined : JSON.parse(text), responseUrl };
  }

  async function approvalOf(id: string) {
    const got = await admin("GET", `/admin/approvals/${id}`);
    assert.equal(got.status, 200);
    return got.body as {
      status: string;
      approvals: { slackUserId: string; email?: string }[];
      decidedBy: { slackUserId: string } | null;
      audit: { actor: { slackUserId: string } | null; attempt: string; outcome: string; reason?: string }[];
    };
  }

  function decisionsFor(id: string) {
    return zenBack.accepted.filter((a) => (a.decision as { approvalId?: string }).approvalId === id);
  }

  /** The last response_url post, once the background replacement arrived. */
  function replacement(url: string) {
    return waitFor("the original message to be replaced", () => slack.responses(url).at(-1)) as Promise<{
      replace_original?: boolean;
      text?: string;
      blocks?: unknown[];
    }>;
  }

  it("the admin API creates an approval; the worker posts it to Slack with Approve / Reject buttons", async () => {
    const id = await createApproval({ details: "pods crashlooping <@U0EVIL>" });
    const message = await requestMessageOf(id);
    assert.match(message.text ?? "", /Approval needed: restart-deployment \(risk high\)/);
    assert.match(message.text ?? "", /Expires \d{4}-\d{2}-\d{2}T/);
    const actions = (
      message.blocks as { type: string; elements?: { action_id: string; value: string; style: string }[] }[]
    ).find((b) => b.type === "actions");
    assert.deepEqual(
      actions?.elements?.map((e) => [e.action_id, e.value, e.style]),
      [
        ["zen_approval:approve", id, "primary"],
        ["zen_approval:reject", id, "danger"],
      ],
    );
    assert.ok(!JSON.stringify(message.blocks).includes("<@U0EVIL>"), "request text cannot forge a mention");
    const post = slack.callsOf("chat.postMessage").find((c) => JSON.stringify(c.args).includes(id));
    assert.equal(post?.token, fakeBotToken);
  });

  it("an allowed approve reaches zen-back exactly once with the bearer token, through a 503, and replaces the message", async () => {
    const id = await createApproval();
    zenBack.failNext({ status: 503, retryAfterSeconds: 1 });
    const before = zenBack.requests.length;
    const clicked = await click("U0LEAD1", "approve", id);
    assert.equal(clicked.status, 200);
    assert.equal(clicked.reply, undefined, "a decision is acked; the message itself shows the outcome");

    await waitFor("zen-back to accept the decision", () => decisionsFor(id).length === 1, 15_000);
    const requests = zenBack.requests.slice(before).filter((r) => r.body.includes(id));
    assert.deepEqual(
      requests.map((r) => r.status),
      [503, 200],
      "first answer 503 + Retry-After, then accepted",
    );
    for (const request of requests) {
      assert.equal(request.headers.authorization, `Bearer ${zenBackKey}`);
      assert.equal(request.headers["idempotency-key"], requests[0]?.headers["idempotency-key"]);
    }
    const decision = decisionsFor(id)[0]?.decision as Record<string, unknown>;
    assert.equal(decision.approvalId, id);
    assert.equal(decision.tenant, "acme");
    assert.equal(decision.action, "restart-deployment");
    assert.equal(decision.risk, "high");
    assert.equal(decision.decision, "approved");
    assert.deepEqual(decision.approver, { slackUserId: "U0LEAD1" });
    assert.equal(decision.requester, "U0REQUESTER");
    assert.ok(!Number.isNaN(Date.parse(String(decision.decidedAt))));

    const replaced = await replacement(clicked.responseUrl);
    assert.equal(replaced.replace_original, true);
    assert.match(replaced.text ?? "", /Approved by U0LEAD1/);
    assert.ok(!JSON.stringify(replaced.blocks).includes("zen_approval:approve"), "no buttons left");

    // A later click changes nothing and sends nothing more.
    const late = await click("U0LEAD2", "reject", id);
    assert.equal(late.reply?.response_type, "ephemeral");
    assert.match(late.reply?.text ?? "", /already approved/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(decisionsFor(id).length, 1);
    const stored = await approvalOf(id);
    assert.equal(stored.status, "approved");
    assert.deepEqual(
      stored.audit.map((a) => [a.actor?.slackUserId, a.outcome, a.reason]),
      [
        ["U0LEAD1", "approved", undefined],
        ["U0LEAD2", "refused", "not_pending"],
      ],
    );
  });

  it("reject by an allowed user ends it: zen-back hears rejected, the message says who", async () => {
    const id = await createApproval();
    const clicked = await click("U0LEAD2", "reject", id);
    assert.equal(clicked.status, 200);
    await waitFor("the rejection at zen-back", () => decisionsFor(id).length === 1);
    const decision = decisionsFor(id)[0]?.decision as Record<string, unknown>;
    assert.equal(decision.decision, "rejected");
    assert.deepEqual(decision.approver, { slackUserId: "U0LEAD2" });
    const replaced = await replacement(clicked.responseUrl);
    assert.match(replaced.text ?? "", /Rejected by U0LEAD2/);
    assert.equal((await approvalOf(id)).status, "rejected");
  });

  it("self-approval is refused with an ephemeral reply and changes nothing", async () => {
    const id = await createApproval({ requester: "U0LEAD1" });
    const clicked = await click("U0LEAD1", "approve", id);
    assert.equal(clicked.status, 200);
    assert.equal(clicked.reply?.response_type, "ephemeral");
    assert.match(clicked.reply?.text ?? "", /someone else has to approve/);
    const stored = await approvalOf(id);
    assert.equal(stored.status, "pending");
    assert.deepEqual(
      stored.audit.map((a) => [a.actor?.slackUserId, a.outcome, a.reason]),
      [["U0LEAD1", "refused", "self_approval"]],
    );
    assert.deepEqual(slack.responses(clicked.responseUrl), [], "the message is left as it was");
  });

  it("a user without the role gets an explanation; nothing changes, nothing is sent", async () => {
    const id = await createApproval();
    for (const vote of ["approve", "reject"] as const) {
      const clicked = await click("U0NOBODY", vote, id);
      assert.equal(clicked.reply?.response_type, "ephemeral");
      assert.match(clicked.reply?.text ?? "", /not allowed to decide restart-deployment at risk high/);
      assert.deepEqual(slack.responses(clicked.responseUrl), []);
    }
    const stored = await approvalOf(id);
    assert.equal(stored.status, "pending");
    assert.deepEqual(
      stored.audit.map((a) => [a.attempt, a.reason]),
      [
        ["approve", "not_authorized"],
        ["reject", "not_authorized"],
      ],
    );
    assert.equal(decisionsFor(id).length, 0);
  });

  it("a click after the expiry marks it expired, replaces the message and sends no decision", async () => {
    const id = await createApproval({ expiresIn: "1m" });
    clock.offsetMs += 2 * 60_000;
    try {
      const clicked = await click("U0LEAD1", "approve", id);
      assert.equal(clicked.status, 200);
      assert.equal(clicked.reply?.response_type, "ephemeral");
      assert.match(clicked.reply?.text ?? "", /expired/);
      const replaced = await replacement(clicked.responseUrl);
      assert.match(replaced.text ?? "", /Expired/);
      const stored = await approvalOf(id);
      assert.equal(stored.status, "expired");
      assert.deepEqual(
        stored.audit.map((a) => a.outcome),
        ["expired"],
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(decisionsFor(id).length, 0);
    } finally {
      clock.offsetMs -= 2 * 60_000;
    }
  });

  it("two-approver rule: two distinct approvers are needed; the same one twice does not count", async () => {
    const id = await createApproval({ risk: "critical" });
    const first = await click("U0LEAD1", "approve", id);
    assert.match(first.reply?.text ?? "", /recorded\. It needs 1 more approver/);
    const progress = await replacement(first.responseUrl);
    assert.match(
      JSON.stringify(progress.blocks),
      /zen_approval:approve/,
      "buttons stay for the second approver",
    );
    const again = await click("U0LEAD1", "approve", id);
    assert.match(again.reply?.text ?? "", /already approved this/);
    assert.equal(decisionsFor(id).length, 0);
    const second = await click("U0LEAD2", "approve", id);
    assert.equal(second.reply, undefined);
    await waitFor("the approval at zen-back", () => decisionsFor(id).length === 1);
    const decision = decisionsFor(id)[0]?.decision as { approvers: unknown[]; approver: unknown };
    assert.deepEqual(decision.approvers, [{ slackUserId: "U0LEAD1" }, { slackUserId: "U0LEAD2" }]);
    assert.deepEqual(decision.approver, { slackUserId: "U0LEAD2" });
    assert.deepEqual(
      (await approvalOf(id)).audit.map((a) => [a.actor?.slackUserId, a.outcome, a.reason]),
      [
        ["U0LEAD1", "recorded", undefined],
        ["U0LEAD1", "refused", "duplicate_approver"],
        ["U0LEAD2", "approved", undefined],
      ],
    );
  });

  it("an e-mail role is resolved through users.info (case-insensitive) and the e-mail reaches zen-back", async () => {
    const id = await createApproval({ action: "db-failover" });
    const lookups = slack.callsOf("users.info").length;
    const clicked = await click("U0MAIL", "approve", id);
    assert.equal(clicked.reply, undefined);
    assert.ok(slack.callsOf("users.info").length > lookups, "users.info was asked");
    await waitFor("the approval at zen-back", () => decisionsFor(id).length === 1);
    const decision = decisionsFor(id)[0]?.decision as { approver: unknown };
    assert.deepEqual(decision.approver, { slackUserId: "U0MAIL", email: "mail.lead@example.com" });
    // Someone whose e-mail no role lists is refused, and the lookup is cached.
    const other = await createApproval({ action: "db-failover" });
    const refused = await click("U0NOBODY", "approve", other);
    assert.match(refused.reply?.text ?? "", /not allowed/);
  });

  it("a group role is resolved through usergroups.users.list: members may approve, within the role's risks", async () => {
    const id = await createApproval({ action: "scale-deployment", risk: "medium" });
    // Not a member: refused, nothing decided.
    const refused = await click("U0LEAD1", "approve", id);
    assert.match(refused.reply?.text ?? "", /not allowed/);
    // Members come from Slack (cached per group, so possibly asked by an earlier click of this suite).
    assert.ok(
      slack.callsOf("usergroups.users.list").some((c) => c.args.usergroup === "S0ONCALL"),
      "the group's members were asked",
    );
    // A member: approved, the decision reaches zen-back.
    const clicked = await click("U0ONCALL", "approve", id);
    assert.equal(clicked.reply, undefined);
    await waitFor("the approval at zen-back", () => decisionsFor(id).length === 1);
    assert.equal((await approvalOf(id)).status, "approved");
    // The role does not cover high risk: the same member is refused there.
    const high = await createApproval({ action: "scale-deployment", risk: "high" });
    const tooRisky = await click("U0ONCALL", "approve", high);
    assert.match(tooRisky.reply?.text ?? "", /not allowed/);
    assert.equal((await approvalOf(high)).status, "pending");
  });

  it("two simultaneous approvals of a one-approver request decide it once", async () => {
    const id = await createApproval();
    const [a, b] = await Promise.all([click("U0LEAD1", "approve", id), click("U0LEAD2", "approve", id)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    await waitFor("the approval at zen-back", () => decisionsFor(id).length === 1);
    const stored = await approvalOf(id);
    assert.equal(stored.approvals.length, 1);
    assert.deepEqual(
      stored.audit.map((x) => x.outcome).sort(),
      ["approved", "refused"],
      "the loser re-read and found it decided",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(zenBack.requests.filter((r) => r.body.includes(id) && r.status === 200).length, 1);
  });

  it("a route's approval destination asks in Slack; on approve the original event goes to `then`", async () => {
    const eventId = `gh-${Math.random().toString(16).slice(2)}`;
    await acceptSignedGithub({
      baseUrl: zen.url,
      tenant: "acme",
      source: "gh",
      secret: ghSecret,
      eventId,
      type: "deployment",
      data: { deployment: { environment: "production" } },
    });
    const message = await waitFor("the routed request message", () =>
      slack.messages(channel).find((m) => (m.text ?? "").includes("source gh")),
    );
    const id = /ap_[0-9a-f]{32}/.exec(JSON.stringify(message.blocks))?.[0];
    assert.ok(id);
    const listed = await admin("GET", "/admin/approvals?tenant=acme&status=pending&limit=100");
    const item = (
      listed.body as { items: { id: string; origin: { kind: string; eventId?: string } }[] }
    ).items.find((i) => i.id === id);
    assert.deepEqual(item?.origin, { kind: "route", destination: "restart-approval", source: "gh", eventId });
    assert.equal(sink.requests.length, 0, "nothing reaches then before the approval");

    const clicked = await click("U0LEAD1", "approve", id);
    assert.equal(clicked.reply, undefined);
    await waitFor("the approval at zen-back", () => decisionsFor(id).length === 1);
    const delivered = await waitFor("the original event at ops-hook", () =>
      sink.requests.find((r) => r.body.includes(eventId)),
    );
    assert.equal((JSON.parse(delivered.body) as { type: string }).type, "deployment");
  });

  it("the audit trail and listing are readable through the admin API, behind the admin token", async () => {
    const id = await createApproval();
    await click("U0NOBODY", "approve", id);
    await click("U0LEAD1", "approve", id);
    const detail = await approvalOf(id);
    assert.deepEqual(
      detail.audit.map((a) => [a.actor?.slackUserId, a.attempt, a.outcome]),
      [
        ["U0NOBODY", "approve", "refused"],
        ["U0LEAD1", "approve", "approved"],
      ],
    );
    const page = await admin("GET", "/admin/approvals?tenant=acme&limit=2");
    const body = page.body as { items: { id: string }[]; next: string | null };
    assert.equal(body.items.length, 2);
    assert.equal(body.items[0]?.id, id, "newest first");
    assert.ok(body.next);
    const next = await admin("GET", `/admin/approvals?tenant=acme&limit=2&cursor=${body.next}`);
    assert.ok(!(next.body as { items: { id: string }[] }).items.some((i) => i.id === id));
    assert.equal((await admin("GET", `/admin/approvals/${id}`, undefined, "wrong-token")).status, 401);
    assert.equal((await admin("GET", "/admin/approvals/ap_00000000000000000000000000000000")).status, 404);
  });

  it("bad admin requests get a 4xx with a stable code and create nothing", async () => {
    const count = async () =>
      ((await admin("GET", "/admin/approvals?limit=500")).body as { items: unknown[] }).items.length;
    const before = await count();
    const cases: [unknown, number, string][] = [
      [
        { tenant: "acme", action: "restart-deployment", risk: "high", requester: "U0X" },
        400,
        "invalid_request",
      ],
      [
        { tenant: "acme", action: "Restart!", risk: "high", requester: "U0X", summary: "s" },
        400,
        "invalid_request",
      ],
      [
        { tenant: "acme", action: "restart-deployment", risk: "huge", requester: "U0X", summary: "s" },
        400,
        "invalid_request",
      ],
      [
        {
          tenant: "acme",
          action: "restart-deployment",
          risk: "high",
          requester: "U0X",
          summary: "s",
          expiresIn: "1s",
        },
        400,
        "invalid_request",
      ],
      [
        {
          tenant: "acme",
          action: "restart-deployment",
          risk: "high",
          requester: "U0X",
          summary: "s",
          extra: 1,
        },
        400,
        "invalid_request",
      ],
      [
        { tenant: "nope", action: "restart-deployment", risk: "high", requester: "U0X", summary: "s" },
        404,
        "unknown_tenant",
      ],
    ];
    for (const [body, status, code] of cases) {
      const response = await admin("POST", "/admin/approvals", body);
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal((response.body as { error: { code: string } }).error.code, code);
    }
    const malformed = await fetch(`${zen.url}/admin/approvals`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, "malformed_body");
    assert.equal(await count(), before);
    const badQuery = await admin("GET", "/admin/approvals?status=maybe");
    assert.equal(badQuery.status, 400);
  });

  it("an unknown approval id in a click is explained and changes nothing", async () => {
    const clicked = await click("U0LEAD1", "approve", "ap_ffffffffffffffffffffffffffffffff");
    assert.equal(clicked.reply?.response_type, "ephemeral");
    assert.match(clicked.reply?.text ?? "", /unknown in this workspace/);
  });

  it("metrics count decisions and refusals by reason", async () => {
    const text = await (await fetch(`${zen.url}/metrics`)).text();
    assert.match(text, /zen_approvals_total\{tenant="acme",outcome="approved"\} [1-9]/);
    assert.match(text, /zen_approval_refusals_total\{tenant="acme",reason="not_authorized"\} [1-9]/);
    assert.match(text, /zen_approval_refusals_total\{tenant="acme",reason="self_approval"\} [1-9]/);
  });
});
