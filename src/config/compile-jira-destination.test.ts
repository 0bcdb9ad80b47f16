import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultJiraPriorityBySeverity } from "./compile-jira-destination.ts";
import { loadYaml, yamlProblems } from "./testing.ts";

const env = { JIRA_TOKEN_ACME: "jira-token-not-real" };
const connection = { url: "https://acme.atlassian.net/", token: "jira-token-not-real" };

/** Tenant `acme` with a Jira connection and the given destination lines (flow mappings). */
function acme(...destinations: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      jira: { url: https://acme.atlassian.net, token: env:JIRA_TOKEN_ACME }",
    "    destinations:",
    ...destinations.map((d) => `      - ${d}`),
    "",
  ].join("\n");
}

describe("jira destinations", () => {
  it("applies every default", () => {
    const destination = loadYaml(acme("{ id: tickets, type: jira, project: OPS }"), env)
      .tenants.get("acme")
      ?.destinations.get("tickets");
    assert.deepEqual(destination, {
      type: "jira",
      id: "tickets",
      tenant: "acme",
      connection,
      project: "OPS",
      issueType: "Task",
      labels: [],
      priorityBySeverity: { critical: "Highest", high: "High", medium: "Medium", low: "Low", info: "Lowest" },
      resolveTransition: "Done",
      reopenTransition: "To Do",
      timeoutMs: 30_000,
      resolvedWhen: { "data.status": "resolved" },
      reopenOnRecurrence: false,
    });
  });

  it("compiles every key, merging priorities over the defaults", () => {
    const yaml = acme(
      [
        "{ id: tickets, type: jira, project: SEC_OPS2, issueType: Bug, labels: [alerts, prod, alerts],",
        "priorityBySeverity: { critical: Blocker, info: Trivial }, resolveTransition: Resolve,",
        "reopenTransition: Reopen, timeoutMs: 5000, rateLimit: { capacity: 10, refillPerSecond: 1 },",
        "fingerprintFields: [data.alert.id, type, headers.X-Env, resource.name],",
        "resolvedWhen: { type: [alert.resolved, alert.ok], data.state: 0 }, reopenOnRecurrence: true }",
      ].join(" "),
    );
    const destination = loadYaml(yaml, env).tenants.get("acme")?.destinations.get("tickets");
    assert.deepEqual(destination, {
      type: "jira",
      id: "tickets",
      tenant: "acme",
      connection,
      project: "SEC_OPS2",
      issueType: "Bug",
      labels: ["alerts", "prod"],
      priorityBySeverity: {
        critical: "Blocker",
        high: "High",
        medium: "Medium",
        low: "Low",
        info: "Trivial",
      },
      resolveTransition: "Resolve",
      reopenTransition: "Reopen",
      timeoutMs: 5000,
      rateLimit: { capacity: 10, refillPerSecond: 1 },
      fingerprintFields: ["data.alert.id", "type", "headers.x-env", "resource.name"],
      resolvedWhen: { type: ["alert.resolved", "alert.ok"], "data.state": "0" },
      reopenOnRecurrence: true,
    });
  });

  it("accepts resolvedWhen: {} (no event resolves) and keeps the default table unfrozen", () => {
    const config = loadYaml(acme("{ id: t, type: jira, project: OPS, resolvedWhen: {} }"), env);
    const destination = config.tenants.get("acme")?.destinations.get("t");
    assert.ok(destination?.type === "jira");
    assert.deepEqual(destination.resolvedWhen, {});
    assert.ok(Object.isFrozen(destination.priorityBySeverity));
    assert.ok(Object.isFrozen(destination.labels));
    assert.ok(Object.isFrozen(destination.connection));
    assert.equal(Object.isFrozen(defaultJiraPriorityBySeverity), false);
    assert.throws(() => {
      (destination.priorityBySeverity as Record<string, string>).high = "Lowest";
    }, TypeError);
  });

  it("reports each schema problem on its own line", () => {
    const problems = yamlProblems(
      acme(
        '{ id: a, type: jira, project: ops, labels: ["needs triage", ""], issueType: "", priorityBySeverity: { high: "" }, reopenOnRecurrence: "yes" }',
        "{ id: b, type: jira, projcet: OPS }",
        "{ id: c, type: jira, project: TOOLONGPROJECTKEY, timeoutMs: 0, fingerprintFields: [], resolvedWhen: [x] }",
      ),
      env,
    );
    assert.deepEqual(problems, [
      'tenants[0].destinations[0].project: expected a Jira project key (an upper-case letter, then 1 to 9 upper-case letters, digits or "_", like OPS), got "ops"',
      "tenants[0].destinations[0].issueType: must not be empty",
      "tenants[0].destinations[0].labels[0]: a Jira label cannot contain spaces",
      "tenants[0].destinations[0].labels[1]: must not be empty",
      "tenants[0].destinations[0].priorityBySeverity.high: must not be empty",
      "tenants[0].destinations[0].reopenOnRecurrence: expected true or false, got a string",
      "tenants[0].destinations[1].project: required",
      'tenants[0].destinations[1].projcet: unknown key (did you mean "project"?)',
      'tenants[0].destinations[2].project: expected a Jira project key (an upper-case letter, then 1 to 9 upper-case letters, digits or "_", like OPS), got "TOOLONGPROJECTKEY"',
      "tenants[0].destinations[2].timeoutMs: must be at least 1",
      "tenants[0].destinations[2].fingerprintFields: must list at least 1",
      "tenants[0].destinations[2].resolvedWhen: expected a mapping, got a list",
    ]);
  });

  it("checks severities, event fields and the lease", () => {
    const problems = yamlProblems(
      acme(
        [
          "{ id: a, type: jira, project: OPS, priorityBySeverity: { urgent: Highest, Critical: High },",
          "fingerprintFields: [data, sevrity, data.id, data.id], resolvedWhen: { severity: [high, urgent], status: x },",
          "timeoutMs: 60000 }",
        ].join(" "),
      ),
      env,
    );
    const help =
      "use type, severity, category, subject, data.<path>, headers.<name> or resource.<apiVersion|kind|name|namespace>";
    assert.deepEqual(problems, [
      "tenants[0].destinations[0].priorityBySeverity.urgent: unknown severity; use critical, high, medium, low, info",
      "tenants[0].destinations[0].priorityBySeverity.Critical: unknown severity; use critical, high, medium, low, info",
      `tenants[0].destinations[0].fingerprintFields[0]: unknown event field "data"; ${help}`,
      `tenants[0].destinations[0].fingerprintFields[1]: unknown event field "sevrity"; ${help}`,
      'tenants[0].destinations[0].fingerprintFields[3]: "data.id" is listed twice',
      'tenants[0].destinations[0].resolvedWhen.severity: unknown severity "urgent"; use critical, high, medium, low, info',
      `tenants[0].destinations[0].resolvedWhen.status: unknown event field; ${help}`,
      "tenants[0].destinations[0].timeoutMs: must be below the worker lease (ZEN_LEASE_MS = 1m): a send still running when the lease ends is handed to a second worker",
    ]);
  });

  it("needs a Jira connection on the tenant", () => {
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    providers:",
      "      jira: { url: https://acme.atlassian.net, token: env:JIRA_TOKEN_ACME }",
      "  - id: beta",
      "    destinations:",
      "      - { id: tickets, type: jira, project: OPS }",
      "  - id: default",
      "    destinations:",
      "      - { id: tickets, type: jira, project: OPS }",
      "",
    ].join("\n");
    assert.deepEqual(yamlProblems(yaml, env), [
      "tenants[1].destinations[0]: type jira needs a Jira connection: add providers.jira to the tenant (or JIRA_URL/JIRA_TOKEN for tenant default)",
      "tenants[2].destinations[0]: type jira needs a Jira connection: add providers.jira to the tenant (or JIRA_URL/JIRA_TOKEN for tenant default)",
    ]);
  });

  it("uses the JIRA_* connection in tenant default only", () => {
    const yaml = [
      "tenants:",
      "  - id: default",
      "    destinations:",
      "      - { id: tickets, type: jira, project: OPS }",
      "    routes:",
      "      - { to: [tickets] }",
      "",
    ].join("\n");
    const config = loadYaml(yaml, {
      JIRA_URL: "https://env.atlassian.net",
      JIRA_TOKEN: "env-token-not-real",
    });
    const destination = config.tenants.get("default")?.destinations.get("tickets");
    assert.ok(destination?.type === "jira");
    assert.deepEqual(destination.connection, {
      url: "https://env.atlassian.net/",
      token: "env-token-not-real",
    });
    assert.equal(destination.connection, config.providers.jira);
  });
});
