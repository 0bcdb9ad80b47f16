import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load-config.ts";
import { problemsOf } from "./testing.ts";

describe("providers from env", () => {
  it("parses every provider when fully set", () => {
    const config = loadConfig({
      env: {
        SLACK_BOT_TOKEN: "xoxb-test-token-not-real",
        SLACK_SIGNING_SECRET: "test-secret-not-real",
        SLACK_APP_TOKEN: "xapp-test-token-not-real",
        SLACK_API_URL: "http://127.0.0.1:4010/api",
        JIRA_URL: "https://acme.atlassian.net",
        JIRA_TOKEN: "test-token-not-real",
        JIRA_EMAIL: "ops@example.com",
        SERVICENOW_INSTANCE: "dev12345.service-now.com",
        SERVICENOW_USERNAME: "zen",
        SERVICENOW_PASSWORD: "test-password-not-real",
        ZEN_BACK_URL: "https://back.example.com/v1/",
        ZEN_BACK_APIKEY: "test-key-not-real",
        REDIS_URL: "redis://127.0.0.1:6379/0",
      },
    });
    assert.deepEqual(config.providers, {
      slack: {
        botToken: "xoxb-test-token-not-real",
        signingSecrets: ["test-secret-not-real"],
        appToken: "xapp-test-token-not-real",
        apiUrl: "http://127.0.0.1:4010/api/",
      },
      jira: { url: "https://acme.atlassian.net/", token: "test-token-not-real", email: "ops@example.com" },
      servicenow: {
        instanceUrl: "https://dev12345.service-now.com",
        username: "zen",
        password: "test-password-not-real",
      },
      zenBack: { url: "https://back.example.com/v1/", apiKey: "test-key-not-real" },
      redis: { url: "redis://127.0.0.1:6379/0" },
    });
  });

  it("leaves unset providers absent and defaults the Slack API URL", () => {
    const config = loadConfig({ env: { SLACK_SIGNING_SECRET: "test-secret-not-real" } });
    assert.deepEqual(config.providers, {
      slack: { signingSecrets: ["test-secret-not-real"], apiUrl: "https://slack.com/api/" },
    });
  });

  it("accepts a full URL for SERVICENOW_INSTANCE (test servers)", () => {
    const config = loadConfig({
      env: {
        SERVICENOW_INSTANCE: "http://127.0.0.1:4020",
        SERVICENOW_USERNAME: "zen",
        SERVICENOW_PASSWORD: "test-password-not-real",
      },
    });
    assert.equal(config.providers.servicenow?.instanceUrl, "http://127.0.0.1:4020/");
  });

  it("reports half-configured providers and bad URLs without echoing them", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          SLACK_API_URL: "slack.com/api",
          JIRA_URL: "ftp://jira.example.com",
          SERVICENOW_PASSWORD: "test-password-not-real",
          ZEN_BACK_APIKEY: "test-key-not-real",
          REDIS_URL: "https://:test-password-not-real@cache:6379",
        },
      }),
    );
    assert.deepEqual(problems, [
      "env SLACK_API_URL: expected an absolute http:// or https:// URL (value not shown)",
      "env JIRA_URL: expected a http:// or https:// URL, not ftp://",
      "env JIRA_TOKEN: is required when JIRA_URL is set",
      "env SERVICENOW_INSTANCE: is required when SERVICENOW_PASSWORD is set",
      "env SERVICENOW_USERNAME: is required when SERVICENOW_PASSWORD is set",
      "env ZEN_BACK_URL: is required when ZEN_BACK_APIKEY is set",
      "env REDIS_URL: expected a redis:// or rediss:// URL, not https://",
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });
});
