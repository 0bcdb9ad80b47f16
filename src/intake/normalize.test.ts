import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { normalizedFields } from "./normalize.ts";

describe("normalizedFields", () => {
  test("jira: issue events become category ticket with the issue key as subject", () => {
    const data = { webhookEvent: "jira:issue_updated", issue: { id: "10002", key: "OPS-2", fields: {} } };
    assert.deepEqual(normalizedFields("jira", data), { category: "ticket", subject: "OPS-2" });
    assert.deepEqual(normalizedFields("jira", { webhookEvent: "comment_created", issue: { key: "SEC-9" } }), {
      category: "ticket",
      subject: "SEC-9",
    });
  });

  test("jira payloads without an issue (sprint, project events) and other presets add nothing", () => {
    for (const data of [
      { webhookEvent: "sprint_started" },
      { issue: { key: 42 } },
      { issue: null },
      null,
      "text",
      [],
    ]) {
      assert.deepEqual(normalizedFields("jira", data), {});
    }
    assert.deepEqual(normalizedFields("github", { issue: { key: "OPS-1" } }), {});
    assert.deepEqual(normalizedFields(undefined, { issue: { key: "OPS-1" } }), {});
  });
});
