import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load-config.ts";
import { fakeFiles, loadYaml, problemsOf, yamlProblems } from "./testing.ts";

const secretEnv = {
  JIRA_TOKEN_ACME: "jira-token-not-real",
  SN_PASSWORD_ACME: "sn-password-not-real",
  JIRA_SITE: "https://acme.atlassian.net/ ",
};

/** Tenant `acme` with `providers:` given as YAML lines under it (already indented by 6). */
function withProviders(...lines: string[]): string {
  return ["tenants:", "  - id: acme", "    providers:", ...lines.map((line) => `      ${line}`), ""].join(
    "\n",
  );
}

const envJira = {
  JIRA_URL: "https://env.atlassian.net",
  JIRA_EMAIL: "ops@example.com",
  JIRA_TOKEN: "env-jira-token-not-real",
};
const envServiceNow = {
  SERVICENOW_INSTANCE: "env.service-now.com",
  SERVICENOW_USERNAME: "zen",
  SERVICENOW_PASSWORD: "env-sn-password-not-real",
};

describe("tenant providers", () => {
  it("compiles jira and servicenow blocks, normalized like the env vars", () => {
    const config = loadYaml(
      withProviders(
        "jira: { url: https://acme.atlassian.net, email: ops@example.com, token: env:JIRA_TOKEN_ACME }",
        "servicenow: { instance: acme.service-now.com, username: zen, password: env:SN_PASSWORD_ACME }",
      ),
      secretEnv,
    );
    assert.deepEqual(config.tenants.get("acme")?.providers, {
      jira: { url: "https://acme.atlassian.net/", token: "jira-token-not-real", email: "ops@example.com" },
      servicenow: {
        instanceUrl: "https://acme.service-now.com",
        username: "zen",
        password: "sn-password-not-real",
      },
    });
  });

  it("takes url, instance and username from references, and a full instance URL as given", () => {
    const config = loadYaml(
      withProviders(
        "jira: { url: env:JIRA_SITE, token: file:secrets/jira }",
        "servicenow: { instance: http://127.0.0.1:4020, username: env:SN_USER, password: env:SN_PASSWORD_ACME }",
      ),
      { ...secretEnv, SN_USER: "svc-zen" },
      { "/etc/zen/secrets/jira": "file-token-not-real\n" },
    );
    assert.deepEqual(config.tenants.get("acme")?.providers, {
      // No email: a bearer token (Jira Data Center PAT).
      jira: { url: "https://acme.atlassian.net/", token: "file-token-not-real" },
      servicenow: {
        instanceUrl: "http://127.0.0.1:4020/",
        username: "svc-zen",
        password: "sn-password-not-real",
      },
    });
  });

  it("is {} on a tenant without providers", () => {
    const config = loadYaml("tenants:\n  - id: acme\n  - id: beta\n    providers: {}\n");
    assert.deepEqual(config.tenants.get("acme")?.providers, {});
    assert.deepEqual(config.tenants.get("beta")?.providers, {});
    assert.ok(Object.isFrozen(config.tenants.get("acme")?.providers));
  });

  it("names the missing field of a half-configured block", () => {
    const problems = yamlProblems(
      withProviders(
        "jira: { url: https://acme.atlassian.net }",
        "servicenow: { instance: acme.service-now.com }",
      ),
    );
    assert.deepEqual(problems, [
      "tenants[0].providers.jira.token: required",
      "tenants[0].providers.servicenow.username: required",
      "tenants[0].providers.servicenow.password: required",
    ]);
  });

  it("refuses literal secrets and unknown keys without echoing values", () => {
    const problems = yamlProblems(
      withProviders(
        "jira: { url: https://acme.atlassian.net, token: jira-literal-not-real, emial: ops@example.com }",
        "servicenow: { instance: acme.service-now.com, username: zen, password: pw-literal-not-real }",
        "zendesk: { token: env:X }",
      ),
    );
    assert.deepEqual(problems, [
      "tenants[0].providers.zendesk: unknown key; allowed keys: jira, servicenow, slack",
      "tenants[0].providers.jira.token: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
      'tenants[0].providers.jira.emial: unknown key (did you mean "email"?)',
      "tenants[0].providers.servicenow.password: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });

  it("checks every value, never echoing a URL", () => {
    const problems = yamlProblems(
      withProviders(
        "jira: { url: https://bot:pw-not-real@acme.atlassian.net, email: ops, token: env:UNSET }",
        "servicenow: { instance: acme service-now, username: env:UNSET_USER, password: file:/run/none }",
      ),
    );
    assert.deepEqual(problems, [
      "tenants[0].providers.jira.url: must not carry credentials in the file; write the URL as env:NAME or file:/path",
      "tenants[0].providers.jira.email: expected an e-mail address (the Atlassian account of the token)",
      "tenants[0].providers.jira.token: environment variable UNSET is not set",
      "tenants[0].providers.servicenow.instance: expected a host name (acme.service-now.com) or an http(s) URL",
      "tenants[0].providers.servicenow.username: environment variable UNSET_USER is not set",
      "tenants[0].providers.servicenow.password: cannot read secret file /run/none: no such file",
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });

  it("checks referenced URLs too, and accepts credentials only there", () => {
    const yaml = withProviders(
      "jira: { url: env:JIRA_SITE, token: env:JIRA_TOKEN_ACME }",
      "servicenow: { instance: env:SN_SITE, username: zen, password: env:SN_PASSWORD_ACME }",
    );
    assert.deepEqual(
      yamlProblems(yaml, { ...secretEnv, JIRA_SITE: "mailto:x@example.com", SN_SITE: "ftp://x" }),
      [
        "tenants[0].providers.jira.url: the referenced value: expected a http:// or https:// URL, not mailto://",
        "tenants[0].providers.servicenow.instance: the referenced value: expected a http:// or https:// URL, not ftp://",
      ],
    );
    const config = loadYaml(yaml, {
      ...secretEnv,
      JIRA_SITE: "https://bot:pw-not-real@jira.example.com",
      SN_SITE: "sn.example.com",
    });
    assert.equal(
      config.tenants.get("acme")?.providers.jira?.url,
      "https://bot:pw-not-real@jira.example.com/",
    );
  });

  it("refuses a block that is not a mapping", () => {
    assert.deepEqual(yamlProblems(withProviders("jira:", "servicenow: [x]")), [
      "tenants[0].providers.jira: expected a mapping, got null",
      "tenants[0].providers.servicenow: expected a mapping, got a list",
    ]);
    // The jira destination does not add "needs a Jira connection": the block's problem says it all.
    const yaml =
      "tenants:\n  - id: acme\n    providers: jira\n    destinations: [{ id: t, type: jira, project: OPS }]\n";
    assert.deepEqual(yamlProblems(yaml), ["tenants[0].providers: expected a mapping, got a string"]);
    assert.deepEqual(yamlProblems("tenants:\n  - id: acme\n    provider: {}\n"), [
      'tenants[0].provider: unknown key (did you mean "providers"?)',
    ]);
  });
});

describe("env connections and tenant default", () => {
  it("gives tenant default the env connections, sharing the objects with config.providers", () => {
    const config = loadYaml("tenants:\n  - id: default\n  - id: acme\n", { ...envJira, ...envServiceNow });
    const tenant = config.tenants.get("default");
    assert.deepEqual(tenant?.providers, {
      jira: { url: "https://env.atlassian.net/", email: "ops@example.com", token: "env-jira-token-not-real" },
      servicenow: {
        instanceUrl: "https://env.service-now.com",
        username: "zen",
        password: "env-sn-password-not-real",
      },
    });
    assert.equal(tenant?.providers.jira, config.providers.jira);
    assert.equal(tenant?.providers.servicenow, config.providers.servicenow);
    assert.ok(Object.isFrozen(tenant?.providers) && Object.isFrozen(tenant?.providers.jira));
    assert.throws(() => {
      (tenant?.providers as { jira?: unknown }).jira = undefined;
    }, TypeError);
    // Only `default` falls back to env.
    assert.deepEqual(config.tenants.get("acme")?.providers, {});
  });

  it("lets tenant default declare its own connection per provider", () => {
    const yaml = [
      "tenants:",
      "  - id: default",
      "    providers:",
      "      jira: { url: https://own.atlassian.net, token: env:JIRA_TOKEN_ACME }",
      "",
    ].join("\n");
    const config = loadYaml(yaml, { ...secretEnv, ...envJira, ...envServiceNow });
    const providers = config.tenants.get("default")?.providers;
    assert.deepEqual(providers?.jira, { url: "https://own.atlassian.net/", token: "jira-token-not-real" });
    assert.equal(providers?.servicenow, config.providers.servicenow);
  });

  it("does not fall back to env when the tenant's own block is broken", () => {
    const yaml = [
      "tenants:",
      "  - id: default",
      "    providers:",
      "      jira: { url: https://own.atlassian.net }",
      "    destinations:",
      "      - { id: t, type: jira, project: OPS }",
      "",
    ].join("\n");
    // One line: the destination does not repeat that its connection is missing.
    assert.deepEqual(yamlProblems(yaml, envJira), ["tenants[0].providers.jira.token: required"]);
  });

  it("creates tenant default for an env connection alone", () => {
    const config = loadConfig({ env: envJira });
    const tenant = config.tenants.get("default");
    assert.deepEqual([...config.tenants.keys()], ["default"]);
    assert.deepEqual(tenant?.providers, { jira: config.providers.jira });
    assert.equal(tenant?.sources.size, 0);
    assert.equal(tenant?.destinations.size, 0);
  });

  it("reports a half-configured env provider once, not again for the destinations needing it", () => {
    const yaml = [
      "tenants:",
      "  - id: default",
      "    destinations:",
      "      - { id: t, type: jira, project: OPS }",
      "      - { id: s, type: servicenow }",
      "",
    ].join("\n");
    const problems = problemsOf(() =>
      loadConfig({
        env: { ZEN_CONFIG: "/z.yaml", JIRA_URL: "https://env.atlassian.net", SERVICENOW_USERNAME: "zen" },
        readFile: fakeFiles({ "/z.yaml": yaml }),
      }),
    );
    assert.deepEqual(problems, [
      "env JIRA_TOKEN: is required when JIRA_URL is set",
      "env SERVICENOW_INSTANCE: is required when SERVICENOW_USERNAME is set",
      "env SERVICENOW_PASSWORD: is required when SERVICENOW_USERNAME is set",
    ]);
  });
});
