import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkConfig } from "./check-config.ts";
import { fakeFiles, testConfigPath } from "./testing.ts";

const examplePath = fileURLToPath(new URL("../../examples/zen.yaml", import.meta.url));
const ticketsPath = fileURLToPath(new URL("../../examples/tickets.yaml", import.meta.url));

/** Fake values for every variable examples/zen.yaml references. */
const exampleEnv = {
  ZEN_CONFIG: examplePath,
  GITHUB_WEBHOOK_SECRET: "test-secret-not-real",
  STRIPE_WEBHOOK_SECRET: "whsec_test-secret-not-real",
  BILLING_WEBHOOK_SECRET: "whsec_dGVzdC1zZWNyZXQtbm90LXJlYWw=",
  BILLING_WEBHOOK_SECRET_OLD: "whsec_b2xkLXRlc3Qtc2VjcmV0LW5vdC1yZWFs",
  ACME_MONITOR_SECRET: "test-secret-not-real",
  OPS_HOOK_SECRET: "whsec_dGVzdC1zZWNyZXQtbm90LXJlYWw=",
  OPS_HOOK_TOKEN: "Bearer test-token-not-real",
  CHAT_WEBHOOK_URL: "https://chat.example.com/hooks/T000/B000/test-token-not-real",
  WEBHOOK_SECRET: "test-secret-not-real",
  ZEN_ADMIN_TOKEN: "test-token-not-real",
  SLACK_BOT_TOKEN: "xoxb-test-token-not-real",
  ACME_NS_HASH_KEY: "test-namespace-hash-key-not-real",
};

/** Fake values for every variable examples/tickets.yaml references. */
const ticketsEnv = {
  ZEN_CONFIG: ticketsPath,
  ACME_JIRA_URL: "https://acme.atlassian.net",
  ACME_JIRA_EMAIL: "ops@example.com",
  ACME_JIRA_TOKEN: "test-token-not-real",
  ACME_SN_USER: "zen",
  ACME_SN_PASSWORD: "test-password-not-real",
  ACME_MONITOR_SECRET: "test-secret-not-real",
  ACME_JIRA_HOOK_SECRET: "test-secret-not-real",
  CHAT_WEBHOOK_URL: "https://chat.example.com/hooks/T000/B000/test-token-not-real",
};

describe("checkConfig", () => {
  it("summarizes examples/zen.yaml without any secret", () => {
    const result = checkConfig({ env: exampleEnv });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    const text = result.summary.join("\n");
    assert.ok(!/not-real|dGVzdC|hooks\/T000/.test(text), text);
    assert.deepEqual(result.summary, [
      `config file: ${examplePath}`,
      "listen: 0.0.0.0:8080; data dir: ./data; log level: info",
      "admin API: on",
      "ticket API (POST /jira/issue, /servicenow/ticket): on (ZEN_ADMIN_TOKEN; ZEN_API_TOKEN unset)",
      "generic webhook /webhooks/generic: on",
      "Jira webhook /jira/webhook: off (JIRA_WEBHOOK_SECRET unset)",
      "providers: slack",
      "queue: 3 attempts, lease 1m, concurrency 16, DLQ kept 7d",
      "guards: default rate limit 100 burst, 10/s per tenant and provider; circuit breaker opens after 5 failures for 1m",
      "egress: private addresses refused; allowed CIDRs: none",
      "tenant acme: 4 sources, 3 destinations, 5 routes; rate limit 50 burst, 5/s; redaction all 16 kinds, namespaces hashed, extra patterns ticket-id",
      '  source github: preset github: hmac-sha256 in x-hub-signature-256 over "{body}", 1 secret',
      '  source stripe: preset stripe: hmac-sha256 in stripe-signature over "{timestamp}.{body}", timestamp ±300s, 1 secret',
      '  source billing: preset standard-webhooks: hmac-sha256 in webhook-signature over "{id}.{timestamp}.{body}", timestamp ±300s, 2 secrets',
      '  source monitor: custom: hmac-sha256 in x-monitor-signature over "{id}.{timestamp}.{body}", timestamp ±300s, 1 secret; intake rate limit 20 burst, 30/min',
      "  destination ops-hook: webhook to https://ops.example.com, signed, timeout 10s, headers: authorization, x-team",
      "  destination chat: webhook to https://chat.example.com, unsigned, timeout 30s; rate limit 5 burst, 1/s; custom templates body",
      "  destination alerts: slack to C0123456789 via slack.com, token SLACK_BOT_TOKEN, repeats thread, timeout 30s",
      "  route 0: from github; type push; data.ref refs/heads/main → ops-hook",
      "  route 1: from github; type pull_request; data.action opened → chat",
      "    templates for chat: body",
      "  route 2: from stripe, billing; type invoice.payment_failed | charge.dispute.* → ops-hook, chat",
      "  route 3: from monitor; data.alert.severity high | critical → chat",
      "  route 4: from monitor; data.alert.severity critical → alerts",
      "tenant default: 1 source, 0 destinations, 0 routes",
      '  source generic: preset generic: hmac-sha256 in x-signature over "{timestamp}.{body}", timestamp ±300s, 1 secret',
    ]);
  });

  it("shows the egress policy, the guards and every rate limit", () => {
    const yaml = `
tenants:
  - id: acme
    rateLimit: { capacity: 500, refillPerSecond: 0.002 }
    intakeRateLimit: { capacity: 40, refillPerSecond: 16.666666 }
    sources: [{ id: open, verify: none, rateLimit: { capacity: 3, refillPerSecond: 0.25 } }]
    destinations: [{ id: hook, type: webhook, url: "https://h.example.com/x", rateLimit: { capacity: 1, refillPerSecond: 1 } }]
`;
    const result = checkConfig({
      env: {
        ZEN_CONFIG: testConfigPath,
        ZEN_EGRESS_ALLOW_PRIVATE: "true",
        ZEN_EGRESS_ALLOW_CIDRS: "10.20.0.0/16, FD00::/8",
        RATE_LIMIT_CAPACITY: "20",
        RATE_LIMIT_REFILL_RATE: "0.5",
        CIRCUIT_BREAKER_MAX_FAILURES: "1",
        CIRCUIT_BREAKER_TIMEOUT: "90",
      },
      readFile: fakeFiles({ [testConfigPath]: yaml }),
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.deepEqual(result.summary.slice(8), [
      "guards: default rate limit 20 burst, 30/min per tenant and provider; circuit breaker opens after 1 failure for 90s",
      "egress: private addresses allowed (ZEN_EGRESS_ALLOW_PRIVATE), cloud metadata endpoints still refused; allowed CIDRs: 10.20.0.0/16, fd00::/8",
      "tenant acme: 1 source, 1 destination, 0 routes; rate limit 500 burst, 7.2/h; intake rate limit 40 burst, 16.67/s",
      "  source open: custom: NOT VERIFIED (verify: none); intake rate limit 3 burst, 15/min",
      "  destination hook: webhook to https://h.example.com, unsigned, timeout 30s; rate limit 1 burst, 1/s",
    ]);
  });

  it("keeps the examples free of literal secrets", () => {
    for (const path of [examplePath, ticketsPath]) {
      const text = readFileSync(path, "utf8");
      assert.ok(!/whsec_[A-Za-z0-9]|xox[bp]-|Bearer [A-Za-z0-9]|(token|password): [^e]/.test(text), path);
    }
  });

  it("summarizes examples/tickets.yaml without any secret, user name or e-mail", () => {
    const result = checkConfig({ env: ticketsEnv });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    const text = result.summary.join("\n");
    assert.ok(!/not-real|ops@example|zen\b|hooks\/T000/.test(text), text);
    assert.deepEqual(result.summary.slice(3, 7), [
      "ticket API (POST /jira/issue, /servicenow/ticket): off (ZEN_API_TOKEN and ZEN_ADMIN_TOKEN unset)",
      "generic webhook /webhooks/generic: off (WEBHOOK_SECRET unset)",
      "Jira webhook /jira/webhook: off (JIRA_WEBHOOK_SECRET unset)",
      "providers: none",
    ]);
    assert.deepEqual(result.summary.slice(10), [
      "tenant acme: 2 sources, 3 destinations, 2 routes; connections: jira acme.atlassian.net (yaml), servicenow acme.service-now.com (yaml)",
      '  source monitor: custom: hmac-sha256 in x-monitor-signature over "{timestamp}.{body}", timestamp ±300s, 1 secret',
      '  source jira: preset jira: hmac-sha256 in x-hub-signature over "{body}", 1 secret',
      '  destination tickets: jira to acme.atlassian.net (yaml), project OPS, issue type Bug, labels monitoring, fingerprint data.alert.id, resolved when data.status resolved, resolve with "Done", recurrence reopens with "Reopen", timeout 30s',
      '  destination incidents: servicenow to acme.service-now.com (yaml), table incident, assignment group Platform Operations, fingerprint data.alert.id, resolved when data.status resolved, close code "Resolved by caller", recurrence opens a new incident, timeout 30s',
      "  destination chat: webhook to https://chat.example.com, unsigned, timeout 30s",
      "  route 0: from monitor; severity high | critical → tickets, incidents",
      "  route 1: from jira; type jira:issue_updated; data.issue.fields.status.name Done → chat",
    ]);
  });

  it("describes env connections, what they serve, and the ticket API, never credentials", () => {
    const result = checkConfig({
      env: {
        ZEN_API_TOKEN: "test-token-not-real",
        JIRA_URL: "https://bot:pw-not-real@jira.example.com:8443/jira",
        JIRA_TOKEN: "test-token-not-real",
        SERVICENOW_INSTANCE: "env.service-now.com",
        SERVICENOW_USERNAME: "zen",
        SERVICENOW_PASSWORD: "test-password-not-real",
        JIRA_WEBHOOK_SECRET: "test-secret-not-real",
      },
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(!/not-real|bot:|8443\/jira/.test(result.summary.join("\n")));
    assert.deepEqual(
      result.summary.filter(
        (line) => !/^(config file|listen|queue|guards|egress|admin API|generic)/.test(line),
      ),
      [
        "ticket API (POST /jira/issue, /servicenow/ticket): on (ZEN_API_TOKEN)",
        "Jira webhook /jira/webhook: on (tenant default, source jira)",
        "providers: jira, servicenow",
        "Jira connection from env (jira.example.com:8443): available to POST /jira/issue; add a destination with a project to route events",
        "ServiceNow connection from env (env.service-now.com): available to POST /servicenow/ticket; used by destination servicenow of tenant default",
        "tenant default: 1 source, 1 destination, 0 routes; connections: jira jira.example.com:8443 (env), servicenow env.service-now.com (env)",
        '  source jira: preset jira: hmac-sha256 in x-hub-signature over "{body}", 1 secret',
        '  destination servicenow: servicenow to env.service-now.com (env), table incident, resolved when data.status resolved, close code "Resolved by caller", recurrence opens a new incident, timeout 30s',
      ],
    );
  });

  it("names the destinations using the env Jira connection, and an unused one", () => {
    const yaml = `
tenants:
  - id: default
    destinations: [{ id: tickets, type: jira, project: OPS, resolvedWhen: {} }]
  - id: acme
    providers: { servicenow: { instance: "http://127.0.0.1:4020", username: zen, password: env:SN_PASSWORD } }
`;
    const env = {
      ZEN_CONFIG: testConfigPath,
      JIRA_URL: "https://env.atlassian.net",
      JIRA_TOKEN: "test-token-not-real",
      SN_PASSWORD: "test-password-not-real",
    };
    const result = checkConfig({ env, readFile: fakeFiles({ [testConfigPath]: yaml }) });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(
      result.summary.includes(
        "Jira connection from env (env.atlassian.net): available to POST /jira/issue; used by destination tickets of tenant default",
      ),
    );
    assert.ok(
      result.summary.includes(
        '  destination tickets: jira to env.atlassian.net (env), project OPS, issue type Task, never resolved by an event, resolve with "Done", recurrence opens a new issue, timeout 30s',
      ),
    );
    assert.ok(
      result.summary.includes(
        "tenant acme: 0 sources, 0 destinations, 0 routes; connections: servicenow 127.0.0.1:4020 (yaml)",
      ),
    );
    const own = yaml.replace(
      "  - id: default\n",
      "  - id: default\n    providers: { jira: { url: https://own.atlassian.net, token: env:JIRA_TOKEN } }\n",
    );
    const overridden = checkConfig({ env, readFile: fakeFiles({ [testConfigPath]: own }) });
    assert.ok(overridden.ok, overridden.ok ? "" : overridden.problems.join("\n"));
    assert.ok(
      overridden.summary.includes(
        "Jira connection from env (env.atlassian.net): unused, tenant default declares its own providers.jira",
      ),
    );
  });

  it("marks unverified sources loudly", () => {
    const yaml = "tenants:\n  - id: acme\n    sources: [{ id: open, verify: none }]\n";
    const result = checkConfig({
      env: { ZEN_CONFIG: testConfigPath },
      readFile: fakeFiles({ [testConfigPath]: yaml }),
    });
    assert.ok(result.ok);
    assert.ok(result.summary.includes("  source open: custom: NOT VERIFIED (verify: none)"));
  });

  it("returns every problem instead of throwing", () => {
    const result = checkConfig({ env: { ZEN_CONFIG: examplePath, PORT: "http" } });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problems.length === 11, !result.ok ? result.problems.join("\n") : "");
    assert.ok(!result.ok && result.problems[0] === 'env PORT: expected a non-negative integer, got "http"');
  });
});
