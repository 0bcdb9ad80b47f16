import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactionKinds } from "../redaction/kinds.ts";
import { hashNamespace } from "../redaction/namespace-labeler.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { redactText } from "../redaction/redact-text.ts";
import { checkConfig } from "./check-config.ts";
import { redactionOptOuts, startupWarnings } from "./startup-warnings.ts";
import { fakeFiles, loadYaml, testConfigPath, yamlProblems } from "./testing.ts";

const hashKey = "ns-hash-key-0123456789-not-real";

function tenantOf(yaml: string, env: Record<string, string> = {}) {
  const tenant = loadYaml(yaml, env).tenants.get("acme");
  assert.ok(tenant);
  return tenant;
}

describe("tenant redaction policy", () => {
  it("compiles rules, hashed namespaces with an allowlist and extra patterns once, at load", () => {
    const tenant = tenantOf(
      [
        "tenants:",
        "  - id: acme",
        "    redaction:",
        "      rules: [email, token, namespace, custom]",
        "      namespaces: { mode: hash, hashKey: env:NS_HASH_KEY, allow: [kube-system, 'team-*'] }",
        "      extraPatterns:",
        "        - { name: ticket, pattern: 'TCK-[0-9]{6}', replacement: '[TICKET]' }",
      ].join("\n"),
      { NS_HASH_KEY: hashKey },
    );
    const policy = tenant.redaction;
    assert.deepEqual([...policy.enabled].sort(), ["custom", "email", "namespace", "token"]);
    assert.equal(policy.namespaces.mode, "hash");
    assert.deepEqual(policy.extraPatternNames, ["ticket"]);
    const label = hashNamespace("payments", Buffer.from(hashKey, "utf8"));
    assert.equal(
      redactText(
        "namespace=payments namespace=kube-system namespace=team-a TCK-123456 10.0.0.1 a@b.io",
        policy,
      ).text,
      `namespace=${label} namespace=kube-system namespace=team-a [TICKET] 10.0.0.1 [REDACTED_EMAIL]`,
    );
  });

  it("a tenant without redaction: gets the default policy: every kind, namespaces redacted", () => {
    const config = loadYaml("tenants:\n  - id: acme\n");
    const policy = config.tenants.get("acme")?.redaction;
    assert.equal(policy, defaultRedactionPolicy());
    assert.equal(policy?.enabled.size, redactionKinds.length);
    assert.equal(policy?.namespaces.mode, "redact");
    assert.ok(Object.isFrozen(config.tenants.get("acme")));
    assert.ok(Object.isFrozen(policy));
  });

  it("reports every problem at its YAML path, with did-you-mean for kinds and keys", () => {
    const problems = yamlProblems(
      [
        "tenants:",
        "  - id: acme",
        "    redaction:",
        "      rules: [email, emial, bogus-kind]",
        "      namespace: {}",
        "  - id: beta",
        "    redaction:",
        "      namespaces: { mode: hash, allow: ['Bad Name', 'kube-*'] }",
        "      extraPatterns:",
        "        - { name: ok, pattern: 'ACME-[0-9]{8}' }",
        "        - { name: slow, pattern: '(a+)+' }",
        "        - { name: broken, pattern: 'ACME-[0-9' }",
        "  - id: gamma",
        "    redaction: { namespaces: { mode: hash, hashKey: env:SHORT_KEY } }",
        "  - id: delta",
        "    redaction: { namespaces: { mode: hash, hashKey: a-literal-key-not-real } }",
        "  - id: epsilon",
        "    redaction: { namespaces: { mode: hash, hashKey: env:UNSET_KEY } }",
      ].join("\n"),
      { SHORT_KEY: "short" },
    );
    assert.deepEqual(problems, [
      'tenants[0].redaction.rules[1]: unknown redaction kind "emial" (did you mean "email"?)',
      `tenants[0].redaction.rules[2]: unknown redaction kind "bogus-kind"; known kinds: ${redactionKinds.join(", ")}`,
      'tenants[0].redaction.namespace: unknown key (did you mean "namespaces"?)',
      "tenants[1].redaction.namespaces.hashKey: required when mode is hash",
      "tenants[1].redaction.namespaces.allow[0]: a namespace name, or a prefix ending in *",
      "tenants[1].redaction.extraPatterns[1].pattern: repeats a group that contains a quantifier or an alternation (catastrophic backtracking)",
      "tenants[1].redaction.extraPatterns[2].pattern: has an unterminated character class",
      "tenants[2].redaction.namespaces.hashKey: must be at least 16 bytes",
      "tenants[3].redaction.namespaces.hashKey: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
      "tenants[4].redaction.namespaces.hashKey: environment variable UNSET_KEY is not set",
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });
});

describe("redact: false", () => {
  const yaml = [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      jira: { url: https://acme.atlassian.net, email: ops@example.com, token: env:ACME_JIRA_TOKEN }",
    "      servicenow: { instance: acme.service-now.com, username: zen, password: env:ACME_SN_PASSWORD }",
    "    destinations:",
    "      - { id: raw-hook, type: webhook, url: https://raw.example.com/in, redact: false }",
    "      - { id: hook, type: webhook, url: https://ok.example.com/in }",
    "      - { id: explicit, type: webhook, url: https://ok.example.com/in, redact: true }",
    "      - { id: tickets, type: jira, project: OPS, redact: false }",
    "      - { id: incidents, type: servicenow, redact: false }",
  ].join("\n");
  const env = { ACME_JIRA_TOKEN: "jira-token-not-real", ACME_SN_PASSWORD: "sn-password-not-real" };

  it("is kept on every destination type; absent or true means redacted", () => {
    const destinations = tenantOf(yaml, env).destinations;
    assert.equal(destinations.get("raw-hook")?.redact, false);
    assert.equal(destinations.get("tickets")?.redact, false);
    assert.equal(destinations.get("incidents")?.redact, false);
    assert.ok(!("redact" in (destinations.get("hook") ?? {})));
    assert.ok(!("redact" in (destinations.get("explicit") ?? {})));
    assert.deepEqual(
      yamlProblems(
        "tenants:\n  - id: acme\n    destinations: [{ id: h, type: webhook, url: https://x.example, redact: no }]\n",
      ),
      ["tenants[0].destinations[0].redact: expected true or false, got a string"],
    );
  });

  it("is named by a startup warning and in the zen config check summary", () => {
    const config = loadYaml(yaml, env);
    assert.deepEqual(
      redactionOptOuts(config).map((o) => `${o.tenant}/${o.destination}`),
      ["acme/raw-hook", "acme/tickets", "acme/incidents"],
    );
    assert.deepEqual(
      startupWarnings(config).map((w) => w.message),
      [
        "redaction is off for destination acme/raw-hook (redact: false): its events are sent unredacted",
        "redaction is off for destination acme/tickets (redact: false): its events are sent unredacted",
        "redaction is off for destination acme/incidents (redact: false): its events are sent unredacted",
      ],
    );
    const result = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, ...env },
      readFile: fakeFiles({ [testConfigPath]: yaml }),
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(
      result.summary.includes(
        "WARNING: redaction is OFF (redact: false) for acme/raw-hook, acme/tickets, acme/incidents: their events are sent unredacted",
      ),
      result.summary.join("\n"),
    );
    assert.ok(
      result.summary.includes(
        "  destination raw-hook: webhook to https://raw.example.com, unsigned, timeout 30s; REDACTION OFF (redact: false)",
      ),
    );
    assert.ok(
      result.summary.includes("  destination hook: webhook to https://ok.example.com, unsigned, timeout 30s"),
    );
  });

  it("zen config check shows a tenant's own policy, never its hash key", () => {
    const own = [
      "tenants:",
      "  - id: acme",
      "    redaction:",
      "      rules: [email, ip]",
      "      namespaces: { mode: hash, hashKey: env:NS_HASH_KEY }",
      "      extraPatterns: [{ name: ticket, pattern: 'TCK-[0-9]{6}' }]",
    ].join("\n");
    const result = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, NS_HASH_KEY: hashKey },
      readFile: fakeFiles({ [testConfigPath]: own }),
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(
      result.summary.includes(
        "tenant acme: 0 sources, 0 destinations, 0 routes; redaction kinds email, ip, namespaces hashed, extra patterns ticket",
      ),
      result.summary.join("\n"),
    );
    assert.ok(!result.summary.join("\n").includes("not-real"));
    assert.ok(!result.summary.some((line) => line.startsWith("WARNING")));
  });
});
