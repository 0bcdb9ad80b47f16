import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { presetProfile } from "../intake/verify/presets.ts";
import { loadConfig } from "./load-config.ts";
import { loadYaml, problemsOf, yamlProblems } from "./testing.ts";

const envServiceNow = {
  SERVICENOW_INSTANCE: "env.service-now.com",
  SERVICENOW_USERNAME: "zen",
  SERVICENOW_PASSWORD: "env-sn-password-not-real",
};
const envJira = { JIRA_URL: "https://env.atlassian.net", JIRA_TOKEN: "env-jira-token-not-real" };
const levels = { critical: "1", high: "1", medium: "2", low: "3", info: "3" };

describe("SERVICENOW_* in env", () => {
  it("creates tenant default with destination servicenow, every default applied", () => {
    const config = loadConfig({ env: envServiceNow });
    const tenant = config.tenants.get("default");
    assert.deepEqual([...config.tenants.keys()], ["default"]);
    assert.deepEqual(tenant?.destinations.get("servicenow"), {
      type: "servicenow",
      id: "servicenow",
      tenant: "default",
      connection: {
        instanceUrl: "https://env.service-now.com",
        username: "zen",
        password: "env-sn-password-not-real",
      },
      table: "incident",
      urgencyBySeverity: levels,
      impactBySeverity: levels,
      closeCode: "Resolved by caller",
      timeoutMs: 30_000,
      resolvedWhen: { "data.status": "resolved" },
      reopenOnRecurrence: false,
    });
    assert.equal(tenant?.providers.servicenow, config.providers.servicenow);
    const destination = tenant?.destinations.get("servicenow");
    assert.ok(destination?.type === "servicenow");
    assert.ok(Object.isFrozen(destination) && Object.isFrozen(destination.resolvedWhen));
  });

  it("adds it to the file's tenant default, whose routes may name it; other tenants may not", () => {
    const yaml = `
tenants:
  - id: acme
    routes: [{ to: [servicenow] }]
  - id: default
    sources: [{ id: open, verify: none }]
    routes: [{ from: [open], to: [servicenow] }]
`;
    assert.deepEqual(yamlProblems(yaml, envServiceNow), [
      'tenants[0].routes[0].to[0]: unknown destination "servicenow" in tenant "acme"; it has no destinations',
    ]);
    const config = loadYaml(yaml.replace("    routes: [{ to: [servicenow] }]\n", ""), envServiceNow);
    assert.deepEqual([...config.tenants.keys()], ["acme", "default"]);
    assert.deepEqual([...(config.tenants.get("default")?.destinations.keys() ?? [])], ["servicenow"]);
    assert.equal(config.tenants.get("acme")?.destinations.size, 0);
  });

  it("leaves a servicenow destination declared in the file as written", () => {
    const yaml = `
tenants:
  - id: default
    destinations: [{ id: servicenow, type: servicenow, table: u_alerts }]
`;
    const destination = loadYaml(yaml, envServiceNow).tenants.get("default")?.destinations.get("servicenow");
    assert.ok(destination?.type === "servicenow");
    assert.equal(destination.table, "u_alerts");
  });

  it("reports a lease below the 35 s floor at the env var", () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ env: { ...envServiceNow, ZEN_LEASE_MS: "20000" } })),
      [
        // The lease floor (35 s, above the 30 s default timeout) is reported first and alone.
        'env ZEN_LEASE_MS: expected a positive integer from 35000 to 3600000, got "20000"',
      ],
    );
  });

  it("creates nothing when half-configured, beyond the env problem", () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ env: { SERVICENOW_INSTANCE: "env.service-now.com" } })),
      [
        "env SERVICENOW_USERNAME: is required when SERVICENOW_INSTANCE is set",
        "env SERVICENOW_PASSWORD: is required when SERVICENOW_INSTANCE is set",
      ],
    );
  });
});

describe("JIRA_* in env", () => {
  it("gives tenant default the connection but no destination: env has no project", () => {
    const config = loadConfig({ env: envJira });
    const tenant = config.tenants.get("default");
    assert.equal(tenant?.providers.jira, config.providers.jira);
    assert.equal(tenant?.destinations.size, 0);
  });
});

describe("JIRA_WEBHOOK_SECRET", () => {
  it("adds source jira (preset jira) to tenant default, after generic", () => {
    const config = loadConfig({
      env: { WEBHOOK_SECRET: "generic-secret-not-real", JIRA_WEBHOOK_SECRET: "jira-secret-not-real" },
    });
    const tenant = config.tenants.get("default");
    assert.deepEqual([...(tenant?.sources.keys() ?? [])], ["generic", "jira"]);
    assert.deepEqual(tenant?.sources.get("jira"), {
      id: "jira",
      tenant: "default",
      preset: "jira",
      profile: presetProfile("jira"),
      secrets: ["jira-secret-not-real"],
    });
    assert.deepEqual(tenant?.providers, {});
  });

  it("may be named by routes of the file's tenant default", () => {
    const yaml = `
tenants:
  - id: default
    destinations: [{ id: hook, type: webhook, url: "https://hooks.example.com/in" }]
    routes: [{ from: [jira], when: { type: "jira:issue_updated" }, to: [hook] }]
`;
    const tenant = loadYaml(yaml, { JIRA_WEBHOOK_SECRET: "jira-secret-not-real" }).tenants.get("default");
    assert.deepEqual([...(tenant?.sources.keys() ?? [])], ["jira"]);
    assert.deepEqual(tenant?.routes[0]?.from, ["jira"]);
  });

  it("conflicts with a jira source declared in the file", () => {
    const yaml = "tenants:\n  - id: default\n    sources: [{ id: jira, verify: none }]\n";
    assert.deepEqual(yamlProblems(yaml, { JIRA_WEBHOOK_SECRET: "jira-secret-not-real" }), [
      'env JIRA_WEBHOOK_SECRET: tenant "default" in ZEN_CONFIG already declares source "jira"; remove one of them',
    ]);
  });
});
