import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { normalizedFields } from "./normalize.ts";

describe("normalizedFields", () => {
  test("jira: issue events become category ticket with the issue key as subject", () => {
    const data = { webhookEvent: "jira:issue_updated", issue: { id: "10002", key: "OPS-2", fields: {} } };
    assert.deepEqual(normalizedFields("jira", undefined, {}, data), { category: "ticket", subject: "OPS-2" });
    assert.deepEqual(
      normalizedFields("jira", undefined, {}, { webhookEvent: "comment_created", issue: { key: "SEC-9" } }),
      {
        category: "ticket",
        subject: "SEC-9",
      },
    );
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
      assert.deepEqual(normalizedFields("jira", undefined, {}, data), {});
    }
    assert.deepEqual(normalizedFields("github", undefined, {}, { issue: { key: "OPS-1" } }), {});
    assert.deepEqual(normalizedFields(undefined, undefined, {}, { issue: { key: "OPS-1" } }), {});
  });
});

describe("normalizedFields with a source's fields: mapping", () => {
  const fields = {
    severity: { jsonPath: "$.alert.severity" },
    subject: { jsonPath: "$.alert.summary" },
    category: { header: "x-category" },
    fingerprint: { jsonPath: "$.alert.id" },
  };

  test("reads each field and normalizes the severity word", () => {
    const data = { alert: { severity: "Warning", summary: "Disk full on web-1", id: "disk/web-1" } };
    assert.deepEqual(normalizedFields(undefined, fields, { "x-category": "capacity" }, data), {
      severity: "medium",
      subject: "Disk full on web-1",
      category: "capacity",
      fingerprint: "disk/web-1",
    });
  });

  test("leaves out missing, empty and unknown values, and caps long ones", () => {
    const data = { alert: { severity: "purple", summary: "", id: "x".repeat(2000) } };
    assert.deepEqual(normalizedFields(undefined, fields, {}, data), { fingerprint: "x".repeat(512) });
  });

  test("lets the mapping override what the preset derives", () => {
    const data = { issue: { key: "OPS-2", fields: { priority: { name: "P1" } } } };
    const mapped = normalizedFields(
      "jira",
      { severity: { jsonPath: "$.issue.fields.priority.name" } },
      {},
      data,
    );
    assert.deepEqual(mapped, { category: "ticket", subject: "OPS-2", severity: "critical" });
  });
});
