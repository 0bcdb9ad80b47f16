import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { adfProblem, classicWorkflow, FakeJira } from "../../../test/fakes/fake-jira.ts";
import { MemoryKeyStore } from "../../adapters/memory/key-store.ts";
import type { JiraDestinationConfig } from "../../config/config.ts";
import {
  DeferredError,
  type DeliveryReason,
  PermanentError,
  RetryAfterError,
  RetryableError,
} from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { systemClock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import { fingerprintLabel, ticketFingerprint } from "../../tickets/ticket-identity.ts";
import { TicketLocks } from "../../tickets/ticket-lock.ts";
import { deliveryRef } from "../delivery-ref.ts";
import { createEgressGuard } from "../egress/egress-guard.ts";
import { adfPlainText } from "./adf.ts";
import { JiraClient } from "./jira-client.ts";
import { createJiraDestination, JiraDestination } from "./jira-destination.ts";
import { jiraInvalidAuthMessage } from "./jira-errors.ts";

const email = "ops@example.com";
const token = "jira-destination-token-not-real";
const signal = new AbortController().signal;

let jira: FakeJira;
const destinations: JiraDestination[] = [];

before(async () => {
  jira = await FakeJira.start({
    email,
    token,
    projects: [{ key: "OPS" }, { key: "SEC", workflow: classicWorkflow }],
  });
});
after(async () => {
  await Promise.all(destinations.map((d) => d.close()));
  await jira.close();
});
beforeEach(() => {
  jira.reset();
});

function config(overrides: Partial<JiraDestinationConfig> = {}): JiraDestinationConfig {
  return {
    type: "jira",
    id: "tickets",
    tenant: "acme",
    connection: { url: jira.url, email, token },
    project: "OPS",
    issueType: "Task",
    labels: ["alerts"],
    priorityBySeverity: { critical: "Highest", high: "High", medium: "Medium", low: "Low", info: "Lowest" },
    resolveTransition: "Done",
    reopenTransition: "To Do",
    timeoutMs: 10_000,
    fingerprintFields: ["data.alert", "data.host"],
    resolvedWhen: { "data.status": "resolved" },
    reopenOnRecurrence: false,
    ...overrides,
  };
}

function destination(
  overrides: Partial<JiraDestinationConfig> = {},
  keys: KeyStore | undefined = new MemoryKeyStore(),
) {
  const d = createJiraDestination(config(overrides), {
    maxRetryAfterMs: 60_000,
    clock: systemClock,
    connectorFactory: createEgressGuard({ allowPrivate: true, allowCidrs: [] }),
    keys,
    // Issue mechanics are tested on exact texts; redaction has its own tests (destinations/redaction.test.ts).
    redaction: undefined,
  });
  destinations.push(d);
  return d;
}

let counter = 0;
function event(data: Record<string, unknown> = {}, overrides: Partial<ZenEvent> = {}): ZenEvent {
  counter++;
  return {
    id: `evt-${counter}`,
    tenant: "acme",
    source: "alertmanager",
    type: "DiskFull",
    severity: "high",
    subject: "db-01",
    data: { alert: "DiskFull", host: "db-01", status: "firing", usage: "98%", ...data },
    receivedAt: "2026-01-01T10:00:00.000Z",
    ...overrides,
  };
}

function send(d: JiraDestination, e: ZenEvent, attempt = 1) {
  return d.send({ event: e, idempotencyKey: `${e.id}`.padEnd(64, "0"), attempt }, signal);
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

const labelOf = (e: ZenEvent) => fingerprintLabel(ticketFingerprint(e, config()));

describe("JiraDestination", () => {
  test("creates one issue: summary, ADF description, priority from severity, labels", async () => {
    const d = destination();
    const e = event();
    const result = await send(d, e);
    assert.equal(result.statusCode, 201);
    assert.equal(jira.issues.length, 1);
    const issue = jira.issues[0];
    assert.ok(issue);
    assert.equal(issue.summary, "[HIGH] DiskFull — db-01");
    assert.equal(issue.issueType, "Task");
    assert.equal(issue.priority, "High");
    assert.deepEqual(issue.labels, ["alerts", labelOf(e), "zen"]);
    assert.equal(adfProblem(issue.description), undefined);
    const text = adfPlainText(issue.description);
    assert.match(text, /Event id: evt-\d+/);
    assert.match(text, /"usage": "98%"/);
    assert.match(text, new RegExp(`delivery ${deliveryRef(`${e.id}`.padEnd(64, "0"))}`));
  });

  test("no severity: no priority; an over-long one-line summary is cut to 255", async () => {
    const d = destination();
    const { severity: _omit, ...rest } = event({}, { subject: `${"x".repeat(300)}\nsecond line` });
    await send(d, rest);
    const issue = jira.issues[0];
    assert.equal(issue?.priority, undefined);
    assert.equal(issue?.summary.length, 255);
    assert.ok(issue?.summary.endsWith("…"));
  });

  test("a re-fired alert (new event id, same fingerprint) comments instead of creating", async () => {
    const d = destination();
    await send(d, event());
    const again = await send(d, event({ usage: "99%" }));
    assert.equal(again.statusCode, 201);
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.comments.length, 1);
    assert.match(adfPlainText(jira.issues[0]?.comments[0]?.body), /^Fired again: \[HIGH\] DiskFull — db-01/);
    // A different incident gets its own issue.
    await send(d, event({ host: "db-02" }));
    assert.equal(jira.issues.length, 2);
  });

  test("resolved → transition by name + comment; nothing open → nothing to do", async () => {
    const d = destination();
    await send(d, event());
    const resolved = await send(d, event({ status: "resolved" }));
    assert.equal(resolved.statusCode, 204);
    const issue = jira.issues[0];
    assert.equal(issue?.status, "Done");
    assert.deepEqual(issue?.transitions, ["Done"]);
    assert.match(adfPlainText(issue?.comments[0]?.body), /^Resolved: /);
    const nothing = await send(d, event({ status: "resolved" }));
    assert.equal(nothing.statusCode, 200);
    assert.equal(jira.calls.transition, 1);
  });

  test("recurrence: a new issue by default, the old one reopened with reopenOnRecurrence", async () => {
    const d = destination();
    await send(d, event());
    await send(d, event({ status: "resolved" }));
    await send(d, event());
    assert.equal(jira.issues.length, 2);

    jira.reset();
    const reopening = destination({ reopenOnRecurrence: true });
    await send(reopening, event());
    await send(reopening, event({ status: "resolved" }));
    const result = await send(reopening, event());
    assert.equal(result.statusCode, 201);
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.status, "To Do");
    assert.deepEqual(jira.issues[0]?.transitions, ["Done", "To Do"]);
    assert.match(adfPlainText(jira.issues[0]?.comments.at(-1)?.body), /reopened/);
  });

  test("classic workflow: resolve by target status name, reopen by transition name", async () => {
    const d = destination({
      project: "SEC",
      resolveTransition: "Resolved",
      reopenTransition: "Reopen Issue",
      reopenOnRecurrence: true,
    });
    await send(d, event());
    await send(d, event({ status: "resolved" }));
    await send(d, event());
    assert.deepEqual(jira.issues[0]?.transitions, ["Resolve Issue", "Reopen Issue"]);
    assert.equal(jira.issues[0]?.status, "Reopened");
  });

  test("an unknown transition is permanent and names the available ones", async () => {
    const d = destination({ resolveTransition: "Close" });
    await send(d, event());
    const error = await rejectsWith(
      send(d, event({ status: "resolved" })),
      PermanentError,
      "validation_failed",
    );
    assert.match(
      error.message,
      /has no transition named "Close"; available: "In Progress" \(→ In Progress\), "Done" \(→ Done\)/,
    );
  });

  test("a retry after a lost create answer finds its own issue and does nothing more", async () => {
    const d = destination();
    const e = event();
    jira.failNext({ status: 503, endpoint: "create", afterCommit: true });
    await rejectsWith(send(d, e, 1), RetryableError, "server_error");
    assert.equal(jira.issues.length, 1);
    const retry = await send(d, e, 2);
    assert.equal(retry.statusCode, 200);
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.comments.length, 0);
  });

  test("a retry after a lost comment answer does not comment twice", async () => {
    const d = destination();
    await send(d, event());
    const repeat = event();
    jira.failNext({ status: 504, endpoint: "addComment", afterCommit: true });
    await rejectsWith(send(d, repeat, 1), RetryableError, "server_error");
    await send(d, repeat, 2);
    assert.equal(jira.issues[0]?.comments.length, 1);
  });

  test("two destinations sharing a KeyStore (two workers) create one issue, then comment", async () => {
    jira.delay("search", 150);
    const keys = new MemoryKeyStore();
    const [a, b] = [destination({}, keys), destination({}, keys)];
    await Promise.all([send(a, event()), send(b, event())]);
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.comments.length, 1);

    // Control: without the shared lock the same race opens two issues, so the test above is not vacuous.
    jira.reset();
    jira.delay("search", 150);
    const [c, e] = [destination({}, new MemoryKeyStore()), destination({}, new MemoryKeyStore())];
    await Promise.all([send(c, event()), send(e, event())]);
    assert.equal(jira.issues.length, 2);
  });

  test("one destination, many concurrent deliveries of one incident: one issue", async () => {
    jira.delay("search", 30);
    const d = destination({}, undefined);
    await Promise.all(Array.from({ length: 5 }, () => send(d, event())));
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.comments.length, 4);
  });

  test("Jira's search lagging behind: the remembered issue is found anyway", async () => {
    jira.searchLagMs = 60_000;
    const d = destination();
    await send(d, event());
    await send(d, event());
    assert.equal(jira.issues.length, 1);
    assert.equal(jira.issues[0]?.comments.length, 1);
    // And once resolved, a recurrence with reopen finds it in the memo as well.
    const reopening = destination({ reopenOnRecurrence: true });
    await send(reopening, event());
    await send(reopening, event({ status: "resolved" }));
    await send(reopening, event());
    assert.equal(jira.issues.length, 2);
    assert.equal(jira.issues[1]?.status, "To Do");
  });

  test("a lock held elsewhere → deferred shortly (lock_busy, uncharged), nothing sent", async () => {
    const keys = new MemoryKeyStore();
    const cfg = config();
    const d = new JiraDestination({
      config: cfg,
      client: new JiraClient({
        connection: cfg.connection,
        connectorFactory: createEgressGuard({ allowPrivate: true, allowCidrs: [] }),
        maxRetryAfterMs: 60_000,
      }),
      locks: new TicketLocks(keys, { ttlMs: 60_000, waitMs: 100, pollMs: 20, busyDelayMs: 1_500 }),
      keys,
      clock: systemClock,
      attemptDeadlineMs: 10_000,
      redaction: undefined,
    });
    destinations.push(d);
    const e = event();
    await keys.claim(`jira-lock:acme:tickets:${ticketFingerprint(e, cfg)}`, 60_000, "another-worker");
    const error = await rejectsWith(send(d, e), DeferredError, "lock_busy");
    assert.equal((error as unknown as DeferredError).delayMs, 1_500);
    assert.equal(jira.requests.length, 0);
  });

  test("Jira's answers land in the right class: 400 (field message), 401 (no token), 403, 429", async () => {
    const badPriority = destination({ priorityBySeverity: { high: "Urgent" } });
    const invalid = await rejectsWith(send(badPriority, event()), PermanentError, "validation_failed");
    assert.match(invalid.message, /priority: Priority name 'Urgent' is not valid\./);

    const wrongToken = "wrong-token-not-real-42";
    const unauthorized = destination({ connection: { url: jira.url, email, token: wrongToken } });
    const auth = await rejectsWith(send(unauthorized, event()), PermanentError, "invalid_auth");
    assert.equal(auth.message, `${jiraInvalidAuthMessage} (HTTP 401)`);
    assert.ok(!auth.message.includes(wrongToken));

    jira.forbid("OPS");
    await rejectsWith(send(destination(), event({ host: "db-9" })), PermanentError, "permission_denied");

    jira.failNext({ status: 429, headers: { "retry-after": "4" } });
    const limited = await rejectsWith(send(destination(), event()), RetryAfterError, "rate_limited");
    assert.equal((limited as unknown as RetryAfterError).retryAfterMs, 4_000);
  });
});
