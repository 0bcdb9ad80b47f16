import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { presetProfile } from "../intake/verify/presets.ts";
import { loadConfig } from "./load-config.ts";
import { loadYaml, problemsOf, yamlProblems } from "./testing.ts";

const secrets = {
  ACME_SLACK_OLD: "acme-signing-old-not-real",
  ACME_SLACK_NEW: "acme-signing-new-not-real",
  ACME_BOT: "xoxb-acme-bot-not-real",
  ACME_APP: "xapp-acme-app-not-real",
};

describe("SLACK_SIGNING_SECRET and SLACK_APP_TOKEN", () => {
  it("creates tenant default with source slack holding every rotated secret", () => {
    const config = loadConfig({
      env: { SLACK_SIGNING_SECRET: " old-secret-not-real , new-secret-not-real" },
    });
    const tenant = config.tenants.get("default");
    const source = tenant?.sources.get("slack");
    assert.deepEqual(source, {
      id: "slack",
      tenant: "default",
      preset: "slack",
      profile: presetProfile("slack"),
      secrets: ["old-secret-not-real", "new-secret-not-real"],
    });
    assert.deepEqual(tenant?.providers.slack, {
      signingSecrets: ["old-secret-not-real", "new-secret-not-real"],
      teams: [],
    });
  });

  it("reports an empty entry and a token that is no app-level token, without echoing values", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { SLACK_SIGNING_SECRET: "a-not-real,,b-not-real", SLACK_APP_TOKEN: "bot-not-real" },
      }),
    );
    assert.deepEqual(problems, [
      "env SLACK_SIGNING_SECRET: entry 2 is empty (a stray comma?)",
      "env SLACK_APP_TOKEN: expected an app-level token (starts with xapp-; value not shown)",
    ]);
  });

  it("gives a Socket Mode-only default tenant a source with no secrets", () => {
    const config = loadConfig({ env: { SLACK_APP_TOKEN: "xapp-1-not-real" } });
    const tenant = config.tenants.get("default");
    assert.deepEqual(tenant?.sources.get("slack")?.secrets, []);
    assert.equal(tenant?.providers.slack?.appToken, "xapp-1-not-real");
  });

  it("falls back to env for a file tenant default without providers.slack; routes may name slack", () => {
    const config = loadYaml(
      [
        "tenants:",
        "  - id: default",
        "    destinations: [{ id: hook, type: webhook, url: https://hooks.example.com/in }]",
        "    routes: [{ from: [slack], to: [hook] }]",
      ].join("\n"),
      { SLACK_SIGNING_SECRET: "env-secret-not-real" },
    );
    assert.deepEqual(config.tenants.get("default")?.sources.get("slack")?.secrets, ["env-secret-not-real"]);
  });

  it("refuses a file tenant default that also declares source slack", () => {
    const problems = yamlProblems("tenants:\n  - id: default\n    sources: [{ id: slack, verify: none }]\n", {
      SLACK_SIGNING_SECRET: "env-secret-not-real",
    });
    assert.deepEqual(problems, [
      'env SLACK_SIGNING_SECRET: tenant "default" also declares source "slack"; the Slack app creates it: remove the source',
    ]);
  });
});

describe("providers.slack in the file", () => {
  const yaml = (slack: string, extra = "") =>
    `tenants:\n  - id: acme\n    providers:\n      slack: ${slack}\n${extra}`;

  it("compiles secrets, teams and tokens, and creates source slack", () => {
    const config = loadYaml(
      yaml(
        "{ signingSecrets: [env:ACME_SLACK_OLD, env:ACME_SLACK_NEW], teams: [T0ACME1, E0GRID1], botToken: env:ACME_BOT, appToken: env:ACME_APP }",
      ),
      secrets,
    );
    const acme = config.tenants.get("acme");
    assert.deepEqual(acme?.providers.slack, {
      signingSecrets: ["acme-signing-old-not-real", "acme-signing-new-not-real"],
      teams: ["T0ACME1", "E0GRID1"],
      botToken: "xoxb-acme-bot-not-real",
      appToken: "xapp-acme-app-not-real",
    });
    assert.deepEqual(acme?.sources.get("slack")?.secrets, [
      "acme-signing-old-not-real",
      "acme-signing-new-not-real",
    ]);
    assert.ok(Object.isFrozen(acme?.providers.slack?.teams));
  });

  it("a bot token alone creates no source", () => {
    const config = loadYaml(yaml("{ botToken: env:ACME_BOT }"), secrets);
    assert.equal(config.tenants.get("acme")?.sources.has("slack"), false);
  });

  it("names the field of every problem", () => {
    const problems = yamlProblems(
      yaml(
        "{ signingSecrets: [literal-not-real, env:UNSET_SECRET], teams: [acme, T0ACME1, T0ACME1], appToken: env:ACME_BOT, colour: blue }",
      ),
      secrets,
    );
    assert.deepEqual(problems, [
      "tenants[0].providers.slack.signingSecrets[0]: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
      'tenants[0].providers.slack.teams[0]: expected a Slack workspace id (T… or E…, upper-case letters and digits), got "acme"',
      "tenants[0].providers.slack.colour: unknown key; allowed keys: signingSecrets, teams, botToken, appToken",
    ]);
    const second = yamlProblems(
      yaml("{ signingSecrets: [env:UNSET_SECRET], teams: [T0ACME1, T0ACME1], appToken: env:ACME_BOT }"),
      secrets,
    );
    assert.deepEqual(second, [
      "tenants[0].providers.slack.signingSecrets[0]: environment variable UNSET_SECRET is not set",
      "tenants[0].providers.slack.appToken: the referenced value: expected an app-level token (starts with xapp-; value not shown)",
      "tenants[0].providers.slack.teams: lists a team twice",
    ]);
    assert.ok([...problems, ...second].every((line) => !line.includes("not-real")));
  });

  it("refuses teams nothing could reach, an empty secret list, and a second source slack", () => {
    assert.deepEqual(yamlProblems(yaml("{ teams: [T0ACME1], botToken: env:ACME_BOT }"), secrets), [
      "tenants[0].providers.slack: lists teams but has neither signingSecrets (HTTP) nor appToken (Socket Mode): no request could reach the tenant",
    ]);
    assert.match(yamlProblems(yaml("{ signingSecrets: [] }"), secrets)[0] ?? "", /signingSecrets/);
    assert.deepEqual(
      yamlProblems(
        yaml("{ signingSecrets: [env:ACME_SLACK_OLD] }", "    sources: [{ id: slack, verify: none }]\n"),
        secrets,
      ),
      [
        'tenants[0].providers.slack: tenant "acme" also declares source "slack"; the Slack app creates it: remove the source',
      ],
    );
  });

  it("refuses a team listed by two tenants, at the second listing", () => {
    const problems = yamlProblems(
      [
        "tenants:",
        "  - id: acme",
        "    providers: { slack: { signingSecrets: [env:ACME_SLACK_OLD], teams: [T0SHARED] } }",
        "  - id: beta",
        "    providers: { slack: { signingSecrets: [env:ACME_SLACK_NEW], teams: [T0BETA, T0SHARED] } }",
      ].join("\n"),
      secrets,
    );
    assert.deepEqual(problems, [
      'tenants[1].providers.slack.teams[1]: team T0SHARED is already listed by tenant "acme"; a team belongs to one tenant',
    ]);
  });

  it("keeps a file tenant default's own Slack app over the env one", () => {
    const config = loadYaml(
      "tenants:\n  - id: default\n    providers: { slack: { signingSecrets: [env:ACME_SLACK_NEW] } }\n",
      { ...secrets, SLACK_SIGNING_SECRET: "env-secret-not-real" },
    );
    assert.deepEqual(config.tenants.get("default")?.sources.get("slack")?.secrets, [
      "acme-signing-new-not-real",
    ]);
  });
});
