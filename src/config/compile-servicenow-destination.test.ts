import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultServiceNowLevelBySeverity } from "./compile-servicenow-destination.ts";
import { loadYaml, yamlProblems } from "./testing.ts";

const env = { SN_PASSWORD_ACME: "sn-password-not-real" };
const connection = {
  instanceUrl: "https://acme.service-now.com",
  username: "zen",
  password: "sn-password-not-real",
};
const defaultLevels = { critical: "1", high: "1", medium: "2", low: "3", info: "3" };

/** Tenant `acme` with a ServiceNow connection and the given destination lines (flow mappings). */
function acme(...destinations: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      servicenow: { instance: acme.service-now.com, username: zen, password: env:SN_PASSWORD_ACME }",
    "    destinations:",
    ...destinations.map((d) => `      - ${d}`),
    "",
  ].join("\n");
}

describe("servicenow destinations", () => {
  it("applies every default", () => {
    const destination = loadYaml(acme("{ id: incidents, type: servicenow }"), env)
      .tenants.get("acme")
      ?.destinations.get("incidents");
    assert.deepEqual(destination, {
      type: "servicenow",
      id: "incidents",
      tenant: "acme",
      connection,
      table: "incident",
      urgencyBySeverity: defaultLevels,
      impactBySeverity: defaultLevels,
      closeCode: "Resolved by caller",
      timeoutMs: 30_000,
      resolvedWhen: { "data.status": "resolved" },
      reopenOnRecurrence: false,
    });
  });

  it("compiles every key; urgency and impact accept numbers and merge over the defaults", () => {
    const yaml = acme(
      [
        "{ id: incidents, type: servicenow, table: u_alerts, urgencyBySeverity: { medium: 1, info: '2' },",
        "impactBySeverity: { critical: 2 }, assignmentGroup: Platform Operations, callerId: zen.bot,",
        "category: software, closeCode: Solved (Permanently), timeoutMs: 10000,",
        "rateLimit: { capacity: 2, refillPerSecond: 0.5 }, fingerprintFields: [data.alert.id],",
        "resolvedWhen: { data.state: [ok, resolved] }, reopenOnRecurrence: true }",
      ].join(" "),
    );
    const destination = loadYaml(yaml, env).tenants.get("acme")?.destinations.get("incidents");
    assert.deepEqual(destination, {
      type: "servicenow",
      id: "incidents",
      tenant: "acme",
      connection,
      table: "u_alerts",
      urgencyBySeverity: { ...defaultLevels, medium: "1", info: "2" },
      impactBySeverity: { ...defaultLevels, critical: "2" },
      assignmentGroup: "Platform Operations",
      callerId: "zen.bot",
      category: "software",
      closeCode: "Solved (Permanently)",
      timeoutMs: 10_000,
      rateLimit: { capacity: 2, refillPerSecond: 0.5 },
      fingerprintFields: ["data.alert.id"],
      resolvedWhen: { "data.state": ["ok", "resolved"] },
      reopenOnRecurrence: true,
    });
    assert.ok(destination && Object.isFrozen(destination));
    assert.ok(destination?.type === "servicenow" && Object.isFrozen(destination.urgencyBySeverity));
    assert.equal(Object.isFrozen(defaultServiceNowLevelBySeverity), false);
  });

  it("reports each problem on its own line", () => {
    const problems = yamlProblems(
      acme(
        "{ id: a, type: servicenow, table: Incident, urgencyBySeverity: { high: 4, low: high }, assignmentGroup: '', closecode: x }",
        "{ id: b, type: servicenow, impactBySeverity: { urgent: 1 }, fingerprintFields: [foo], timeoutMs: 90000 }",
      ),
      env,
    );
    assert.deepEqual(problems, [
      "tenants[0].destinations[0].table: expected a table name like incident or u_alerts (lower-case letters, digits and _)",
      'tenants[0].destinations[0].urgencyBySeverity.high: expected one of "1", "2", "3", got "4"',
      'tenants[0].destinations[0].urgencyBySeverity.low: expected one of "1", "2", "3", got "high"',
      "tenants[0].destinations[0].assignmentGroup: must not be empty",
      'tenants[0].destinations[0].closecode: unknown key (did you mean "closeCode"?)',
      "tenants[0].destinations[1].impactBySeverity.urgent: unknown severity; use critical, high, medium, low, info",
      'tenants[0].destinations[1].fingerprintFields[0]: unknown event field "foo"; use type, severity, category, subject, data.<path>, headers.<name> or resource.<apiVersion|kind|name|namespace>',
      "tenants[0].destinations[1].timeoutMs: must be below the worker lease (ZEN_LEASE_MS = 1m): a send still running when the lease ends is handed to a second worker",
    ]);
  });

  it("needs a ServiceNow connection on the tenant", () => {
    const yaml = "tenants:\n  - id: acme\n    destinations:\n      - { id: incidents, type: servicenow }\n";
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].destinations[0]: type servicenow needs a ServiceNow connection: add providers.servicenow to the tenant (or SERVICENOW_INSTANCE/SERVICENOW_USERNAME/SERVICENOW_PASSWORD for tenant default)",
    ]);
  });
});
