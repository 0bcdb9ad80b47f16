import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { classicWorkflow, FakeJira } from "../../../test/fakes/fake-jira.ts";
import type { JiraProviderConfig } from "../../config/config.ts";
import { type DeliveryReason, PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";
import { createEgressGuard } from "../egress/egress-guard.ts";
import { toAdf } from "./adf.ts";
import { JiraClient, jqlString, pickTransition } from "./jira-client.ts";
import { jiraInvalidAuthMessage } from "./jira-errors.ts";

const email = "ops@example.com";
const token = "jira-client-token-not-real";
const signal = new AbortController().signal;

let jira: FakeJira;
const clients: JiraClient[] = [];

before(async () => {
  jira = await FakeJira.start({
    email,
    token,
    projects: [{ key: "OPS" }, { key: "SEC", workflow: classicWorkflow }],
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await jira.close();
});
beforeEach(() => {
  jira.reset();
});

function client(connection: Partial<JiraProviderConfig> = {}, allowPrivate = true): JiraClient {
  const c = new JiraClient({
    connection: { url: jira.url, email, token, ...connection },
    connectorFactory: createEgressGuard({ allowPrivate, allowCidrs: [] }),
    maxRetryAfterMs: 60_000,
  });
  clients.push(c);
  return c;
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  reason: DeliveryReason,
) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal((err as PermanentError).reason, reason, (err as Error).message);
    return err as PermanentError;
  }
  assert.fail(`expected ${type.name} ${reason}`);
}

const fields = (overrides: Record<string, unknown> = {}) => ({
  project: { key: "OPS" },
  summary: "Disk full on db-01",
  issuetype: { name: "Task" },
  description: toAdf("Host **db-01** at 98%"),
  labels: ["zen", "zen-abc"],
  ...overrides,
});

describe("JiraClient against the fake Jira", () => {
  test("create, search by label (open/done), comment, transition by name, status", async () => {
    const c = client();
    const created = await c.createIssue(fields(), signal);
    assert.equal(created.key, "OPS-1");
    assert.equal(c.browseUrl(created.key), `${jira.url}/browse/OPS-1`);
    const request = jira.requests.find((r) => r.endpoint === "create");
    assert.equal(request?.authorization, `Basic ${Buffer.from(`${email}:${token}`).toString("base64")}`);

    const open = await c.searchByLabel("zen-abc", { statusCategory: "open", project: "OPS" }, signal);
    assert.deepEqual(
      open.map((i) => [i.key, i.status?.categoryKey]),
      [["OPS-1", "new"]],
    );
    assert.equal(
      JSON.parse(jira.requests.find((r) => r.endpoint === "search")?.body ?? "{}").jql,
      'project = "OPS" AND labels = "zen-abc" AND statusCategory != Done ORDER BY created DESC',
    );
    assert.deepEqual(await c.searchByLabel("zen-other", { statusCategory: "open" }, signal), []);

    await c.addComment("OPS-1", toAdf("fired again"), signal);
    assert.equal(jira.issue("OPS-1")?.comments.length, 1);

    const taken = await c.doTransition("OPS-1", "dOnE", signal);
    assert.equal(taken.id, "31");
    assert.deepEqual(await c.getIssueStatus("OPS-1", signal), { name: "Done", categoryKey: "done" });
    assert.deepEqual(await c.searchByLabel("zen-abc", { statusCategory: "open" }, signal), []);
    const done = await c.searchByLabel("zen-abc", { statusCategory: "done" }, signal);
    assert.deepEqual(
      done.map((i) => i.key),
      ["OPS-1"],
    );
  });

  test("transitions resolve by name, then by target status; ids come from the workflow", async () => {
    const c = client();
    const { key } = await c.createIssue(fields({ project: { key: "SEC" } }), signal);
    const names = (await c.getTransitions(key, signal)).map((t) => `${t.id}:${t.name}→${t.to?.name}`);
    assert.deepEqual(names, [
      "4:Start Progress→In Progress",
      "5:Resolve Issue→Resolved",
      "2:Close Issue→Closed",
    ]);
    // "Resolved" is no transition's name, but "Resolve Issue" goes there.
    assert.equal((await c.doTransition(key, "resolved", signal)).id, "5");
    const error = await rejectsWith(c.doTransition(key, "Done", signal), PermanentError, "validation_failed");
    assert.equal(
      error.message,
      `Jira issue ${key} has no transition named "Done"; available: "Close Issue" (→ Closed), "Reopen Issue" (→ Reopened)`,
    );
    assert.equal((await c.doTransition(key, "Reopen Issue", signal)).id, "3");
    assert.deepEqual(jira.issue(key)?.transitions, ["Resolve Issue", "Reopen Issue"]);
  });

  test("pickTransition prefers a name match over a target-status match", () => {
    const transitions = [
      { id: "1", name: "Finish", to: { name: "Done" } },
      { id: "2", name: "Done", to: { name: "Closed" } },
    ];
    assert.equal(pickTransition(transitions, "done")?.id, "2");
    assert.equal(pickTransition(transitions, "closed")?.id, "2");
    assert.equal(pickTransition(transitions, "nope"), undefined);
  });

  test("JQL strings are quoted and escaped", () => {
    assert.equal(jqlString('a "b" \\c'), '"a \\"b\\" \\\\c"');
  });

  test("400 from Jira carries the field messages (ADF with an empty text node, labels with spaces)", async () => {
    const c = client();
    const badDoc = {
      type: "doc",
      version: 1,
      content: [{ type: "paragraph", content: [{ type: "text", text: "" }] }],
    };
    const error = await rejectsWith(
      c.createIssue(fields({ description: badDoc, labels: ["has space"] }) as never, signal),
      PermanentError,
      "validation_failed",
    );
    assert.match(error.message, /^Jira refused the request \(HTTP 400\): /);
    assert.match(
      error.message,
      /description: INVALID_INPUT: content\[0\]\.content\[0\] is an empty text node/,
    );
    assert.match(error.message, /labels: The label 'has space' contains spaces which is invalid\./);
    assert.equal(jira.issues.length, 0);
  });

  test("Bearer auth without an email; a wrong token is invalid_auth without the token", async () => {
    const bearerJira = await FakeJira.start({ token });
    try {
      const ok = client({ url: bearerJira.url, email: undefined });
      await ok.createIssue(fields(), signal);
      assert.equal(bearerJira.requests[0]?.authorization, `Bearer ${token}`);
    } finally {
      await bearerJira.close();
    }
    const wrongToken = "wrong-token-not-real-123";
    const error = await rejectsWith(
      client({ token: wrongToken }).createIssue(fields(), signal),
      PermanentError,
      "invalid_auth",
    );
    assert.equal(error.message, `${jiraInvalidAuthMessage} (HTTP 401)`);
    assert.ok(!error.message.includes(wrongToken));
  });

  test("403, 404, 429 with Retry-After, 5xx, retired search endpoint", async () => {
    const c = client();
    jira.forbid("OPS");
    await rejectsWith(c.createIssue(fields(), signal), PermanentError, "permission_denied");
    await rejectsWith(c.getIssueStatus("OPS-404", signal), PermanentError, "not_found");

    jira.failNext({ status: 429, headers: { "retry-after": "2" }, endpoint: "search" });
    const limited = await rejectsWith(
      c.searchByLabel("x", { statusCategory: "open" }, signal),
      RetryAfterError,
      "rate_limited",
    );
    assert.equal((limited as unknown as RetryAfterError).retryAfterMs, 2_000);

    jira.failNext({ status: 502 });
    await rejectsWith(
      c.searchByLabel("x", { statusCategory: "open" }, signal),
      RetryableError,
      "server_error",
    );
    assert.deepEqual(await c.searchByLabel("x", { statusCategory: "open" }, signal), []);
  });

  test("the egress guard is on the client's sockets: loopback is refused unless allowed", async () => {
    const guarded = client({}, false);
    await rejectsWith(guarded.createIssue(fields(), signal), PermanentError, "egress_denied");
    assert.equal(jira.calls.create, 0);
  });

  test("a network failure is retryable; an aborted signal is a timeout", async () => {
    const dead = await FakeJira.start({ email, token });
    const url = dead.url;
    await dead.close();
    await rejectsWith(client({ url }).createIssue(fields(), signal), RetryableError, "network_error");
    jira.delay("create", 500);
    await rejectsWith(client().createIssue(fields(), AbortSignal.timeout(50)), RetryableError, "timeout");
  });
});
