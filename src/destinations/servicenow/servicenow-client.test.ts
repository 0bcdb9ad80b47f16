import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeServiceNow } from "../../../test/fakes/fake-servicenow.ts";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { fieldValue, isSysId, ServiceNowClient } from "./servicenow-client.ts";

const password = "client-test-password-not-real";
const never = new AbortController().signal;

describe("ServiceNowClient against the fake instance", () => {
  let fake: FakeServiceNow;
  let client: ServiceNowClient;

  before(async () => {
    fake = await FakeServiceNow.start({ username: "zen", password });
    client = new ServiceNowClient({
      connection: { instanceUrl: `${fake.url}/`, username: "zen", password },
      maxRetryAfterMs: 60_000,
    });
  });
  after(async () => {
    await client.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
  });

  it("creates an incident: 201, Basic auth, JSON, every value a string, priority from impact × urgency", async () => {
    const record = await client.create(
      "incident",
      { short_description: "Disk full on db-1", urgency: "1", impact: "2", assignment_group: "a".repeat(32) },
      never,
    );
    assert.ok(isSysId(fieldValue(record, "sys_id")));
    assert.match(fieldValue(record, "number"), /^INC\d{7}$/);
    assert.equal(record.priority, "2");
    assert.equal(record.state, "1");
    assert.equal(record.active, "true");
    // Reference links excluded by default: a plain sys_id string.
    assert.equal(record.assignment_group, "a".repeat(32));
    for (const [name, value] of Object.entries(record)) assert.equal(typeof value, "string", name);

    const [request] = fake.requests;
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, "/api/now/table/incident?sysparm_exclude_reference_link=true");
    assert.equal(
      request?.headers.authorization,
      `Basic ${Buffer.from(`zen:${password}`).toString("base64")}`,
    );
    assert.equal(request?.headers["content-type"], "application/json");
    assert.equal(request?.headers.accept, "application/json");
    assert.match(String(request?.headers["user-agent"]), /^zen-integrations\//);
  });

  it("reads a record with display values false, true and all, with and without reference links", async () => {
    const seeded = fake.seed({
      short_description: "x",
      state: "2",
      urgency: "1",
      impact: "1",
      caller_id: "c".repeat(32),
    });
    fake.displayNames.set("c".repeat(32), "Ada Lovelace");
    const sysId = seeded.sys_id ?? "";

    const raw = await client.get("incident", sysId, never);
    assert.equal(raw.state, "2");
    assert.equal(raw.priority, "1");
    assert.equal(raw.caller_id, "c".repeat(32));

    const shown = await client.get("incident", sysId, never, {
      displayValue: "true",
      fields: ["state", "priority", "caller_id"],
    });
    assert.deepEqual(shown, { state: "In Progress", priority: "1 - Critical", caller_id: "Ada Lovelace" });

    const both = await client.get("incident", sysId, never, {
      displayValue: "all",
      fields: ["state", "caller_id"],
      excludeReferenceLink: false,
    });
    assert.deepEqual(both.state, { display_value: "In Progress", value: "2" });
    assert.deepEqual(both.caller_id, {
      display_value: "Ada Lovelace",
      link: `${fake.url}/api/now/table/sys_user/${"c".repeat(32)}`,
      value: "c".repeat(32),
    });
    assert.equal(fieldValue(both, "state"), "2");

    const linked = await client.get("incident", sysId, never, {
      excludeReferenceLink: false,
      fields: ["caller_id"],
    });
    assert.deepEqual(linked.caller_id, {
      link: `${fake.url}/api/now/table/sys_user/${"c".repeat(32)}`,
      value: "c".repeat(32),
    });
  });

  it("updates with PATCH (default) or PUT and answers the full record; journal fields read back empty", async () => {
    const sysId = fake.seed({ short_description: "x" }).sys_id ?? "";
    const patched = await client.update("incident", sysId, { work_notes: "seen again", urgency: "2" }, never);
    assert.equal(patched.sys_id, sysId);
    assert.equal(patched.short_description, "x");
    assert.equal(patched.work_notes, "");
    assert.equal(patched.priority, "4");
    assert.deepEqual(
      fake.journal(sysId).map((e) => [e.field, e.value]),
      [["work_notes", "seen again"]],
    );
    const put = await client.update("incident", sysId, { state: "2" }, never, { method: "PUT" });
    assert.equal(put.state, "2");
    assert.deepEqual(
      fake.requests.map((r) => r.method),
      ["PATCH", "PUT"],
    );
  });

  it("finds the newest incident by correlation id with one encoded query", async () => {
    fake.seed({ short_description: "old", correlation_id: "zen-abc", state: "7" });
    const newest = fake.seed({ short_description: "new", correlation_id: "zen-abc", state: "6" });
    fake.seed({ short_description: "other", correlation_id: "zen-other" });

    const found = await client.findByCorrelationId("incident", "zen-abc", never, {
      fields: ["sys_id", "state"],
    });
    assert.deepEqual(found, { sys_id: newest.sys_id, state: "6" });
    assert.equal(await client.findByCorrelationId("incident", "zen-none", never), undefined);

    const url = new URL(fake.requests[0]?.url ?? "", fake.url);
    assert.equal(url.searchParams.get("sysparm_query"), "correlation_id=zen-abc^ORDERBYDESCsys_created_on");
    assert.equal(url.searchParams.get("sysparm_limit"), "1");
    assert.equal(url.searchParams.get("sysparm_exclude_reference_link"), "true");
    assert.equal(url.searchParams.get("sysparm_fields"), "sys_id,state");
    assert.deepEqual(fake.ignoredQueryParts, []);
  });

  it("refuses ids that could change the query or the path, without a request", async () => {
    for (const id of ["", "a^ORDERBYsys_id", "x\ny", "z".repeat(101)]) {
      await assert.rejects(client.findByCorrelationId("incident", id, never), (err) => {
        assert.ok(err instanceof PermanentError);
        assert.equal(err.reason, "validation_failed");
        return true;
      });
    }
    await assert.rejects(client.get("incident", "../sys_user/abc", never), PermanentError);
    await assert.rejects(client.get("sys_user/x", "a".repeat(32), never), PermanentError);
    assert.equal(fake.requests.length, 0);
  });

  it("401: invalid_auth naming the credentials, never the password", async () => {
    const wrong = new ServiceNowClient({
      connection: { instanceUrl: fake.url, username: "zen", password: "wrong-password-not-real" },
      maxRetryAfterMs: 60_000,
    });
    try {
      await assert.rejects(wrong.create("incident", { short_description: "x" }, never), (err) => {
        assert.ok(err instanceof PermanentError);
        assert.equal(err.reason, "invalid_auth");
        assert.match(err.message, /check SERVICENOW_USERNAME\/PASSWORD/);
        assert.ok(!err.message.includes("wrong-password-not-real"));
        assert.ok(!err.message.includes(Buffer.from("zen:wrong-password-not-real").toString("base64")));
        return true;
      });
    } finally {
      await wrong.close();
    }
  });

  it("404 for an unknown sys_id; 403 when an ACL forbids the insert", async () => {
    await assert.rejects(client.get("incident", "f".repeat(32), never), (err) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "not_found");
      assert.match(err.message, /or an ACL hides it/);
      return true;
    });
    fake.acl.insert = true;
    await assert.rejects(client.create("incident", { short_description: "x" }, never), (err) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "permission_denied");
      assert.match(err.message, /ACL Exception Insert Failed/);
      return true;
    });
  });

  it("429 honours Retry-After; 503 is retried; a 200 HTML page is not taken as success", async () => {
    fake.rateLimitNext(2);
    await assert.rejects(client.get("incident", "f".repeat(32), never), (err) => {
      assert.ok(err instanceof RetryAfterError);
      assert.equal(err.reason, "rate_limited");
      assert.equal(err.retryAfterMs, 2_000);
      return true;
    });
    fake.failNext(1, 503);
    await assert.rejects(client.create("incident", { short_description: "x" }, never), (err) => {
      assert.ok(err instanceof RetryableError && !(err instanceof RetryAfterError));
      assert.equal(err.reason, "server_error");
      return true;
    });
    fake.respondNext({ status: 200, body: "<html>Your instance is hibernating</html>" });
    await assert.rejects(client.get("incident", "f".repeat(32), never), (err) => {
      assert.ok(err instanceof RetryableError);
      assert.equal(err.reason, "unknown");
      assert.match(err.message, /hibernating/);
      return true;
    });
    assert.equal(fake.incidents.length, 0);
  });

  it("times out a hung instance and reports connection failures as network errors", async () => {
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    const port = (hung.address() as AddressInfo).port;
    const slow = new ServiceNowClient({
      connection: { instanceUrl: `http://127.0.0.1:${port}`, username: "zen", password },
      maxRetryAfterMs: 60_000,
      egress: { headersTimeoutMs: 100 },
    });
    try {
      await assert.rejects(slow.get("incident", "f".repeat(32), never), (err) => {
        assert.ok(err instanceof RetryableError);
        assert.equal(err.reason, "timeout");
        return true;
      });
    } finally {
      await slow.close();
      hung.closeAllConnections();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
    const refused = new ServiceNowClient({
      connection: { instanceUrl: `http://127.0.0.1:${port}`, username: "zen", password },
      maxRetryAfterMs: 60_000,
    });
    try {
      await assert.rejects(refused.get("incident", "f".repeat(32), never), (err) => {
        assert.ok(err instanceof RetryableError);
        assert.equal(err.reason, "network_error");
        return true;
      });
    } finally {
      await refused.close();
    }
  });
});
