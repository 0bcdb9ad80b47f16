/**
 * The approvals flow at its seams: memory store and queue, a FakeClock, and a recording SlackApi
 * double (the real client against the fake Slack is exercised in test/approvals.e2e.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { MemoryApprovalStore } from "../adapters/memory/approval-store.ts";
import { MemoryQueue } from "../adapters/memory/queue.ts";
import { loadYaml } from "../config/testing.ts";
import { escapeSlack } from "../destinations/slack/escape.ts";
import type {
  PostedMessage,
  PostMessageArgs,
  ResponseMessage,
  SlackApi,
  SlackUser,
  UpdateMessageArgs,
} from "../destinations/slack/slack-api.ts";
import { RetryableError } from "../domain/errors.ts";
import { silentLogger } from "../observability/logger.ts";
import { FakeClock } from "../ports/clock.ts";
import type { EnqueueResult, Submission } from "../ports/queue.ts";
import type { BlockActionsPayload } from "../slack/interactions.ts";
import { ApprovalTelemetry } from "./approval-telemetry.ts";
import { Approvals } from "./approvals.ts";
import { outcomeMessage, requestMessage } from "./request-message.ts";

class RecordingSlack implements SlackApi {
  readonly updates: UpdateMessageArgs[] = [];
  readonly responses: { url: string; message: ResponseMessage }[] = [];
  userInfoFails = false;
  userInfoCalls = 0;
  async postMessage(args: PostMessageArgs): Promise<PostedMessage> {
    return { channel: args.channel, ts: "1.000001" };
  }
  async updateMessage(args: UpdateMessageArgs): Promise<PostedMessage> {
    this.updates.push(args);
    return { channel: args.channel, ts: args.ts };
  }
  async userInfo(userId: string): Promise<SlackUser> {
    this.userInfoCalls++;
    if (this.userInfoFails) throw new RetryableError("server_error", "slack: internal_error");
    return { id: userId, email: "Lead@Example.com" };
  }
  groupCalls: string[] = [];
  async userGroupMembers(groupId: string): Promise<readonly string[]> {
    this.groupCalls.push(groupId);
    return groupId === "S0SRE" ? ["U0GROUPIE"] : [];
  }
  async authTest() {
    return { teamId: "T0", userId: "U0BOT" };
  }
  async respond(url: string, message: ResponseMessage): Promise<void> {
    this.responses.push({ url, message });
  }
  async close(): Promise<void> {}
}

const yaml = `
tenants:
  - id: acme
    approvals:
      channel: C0APPROVALS
      expiresIn: 10m
      roles:
        - { id: leads, users: [U0LEAD], emails: [lead@example.com], actions: ["*"], risks: [high] }
`;

const groupYaml = `
tenants:
  - id: acme
    approvals:
      channel: C0APPROVALS
      roles:
        - { id: sre, groups: [S0SRE], actions: [restart], risks: [high] }
        - { id: dba, groups: [S0DBA], actions: [failover], risks: [high] }
`;

/** A memory queue whose next `failures` enqueues throw (a store outage). */
class FlakyQueue extends MemoryQueue {
  failures = 0;
  override async enqueue(submission: Submission): Promise<EnqueueResult> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("store unavailable");
    }
    return super.enqueue(submission);
  }
}

function setup(env: Record<string, string> = {}, file = yaml) {
  const config = loadYaml(file, env);
  const clock = new FakeClock();
  const store = new MemoryApprovalStore();
  const queue = new FlakyQueue({ clock });
  const slack = new RecordingSlack();
  const registry = new Registry();
  const approvals = new Approvals({
    config,
    store,
    queue,
    slack: { forTenant: (t) => (t === "acme" ? slack : undefined), close: async () => {} },
    telemetry: new ApprovalTelemetry(registry, silentLogger()),
    logger: silentLogger(),
    clock,
  });
  return { approvals, store, queue, slack, clock, registry };
}

const request = {
  tenant: "acme",
  action: "restart",
  risk: "high",
  requester: "U0REQ",
  summary: "restart api",
} as const;

function payload(userId: string, actionId: string, value: string): BlockActionsPayload {
  const raw = {
    type: "block_actions",
    team: { id: "T0" },
    user: { id: userId },
    response_url: "https://hooks.slack.com/actions/T0/1/x",
    actions: [{ action_id: actionId, value, type: "button" }],
  };
  return { ...raw, type: "block_actions", raw } as BlockActionsPayload;
}

describe("Approvals", () => {
  it("request stores a pending approval and enqueues its post to _approvals", async () => {
    const { approvals, store, queue, clock } = setup();
    const approval = await approvals.request(request);
    assert.equal(approval.expiresAt, clock.now() + 10 * 60_000);
    assert.equal((await store.get(approval.id))?.status, "pending");
    const stats = await queue.stats();
    assert.deepEqual(Object.keys(stats.byDestination), ["_approvals"]);
  });

  it("the sweeper expires due approvals with a system audit entry and updates their message", async () => {
    const { approvals, store, slack, clock, registry } = setup();
    const due = await approvals.request(request);
    await store.setMessage(due.id, { channel: "C0APPROVALS", ts: "1.000001" });
    clock.advance(5 * 60_000);
    const later = await approvals.request(request);
    clock.advance(5 * 60_000);
    assert.equal(await approvals.sweep(), 1);
    await approvals.close();
    const swept = await store.get(due.id);
    assert.equal(swept?.status, "expired");
    assert.deepEqual(swept?.audit, [{ at: clock.now(), attempt: "expire", outcome: "expired" }]);
    assert.equal((await store.get(later.id))?.status, "pending");
    assert.equal(slack.updates.length, 1);
    assert.match(slack.updates[0]?.text ?? "", /Expired/);
    assert.match(await registry.metrics(), /zen_approvals_total\{tenant="acme",outcome="expired"\} 1/);
  });

  it("a decision whose enqueue failed is enqueued by the sweeper, once", async () => {
    const { approvals, store, queue, clock } = setup({
      ZEN_BACK_URL: "https://zen-back.example.com/decisions",
    });
    const approval = await approvals.request(request);
    queue.failures = 1;
    const reply = await approvals.handle(payload("U0LEAD", "zen_approval:approve", approval.id), {
      tenant: "acme",
    });
    assert.equal(reply.kind, "ack");
    assert.equal((await store.get(approval.id))?.status, "approved");
    assert.equal((await queue.stats()).byDestination["_zen-back"], undefined, "the enqueue failed");
    await approvals.sweep();
    assert.equal((await queue.stats()).byDestination["_zen-back"], undefined, "not before the grace period");
    clock.advance(30_000);
    await approvals.sweep();
    assert.equal((await queue.stats()).byDestination["_zen-back"]?.ready, 1);
    assert.equal((await store.get(approval.id))?.dispatchedAt, clock.now());
    await approvals.sweep();
    assert.equal(
      (await queue.stats()).byDestination["_zen-back"]?.ready,
      1,
      "a second sweep enqueues nothing more",
    );
  });

  it("a group role is resolved through usergroups.users.list, without users.info", async () => {
    const { approvals, store, slack } = setup({}, groupYaml);
    const outsider = await approvals.request(request);
    const refused = await approvals.handle(payload("U0OTHER", "zen_approval:approve", outsider.id), {
      tenant: "acme",
    });
    assert.equal(refused.kind, "ephemeral");
    const reply = await approvals.handle(payload("U0GROUPIE", "zen_approval:approve", outsider.id), {
      tenant: "acme",
    });
    assert.equal(reply.kind, "ack");
    assert.equal((await store.get(outsider.id))?.status, "approved");
    assert.equal(slack.userInfoCalls, 0, "the policy lists no e-mails");
    assert.deepEqual([...new Set(slack.groupCalls)].sort(), ["S0DBA", "S0SRE"]);
    assert.equal(slack.groupCalls.length, 2, "memberships are cached across clicks");
  });

  it("a failed users.info is explained and records nothing", async () => {
    const { approvals, store, slack } = setup();
    const approval = await approvals.request(request);
    slack.userInfoFails = true;
    const reply = await approvals.handle(payload("U0LEAD", "zen_approval:approve", approval.id), {
      tenant: "acme",
    });
    assert.equal(reply.kind, "ephemeral");
    assert.match(reply.kind === "ephemeral" ? reply.text : "", /Could not check your roles/);
    assert.deepEqual((await store.get(approval.id))?.audit, []);
  });

  it("looks a user's e-mail up once per cache period", async () => {
    const { approvals, slack, clock } = setup();
    const a = await approvals.request(request);
    const b = await approvals.request(request);
    await approvals.handle(payload("U0OTHER", "zen_approval:approve", a.id), { tenant: "acme" });
    await approvals.handle(payload("U0OTHER", "zen_approval:approve", b.id), { tenant: "acme" });
    assert.equal(slack.userInfoCalls, 1);
    clock.advance(5 * 60_000);
    await approvals.handle(payload("U0OTHER", "zen_approval:approve", b.id), { tenant: "acme" });
    assert.equal(slack.userInfoCalls, 2, "the cache entry expired");
  });

  it("foreign buttons, malformed ids and other tenants' approvals are refused without side effects", async () => {
    const { approvals, store } = setup();
    const approval = await approvals.request(request);
    for (const [actionId, value, tenant] of [
      ["zen_approval:maybe", approval.id, "acme"],
      ["zen_approval:approve", "ap_not-an-id", "acme"],
      ["zen_approval:approve", approval.id, "beta"],
    ] as const) {
      const reply = await approvals.handle(payload("U0LEAD", actionId, value), { tenant });
      assert.equal(reply.kind, "ephemeral", `${actionId} ${value} ${tenant}`);
    }
    assert.equal((await store.get(approval.id))?.status, "pending");
    assert.deepEqual((await store.get(approval.id))?.audit, []);
  });
});

describe("request messages", () => {
  const approval = {
    id: "ap_0123456789abcdef0123456789abcdef",
    tenant: "acme",
    action: "restart",
    risk: "high",
    requester: "deploy bot <@U0X>",
    summary: "restart <!channel> & more",
    channel: "C0",
    requiredApprovals: 2,
    status: "pending",
    approvals: [],
    createdAt: 0,
    expiresAt: 3_600_000,
    version: 1,
    origin: { kind: "admin" },
    thenTo: [],
  } as const;

  it("escapes request text so it cannot mention or link, and shows the two-approver need", () => {
    const blocks = JSON.stringify(requestMessage(approval).blocks);
    assert.ok(!blocks.includes("<!channel>"));
    assert.ok(!blocks.includes("<@U0X>"));
    assert.ok(blocks.includes(escapeSlack("<!channel>")));
    assert.match(blocks, /Needs 2 distinct approvers/);
    assert.match(requestMessage(approval).text, /Expires 1970-01-01T01:00:00.000Z/);
  });

  it("the outcome names who decided and carries no buttons", () => {
    const vote = { slackUserId: "U0LEAD", vote: "reject", at: 10 } as const;
    const message = outcomeMessage({ ...approval, status: "rejected", decidedBy: vote, decidedAt: 10 });
    assert.match(message.text, /Rejected by U0LEAD/);
    assert.ok(!JSON.stringify(message.blocks).includes("zen_approval:"));
  });
});
