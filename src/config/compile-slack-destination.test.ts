import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarizeConfig } from "./summary.ts";
import { loadYaml, yamlProblems } from "./testing.ts";

const botToken = "slack-bot-token-not-real";

/** Tenant `acme` with the given destination lines (flow mappings). */
function acme(...destinations: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    destinations:",
    ...destinations.map((d) => `      - ${d}`),
    "",
  ].join("\n");
}

describe("slack destinations", () => {
  it("applies every default: SLACK_BOT_TOKEN, slack.com, thread, 30 s", () => {
    const destination = loadYaml(acme("{ id: alerts, type: slack, channel: C0123456789 }"), {
      SLACK_BOT_TOKEN: botToken,
    })
      .tenants.get("acme")
      ?.destinations.get("alerts");
    assert.deepEqual(destination, {
      type: "slack",
      id: "alerts",
      tenant: "acme",
      channel: "C0123456789",
      token: botToken,
      tokenFrom: "env",
      apiUrl: "https://slack.com/api/",
      onRepeat: "thread",
      timeoutMs: 30_000,
    });
  });

  it("compiles every key; its own token wins; SLACK_API_URL applies without any SLACK_* token", () => {
    const yaml = acme(
      [
        "{ id: alerts, type: slack, channel: G0123ABCD, token: env:ACME_SLACK_TOKEN, onRepeat: update,",
        "timeoutMs: 5000, rateLimit: { capacity: 5, refillPerSecond: 1 }, redact: false,",
        'templates: { text: "{{ event.type }}" } }',
      ].join(" "),
    );
    const config = loadYaml(yaml, {
      ACME_SLACK_TOKEN: " own-token-not-real\n",
      SLACK_API_URL: "http://127.0.0.1:9999/api",
    });
    const destination = config.tenants.get("acme")?.destinations.get("alerts");
    assert.equal(destination?.type, "slack");
    if (destination?.type !== "slack") return;
    assert.equal(destination.token, "own-token-not-real");
    assert.equal(destination.tokenFrom, "yaml");
    assert.equal(destination.apiUrl, "http://127.0.0.1:9999/api/");
    assert.equal(destination.onRepeat, "update");
    assert.equal(destination.timeoutMs, 5000);
    assert.deepEqual(destination.rateLimit, { capacity: 5, refillPerSecond: 1 });
    assert.equal(destination.redact, false);
    assert.deepEqual(destination.templates?.custom, ["text"]);
    const summary = summarizeConfig(config).join("\n");
    assert.match(
      summary,
      /destination alerts: slack to G0123ABCD via 127\.0\.0\.1:9999, own token, repeats update/,
    );
    assert.equal(summary.includes("own-token-not-real"), false);
  });

  it("no token at all is a problem naming the token field", () => {
    assert.deepEqual(yamlProblems(acme("{ id: alerts, type: slack, channel: C0123456789 }")), [
      "tenants[0].destinations[0].token: no Slack bot token: set token: env:NAME (or file:/path) here, providers.slack.botToken on the tenant, or SLACK_BOT_TOKEN",
    ]);
  });

  it("without its own token: the tenant's providers.slack.botToken wins over SLACK_BOT_TOKEN", () => {
    const yaml = [
      "tenants:",
      "  - id: acme",
      "    providers:",
      "      slack: { signingSecrets: [env:ACME_SLACK_SIGNING], botToken: env:ACME_SLACK_BOT }",
      "    destinations:",
      "      - { id: alerts, type: slack, channel: C0123456789 }",
      "",
    ].join("\n");
    const config = loadYaml(yaml, {
      ACME_SLACK_SIGNING: "signing-secret-not-real",
      ACME_SLACK_BOT: "tenant-bot-token-not-real",
      SLACK_BOT_TOKEN: botToken,
    });
    const destination = config.tenants.get("acme")?.destinations.get("alerts");
    assert.equal(destination?.type, "slack");
    if (destination?.type !== "slack") return;
    assert.equal(destination.token, "tenant-bot-token-not-real");
    assert.equal(destination.tokenFrom, "tenant");
    assert.match(summarizeConfig(config).join("\n"), /the tenant's bot token/);
  });

  it("refuses channel names, literal tokens, unknown onRepeat and unknown keys", () => {
    const problems = yamlProblems(
      acme(
        "{ id: a, type: slack, channel: '#alerts' }",
        "{ id: b, type: slack, channel: C0123456789, token: xoxb-literal-not-real }",
        "{ id: c, type: slack, channel: C0123456789, onRepeat: edit }",
        "{ id: d, type: slack, channel: C0123456789, url: https://x.example }",
        "{ id: e, type: slack, channel: C0123456789, token: env:UNSET_SLACK_TOKEN }",
      ),
      { SLACK_BOT_TOKEN: botToken },
    );
    assert.equal(problems.length, 5, problems.join("\n"));
    assert.match(problems[0] ?? "", /^tenants\[0\]\.destinations\[0\]\.channel: expected a Slack channel id/);
    assert.match(problems[1] ?? "", /^tenants\[0\]\.destinations\[1\]\.token: /);
    assert.equal(problems[1]?.includes("literal-not-real"), false, "the literal is not echoed");
    assert.match(problems[2] ?? "", /^tenants\[0\]\.destinations\[2\]\.onRepeat: /);
    assert.match(problems[3] ?? "", /^tenants\[0\]\.destinations\[3\]/);
    assert.match(problems[4] ?? "", /^tenants\[0\]\.destinations\[4\]\.token: .*UNSET_SLACK_TOKEN/);
  });
});
