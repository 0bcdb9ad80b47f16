import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { ApprovalPolicyConfig, ApprovalRisk } from "../config/config.ts";
import type { Approval } from "./approval.ts";
import { type Click, decideClick, expireIfDue, isAuthorized, type Principal, withState } from "./decide.ts";

const t0 = Date.UTC(2026, 0, 1);
const hourMs = 3_600_000;

const policy: ApprovalPolicyConfig = {
  expiresInMs: hourMs,
  twoApproversFor: ["critical"],
  usesEmails: true,
  usesGroups: true,
  roles: [
    {
      id: "sre-leads",
      users: ["U0LEAD1", "U0LEAD2"],
      emails: ["lead@example.com"],
      groups: ["S0SRE"],
      actions: ["restart-deployment"],
      risks: ["low", "medium", "high", "critical"],
    },
    { id: "anyone-low", users: ["U0DEV"], emails: [], groups: [], actions: ["*"], risks: ["low"] },
  ],
};

function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    id: "ap_0123456789abcdef0123456789abcdef",
    tenant: "acme",
    action: "restart-deployment",
    risk: "high",
    requester: "U0REQ",
    summary: "restart api",
    channel: "C0APPROVALS",
    requiredApprovals: 1,
    status: "pending",
    approvals: [],
    createdAt: t0,
    expiresAt: t0 + hourMs,
    version: 1,
    origin: { kind: "admin" },
    thenTo: [],
    ...overrides,
  };
}

const user = (slackUserId: string, extra: Partial<Principal> = {}): Principal => ({
  slackUserId,
  groups: [],
  ...extra,
});

const click = (vote: Click["vote"], principal: Principal, at = t0 + 1000): Click => ({ vote, principal, at });

describe("isAuthorized", () => {
  test("by user id, e-mail or group, when the role lists the action (or *) and the risk", () => {
    assert.equal(isAuthorized(policy, user("U0LEAD1"), "restart-deployment", "high"), true);
    assert.equal(
      isAuthorized(policy, user("U0X", { email: "lead@example.com" }), "restart-deployment", "high"),
      true,
    );
    assert.equal(
      isAuthorized(policy, user("U0X", { groups: ["S0SRE"] }), "restart-deployment", "high"),
      true,
    );
    assert.equal(isAuthorized(policy, user("U0LEAD1"), "drop-database", "high"), false, "action not listed");
    assert.equal(isAuthorized(policy, user("U0DEV"), "drop-database", "low"), true, "* covers any action");
    assert.equal(isAuthorized(policy, user("U0DEV"), "drop-database", "medium"), false, "risk not listed");
    assert.equal(isAuthorized(policy, user("U0X"), "restart-deployment", "low"), false, "no role");
  });

  test("holding one role and the coverage of another is not enough", () => {
    // U0DEV holds anyone-low (low only); sre-leads covers high but does not hold U0DEV.
    assert.equal(isAuthorized(policy, user("U0DEV"), "restart-deployment", "high"), false);
  });
});

describe("decideClick", () => {
  test("an authorized approver approves a one-approver request", () => {
    const verdict = decideClick(approval(), click("approve", user("U0LEAD1")), policy);
    assert.equal(verdict.kind, "apply");
    assert.equal(verdict.kind === "apply" && verdict.outcome, "approved");
    assert.equal(verdict.kind === "apply" && verdict.next.decidedBy?.slackUserId, "U0LEAD1");
  });

  test("self-approval is refused even for an authorized requester", () => {
    const verdict = decideClick(
      approval({ requester: "U0LEAD1" }),
      click("approve", user("U0LEAD1")),
      policy,
    );
    assert.deepEqual(verdict, { kind: "refused", reason: "self_approval" });
  });

  test("the requester may withdraw (reject) when authorized", () => {
    const verdict = decideClick(approval({ requester: "U0LEAD1" }), click("reject", user("U0LEAD1")), policy);
    assert.equal(verdict.kind === "apply" && verdict.outcome, "rejected");
  });

  test("a user without the role changes nothing, for approve and reject", () => {
    for (const vote of ["approve", "reject"] as const) {
      assert.deepEqual(decideClick(approval(), click(vote, user("U0NOBODY")), policy), {
        kind: "refused",
        reason: "not_authorized",
      });
    }
  });

  test("a click at or after the expiry expires the request, whoever clicks", () => {
    const expired = decideClick(approval(), click("approve", user("U0LEAD1"), t0 + hourMs), policy);
    assert.equal(expired.kind, "expire");
    assert.equal(expired.kind === "expire" && expired.next.status, "expired");
    const justBefore = decideClick(approval(), click("approve", user("U0LEAD1"), t0 + hourMs - 1), policy);
    assert.equal(justBefore.kind === "apply" && justBefore.outcome, "approved");
  });

  test("final approvals refuse every further click", () => {
    for (const status of ["approved", "rejected", "expired"] as const) {
      assert.deepEqual(decideClick(approval({ status }), click("reject", user("U0LEAD1")), policy), {
        kind: "refused",
        reason: "not_pending",
      });
    }
  });

  test("two-approver rule: the first vote is recorded, a repeat is refused, a second person approves", () => {
    let current = approval({ risk: "critical", requiredApprovals: 2 });
    const first = decideClick(current, click("approve", user("U0LEAD1")), policy);
    assert.equal(first.kind === "apply" && first.outcome, "recorded");
    if (first.kind !== "apply") return;
    current = withState(current, first.next);
    assert.equal(current.status, "pending");
    assert.equal(current.version, 2);
    assert.deepEqual(decideClick(current, click("approve", user("U0LEAD1")), policy), {
      kind: "refused",
      reason: "duplicate_approver",
    });
    const second = decideClick(current, click("approve", user("U0LEAD2")), policy);
    assert.equal(second.kind === "apply" && second.outcome, "approved");
    if (second.kind === "apply") {
      assert.deepEqual(
        second.next.approvals.map((a) => a.slackUserId),
        ["U0LEAD1", "U0LEAD2"],
      );
    }
  });

  test("one authorized reject ends a half-approved request", () => {
    const current = withState(approval({ risk: "critical", requiredApprovals: 2 }), {
      status: "pending",
      approvals: [{ slackUserId: "U0LEAD1", vote: "approve", at: t0 }],
    });
    const verdict = decideClick(current, click("reject", user("U0LEAD2")), policy);
    assert.equal(verdict.kind === "apply" && verdict.outcome, "rejected");
  });
});

describe("expireIfDue", () => {
  test("only pending approvals past their expiry", () => {
    assert.equal(expireIfDue(approval(), t0 + hourMs - 1), undefined);
    assert.equal(expireIfDue(approval(), t0 + hourMs)?.status, "expired");
    assert.equal(expireIfDue(approval({ status: "approved" }), t0 + 2 * hourMs), undefined);
  });
});

describe("property: approval needs enough distinct authorized non-requester approvers before expiry", () => {
  const userIds = ["U0LEAD1", "U0LEAD2", "U0DEV", "U0REQ", "U0NOBODY", "U0MAIL", "U0GROUP"];
  const principalOf = (id: string): Principal =>
    id === "U0MAIL"
      ? user(id, { email: "lead@example.com" })
      : id === "U0GROUP"
        ? user(id, { groups: ["S0SRE"] })
        : user(id);
  const risks: readonly ApprovalRisk[] = ["low", "medium", "high", "critical"];

  test("no click sequence breaks the rule", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...risks),
        fc.constantFrom("restart-deployment", "drop-database"),
        fc.constantFrom(...userIds),
        fc.array(
          fc.record({
            user: fc.constantFrom(...userIds),
            vote: fc.constantFrom<"approve" | "reject">("approve", "approve", "reject"),
            stepMs: fc.integer({ min: 0, max: hourMs / 3 }),
          }),
          { maxLength: 12 },
        ),
        (risk, action, requester, clicks) => {
          const required = policy.twoApproversFor.includes(risk) ? 2 : 1;
          let current = approval({ risk, action, requester, requiredApprovals: required });
          let now = t0;
          for (const c of clicks) {
            now += c.stepMs;
            const verdict = decideClick(current, click(c.vote, principalOf(c.user), now), policy);
            if (verdict.kind !== "refused") current = withState(current, verdict.next);
          }
          if (current.status !== "approved") return;
          const approvers = new Set(current.approvals.map((a) => a.slackUserId));
          assert.ok(approvers.size >= required, "enough distinct approvers");
          assert.equal(approvers.size, current.approvals.length, "no approver counted twice");
          for (const vote of current.approvals) {
            assert.notEqual(vote.slackUserId, requester, "the requester never approves");
            assert.ok(isAuthorized(policy, principalOf(vote.slackUserId), action, risk), "authorized");
            assert.ok(vote.at < current.expiresAt, "before the expiry");
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
