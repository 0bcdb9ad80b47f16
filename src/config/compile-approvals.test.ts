import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adminApprovalDestinationId, zenBackDestinationId } from "./compile-approvals.ts";
import { loadYaml, yamlProblems } from "./testing.ts";

const policy = `    approvals:
      channel: C0APPROVALS
      expiresIn: 30m
      twoApproversFor: [critical]
      roles:
        - id: sre-leads
          users: [U0123ABC]
          emails: [Lead@Example.com]
          groups: [S0123ABC]
          actions: [restart-deployment]
          risks: [high, critical]
        - { id: devs, users: [U0DEV1], actions: ["*"], risks: [low] }
`;

const tenant = (approvals: string, destinations = "", routes = "") =>
  `tenants:\n  - id: acme\n${approvals}${destinations === "" ? "" : `    destinations:\n${destinations}`}${routes === "" ? "" : `    routes:\n${routes}`}`;

const hook = `      - { id: ops-hook, type: webhook, url: "https://hooks.example.com/in" }\n`;
const approvalDestination = `      - { id: restart-approval, type: approval, action: restart-deployment, risk: high, then: [ops-hook] }\n`;
const zenBackEnv = {
  ZEN_BACK_URL: "https://zen-back.example.com/api/approvals",
  ZEN_BACK_APIKEY: "fake-zen-back-key",
};

describe("approvals config: good", () => {
  it("compiles the policy, the approval destination and the built-in destinations", () => {
    const config = loadYaml(
      tenant(policy, hook + approvalDestination, "      - { to: [restart-approval] }\n"),
      zenBackEnv,
    );
    const acme = config.tenants.get("acme");
    assert.deepEqual(acme?.approvals, {
      channel: "C0APPROVALS",
      expiresInMs: 30 * 60_000,
      twoApproversFor: ["critical"],
      roles: [
        {
          id: "sre-leads",
          users: ["U0123ABC"],
          emails: ["lead@example.com"],
          groups: ["S0123ABC"],
          actions: ["restart-deployment"],
          risks: ["high", "critical"],
        },
        { id: "devs", users: ["U0DEV1"], emails: [], groups: [], actions: ["*"], risks: ["low"] },
      ],
      usesEmails: true,
      usesGroups: true,
    });
    assert.deepEqual(acme?.destinations.get("restart-approval"), {
      type: "approval",
      id: "restart-approval",
      tenant: "acme",
      request: { action: "restart-deployment", risk: "high" },
      thenTo: ["ops-hook"],
      timeoutMs: 10_000,
    });
    assert.equal(acme?.destinations.get(adminApprovalDestinationId)?.type, "approval");
    assert.deepEqual(acme?.destinations.get(zenBackDestinationId), {
      type: "zen-back",
      id: zenBackDestinationId,
      tenant: "acme",
      url: "https://zen-back.example.com/api/approvals",
      apiKey: "fake-zen-back-key",
      timeoutMs: 10_000,
    });
    assert.ok(Object.isFrozen(acme?.approvals?.roles[0]?.users), "deep-frozen");
  });

  it("defaults: 1h expiry, one approver; no zen-back destination without ZEN_BACK_URL", () => {
    const config = loadYaml(
      tenant(
        "    approvals:\n      roles: [{ id: leads, users: [U0123ABC], actions: ['*'], risks: [high] }]\n",
      ),
    );
    const acme = config.tenants.get("acme");
    assert.equal(acme?.approvals?.expiresInMs, 3_600_000);
    assert.deepEqual(acme?.approvals?.twoApproversFor, []);
    assert.equal(acme?.approvals?.usesEmails, false);
    assert.equal(acme?.approvals?.usesGroups, false);
    assert.equal(acme?.destinations.has(zenBackDestinationId), false);
    assert.equal(acme?.destinations.has(adminApprovalDestinationId), true);
  });

  it("a tenant without approvals gets no built-in destinations", () => {
    const config = loadYaml(tenant("", hook), zenBackEnv);
    assert.deepEqual([...(config.tenants.get("acme")?.destinations.keys() ?? [])], ["ops-hook"]);
  });

  it("routes cannot name the built-in destinations", () => {
    assert.deepEqual(yamlProblems(tenant(policy, hook, "      - { to: [_approvals] }\n")), [
      'tenants[0].routes[0].to[0]: unknown destination "_approvals" in tenant "acme"; its destinations: ops-hook',
    ]);
  });
});

describe("approvals config: one problem per bad field", () => {
  const cases: readonly [string, string, string][] = [
    [
      "bad user id",
      "    approvals:\n      roles: [{ id: r, users: [bob], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.roles[0].users[0]: expected a Slack user id like U0123ABC, got "bob"',
    ],
    [
      "bad e-mail",
      "    approvals:\n      roles: [{ id: r, emails: [lead-at-example], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.roles[0].emails[0]: expected an e-mail address, got "lead-at-example"',
    ],
    [
      "bad group id",
      "    approvals:\n      roles: [{ id: r, groups: [sre], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.roles[0].groups[0]: expected a Slack user group id like S0123ABC, got "sre"',
    ],
    [
      "bad action",
      "    approvals:\n      roles: [{ id: r, users: [U0123ABC], actions: [Restart Deployment], risks: [high] }]\n",
      'tenants[0].approvals.roles[0].actions[0]: expected an action name of lowercase letters, digits and "_.:-" (like restart-deployment), got "Restart Deployment"',
    ],
    [
      "bad risk",
      "    approvals:\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [severe] }]\n",
      'tenants[0].approvals.roles[0].risks[0]: expected a risk level (low, medium, high, critical), got "severe"',
    ],
    [
      "role with nobody",
      "    approvals:\n      roles: [{ id: r, actions: ['*'], risks: [high] }]\n",
      "tenants[0].approvals.roles[0]: a role must list at least one of users, emails or groups",
    ],
    ["no roles", "    approvals:\n      roles: []\n", "tenants[0].approvals.roles: must list at least 1"],
    [
      "duplicate role",
      "    approvals:\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [high] }, { id: r, users: [U0DEV1], actions: ['*'], risks: [low] }]\n",
      'tenants[0].approvals.roles[1].id: duplicate role id "r"',
    ],
    [
      "bad expiry",
      "    approvals:\n      expiresIn: 10s\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.expiresIn: expected a duration from 1m to 7d, got "10s"',
    ],
    [
      "bad channel",
      "    approvals:\n      channel: '#ops'\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.channel: expected a Slack channel id like C0123456789 (names can change; ids cannot), got "#ops"',
    ],
    [
      "bad two-approver risk",
      "    approvals:\n      twoApproversFor: [huge]\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [high] }]\n",
      'tenants[0].approvals.twoApproversFor[0]: expected a risk level (low, medium, high, critical), got "huge"',
    ],
  ];
  for (const [name, approvals, problem] of cases) {
    it(name, () => {
      assert.deepEqual(yamlProblems(tenant(approvals)), [problem]);
    });
  }

  it("an unknown key in the policy, with a suggestion", () => {
    const problems = yamlProblems(
      tenant(
        "    approvals:\n      chanel: C0APPROVALS\n      roles: [{ id: r, users: [U0123ABC], actions: ['*'], risks: [high] }]\n",
      ),
    );
    assert.deepEqual(problems, ['tenants[0].approvals.chanel: unknown key (did you mean "channel"?)']);
  });

  it("an approval destination without a policy", () => {
    assert.deepEqual(yamlProblems(tenant("", approvalDestination.replace(", then: [ops-hook]", ""))), [
      "tenants[0].destinations[0].type: an approval destination needs the tenant's approvals policy (tenants[0].approvals: roles who may decide)",
    ]);
  });

  it("an approval destination without a channel anywhere", () => {
    const noChannel = policy.replace("      channel: C0APPROVALS\n", "");
    assert.deepEqual(yamlProblems(tenant(noChannel, hook + approvalDestination)), [
      "tenants[0].destinations[1].channel: required when tenants[0].approvals.channel is not set",
    ]);
  });

  it("then naming an unknown destination or another approval", () => {
    const destinations =
      approvalDestination.replace("[ops-hook]", "[nowhere, second]") +
      "      - { id: second, type: approval, action: restart-deployment, risk: low }\n";
    assert.deepEqual(yamlProblems(tenant(policy, destinations)), [
      'tenants[0].destinations[0].then[0]: no destination "nowhere" in this tenant',
      'tenants[0].destinations[0].then[1]: "second" is an approval destination; then must name where the event goes once approved',
    ]);
  });

  it("bad action, risk and channel on the destination", () => {
    assert.deepEqual(
      yamlProblems(
        tenant(policy, "      - { id: a, type: approval, action: 'Do It', risk: extreme, channel: ops }\n"),
      ),
      [
        'tenants[0].destinations[0].action: expected an action name of lowercase letters, digits and "_.:-" (like restart-deployment), got "Do It"',
        'tenants[0].destinations[0].risk: expected a risk level (low, medium, high, critical), got "extreme"',
        'tenants[0].destinations[0].channel: expected a Slack channel id like C0123456789 (names can change; ids cannot), got "ops"',
      ],
    );
  });
});
