import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeServiceNow } from "../../../test/fakes/fake-servicenow.ts";
import { MemoryKeyStore } from "../../adapters/memory/key-store.ts";
import type { ServiceNowDestinationConfig } from "../../config/config.ts";
import { DeferredError, PermanentError } from "../../domain/errors.ts";
import type { Severity, ZenEvent } from "../../domain/event.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import { fingerprintLabel, ticketFingerprint } from "../../tickets/ticket-identity.ts";
import type { TicketLockPolicy } from "../../tickets/ticket-lock.ts";
import { defaultConnectorFactory } from "../webhook/egress-policy.ts";
import { ServiceNowDestination } from "./servicenow-destination.ts";

const password = "destination-test-password-not-real";
const never = new AbortController().signal;

describe("ServiceNowDestination", () => {
  let fake: FakeServiceNow;
  let keys: MemoryKeyStore;
  const open: ServiceNowDestination[] = [];
  let counter = 0;

  function config(overrides: Partial<ServiceNowDestinationConfig> = {}): ServiceNowDestinationConfig {
    return {
      type: "servicenow",
      id: "incidents",
      tenant: "acme",
      connection: { instanceUrl: `${fake.url}/`, username: "zen", password },
      table: "incident",
      urgencyBySeverity: { critical: "1", high: "1", medium: "2", low: "3", info: "3" },
      impactBySeverity: { critical: "1", high: "2", medium: "2", low: "3", info: "3" },
      assignmentGroup: "a".repeat(32),
      callerId: "c".repeat(32),
      category: "software",
      closeCode: "Solution provided",
      timeoutMs: 5_000,
      fingerprintFields: ["data.alert"],
      resolvedWhen: { "data.status": "resolved" },
      reopenOnRecurrence: false,
      ...overrides,
    };
  }

  function destination(
    overrides: Partial<ServiceNowDestinationConfig> = {},
    store: KeyStore | undefined = keys,
    lockPolicy?: TicketLockPolicy,
  ): ServiceNowDestination {
    const d = new ServiceNowDestination({
      ...(lockPolicy ? { lockPolicy } : {}),
      config: config(overrides),
      deps: {
        maxRetryAfterMs: 60_000,
        clock: { now: () => Date.now() },
        connectorFactory: defaultConnectorFactory,
        keys: store,
        // Incident mechanics are tested on exact texts; redaction has its own tests (destinations/redaction.test.ts).
        redaction: undefined,
      },
    });
    open.push(d);
    return d;
  }

  function event(status: string, severity?: Severity, alert = "disk-full"): ZenEvent {
    return {
      id: `evt-${++counter}`,
      tenant: "acme",
      source: "alerts",
      type: "alert",
      ...(severity ? { severity } : {}),
      subject: `Disk full on ${alert}`,
      data: { alert, status, node: "db-1" },
      receivedAt: "2026-01-01T00:00:00.000Z",
    };
  }

  const send = (d: ServiceNowDestination, e: ZenEvent) =>
    d.send({ event: e, idempotencyKey: `key-${e.id}`, attempt: 1 }, never);

  before(async () => {
    fake = await FakeServiceNow.start({ username: "zen", password });
  });
  after(async () => {
    await Promise.all(open.map((d) => d.close()));
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    keys = new MemoryKeyStore();
  });

  it("opens one incident with the event's texts, severity-mapped urgency/impact and the configured fields", async () => {
    const d = destination();
    const e = event("firing", "high");
    const result = await send(d, e);
    assert.equal(result.statusCode, 201);
    assert.equal(d.lastAction, "created");

    const [incident] = fake.incidents;
    assert.ok(incident);
    assert.equal(fake.incidents.length, 1);
    assert.equal(incident.short_description, "[HIGH] Disk full on disk-full");
    assert.match(
      incident.description ?? "",
      /^\[HIGH\] Disk full on disk-full\n\nTenant: acme\nSource: alerts\n/,
    );
    assert.match(incident.description ?? "", new RegExp(`\nEvent ID: ${e.id}\n`));
    assert.match(incident.description ?? "", /"node": "db-1"/);
    assert.equal(incident.urgency, "1");
    assert.equal(incident.impact, "2");
    assert.equal(incident.priority, "2");
    assert.equal(incident.assignment_group, "a".repeat(32));
    assert.equal(incident.caller_id, "c".repeat(32));
    assert.equal(incident.category, "software");
    assert.equal(incident.correlation_id, fingerprintLabel(ticketFingerprint(e, config())));
    assert.equal(incident.correlation_display, "zen-integrations");
    assert.ok((incident.correlation_id ?? "").length <= 100);
  });

  it("without a severity leaves urgency and impact to ServiceNow", async () => {
    await send(destination(), event("firing"));
    const [incident] = fake.incidents;
    assert.equal(incident?.urgency, "3");
    assert.equal(incident?.impact, "3");
    const body = JSON.parse(fake.requests.find((r) => r.kind === "create")?.body ?? "{}") as Record<
      string,
      unknown
    >;
    assert.equal(body.urgency, undefined);
    assert.equal(body.impact, undefined);
  });

  it("a repeat becomes a work note on the open incident; its fields stay", async () => {
    const d = destination();
    await send(d, event("firing", "high"));
    const repeat = event("firing", "low");
    await send(d, repeat);
    assert.equal(d.lastAction, "updated");
    assert.equal(fake.incidents.length, 1);
    const [incident] = fake.incidents;
    assert.equal(incident?.urgency, "1", "the repeat does not change the incident's fields");
    const notes = fake.journal(incident?.sys_id ?? "");
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.field, "work_notes");
    assert.match(
      notes[0]?.value ?? "",
      new RegExp(`^Fired again: event ${repeat.id} \\(alert\\) from alerts`),
    );
  });

  it("an incident in a state the instance added (not 6/7/8) counts as open", async () => {
    const d = destination();
    const e = event("firing");
    const custom = fake.seed({
      short_description: "custom",
      state: "-5",
      correlation_id: fingerprintLabel(ticketFingerprint(e, config())),
    });
    await send(d, e);
    assert.equal(d.lastAction, "updated");
    assert.equal(fake.incidents.length, 1);
    assert.equal(fake.journal(custom.sys_id ?? "").length, 1);
  });

  it("a retry of the event that created the incident changes nothing (its first answer was lost)", async () => {
    const d = destination();
    const e = event("firing");
    await send(d, e);
    await send(d, e);
    assert.equal(d.lastAction, "unchanged");
    assert.equal(fake.incidents.length, 1);
    assert.equal(fake.calls.update, 0);
  });

  it("a resolved event resolves the open incident with close code and notes; with none open it does nothing", async () => {
    const d = destination();
    await send(d, event("resolved"));
    assert.equal(d.lastAction, "unchanged");
    assert.deepEqual([fake.calls.create, fake.calls.update], [0, 0]);

    await send(d, event("firing"));
    const resolved = event("resolved");
    await send(d, resolved);
    assert.equal(d.lastAction, "resolved");
    const [incident] = fake.incidents;
    assert.equal(incident?.state, "6");
    assert.equal(incident?.close_code, "Solution provided");
    assert.match(
      incident?.close_notes ?? "",
      new RegExp(`event ${resolved.id} \\(alert\\) from alerts .* says the incident is over`),
    );
    assert.notEqual(incident?.resolved_at, "");

    // Resolved again (a redelivery): already resolved, left alone.
    await send(d, event("resolved"));
    assert.equal(d.lastAction, "unchanged");
    assert.equal(fake.calls.update, 1);
  });

  it("after resolve, a recurrence opens a new incident (reopenOnRecurrence false) and later events find the new one", async () => {
    const d = destination();
    await send(d, event("firing"));
    await send(d, event("resolved"));
    await send(d, event("firing"));
    assert.equal(d.lastAction, "created");
    assert.deepEqual(
      fake.incidents.map((i) => i.state),
      ["6", "1"],
    );
    const [first, second] = fake.incidents;
    assert.equal(first?.correlation_id, second?.correlation_id);
    assert.equal(fake.journal(first?.sys_id ?? "").length, 0, "the resolved incident was not touched");

    await send(d, event("firing"));
    assert.equal(d.lastAction, "updated");
    assert.equal(fake.journal(second?.sys_id ?? "").length, 1);
    await send(d, event("resolved"));
    assert.deepEqual(
      fake.incidents.map((i) => i.state),
      ["6", "6"],
    );
  });

  it("with reopenOnRecurrence a resolved incident is reopened (In Progress, work note); a closed one is not", async () => {
    const d = destination({ reopenOnRecurrence: true });
    await send(d, event("firing"));
    await send(d, event("resolved"));
    const recurrence = event("firing");
    await send(d, recurrence);
    assert.equal(d.lastAction, "reopened");
    assert.equal(fake.incidents.length, 1);
    const [incident] = fake.incidents;
    assert.equal(incident?.state, "2");
    assert.match(fake.journal(incident?.sys_id ?? "").at(-1)?.value ?? "", /^Reopened by zen-integrations/);

    // Closed is final in ServiceNow's state model: a new incident instead.
    const other = event("firing", undefined, "cpu");
    const closed = fake.seed({
      short_description: "closed",
      state: "7",
      close_code: "Solution provided",
      close_notes: "done",
      correlation_id: fingerprintLabel(ticketFingerprint(other, config())),
    });
    await send(d, other);
    assert.equal(d.lastAction, "created");
    assert.equal(fake.record(closed.sys_id ?? "")?.state, "7");
    assert.equal(fake.incidents.length, 3);
  });

  it("serializes concurrent deliveries of one fingerprint in a process: one incident, one note", async () => {
    fake.queryDelayMs = 50;
    const d = destination();
    await Promise.all([send(d, event("firing")), send(d, event("firing")), send(d, event("firing"))]);
    assert.equal(fake.incidents.length, 1);
    assert.equal(fake.journal(fake.incidents[0]?.sys_id ?? "").length, 2);
  });

  it("across processes the KeyStore claim decides: the other waits for it, then updates", async () => {
    fake.queryDelayMs = 100;
    const a = destination();
    const b = destination();
    await Promise.all([send(a, event("firing")), send(b, event("firing"))]);
    assert.equal(fake.incidents.length, 1);
    assert.deepEqual([a.lastAction, b.lastAction].sort(), ["created", "updated"]);
  });

  it("a claim held past the wait defers the delivery shortly (lock_busy, uncharged)", async () => {
    await keys.claim(
      `sn-lock:acme:incidents:${ticketFingerprint(event("x"), config())}`,
      60_000,
      "other-process",
    );
    const d = destination({}, keys, { ttlMs: 60_000, waitMs: 50, pollMs: 10, busyDelayMs: 1_500 });
    await assert.rejects(send(d, event("firing")), (err) => {
      assert.ok(err instanceof DeferredError);
      assert.equal(err.reason, "lock_busy");
      assert.equal(err.delayMs, 1_500);
      return true;
    });
    assert.equal(fake.incidents.length, 0);
  });

  it("different fingerprints do not wait for each other", async () => {
    fake.queryDelayMs = 50;
    const d = destination();
    await Promise.all([send(d, event("firing", undefined, "a")), send(d, event("firing", undefined, "b"))]);
    assert.equal(fake.incidents.length, 2);
  });

  it("passes ServiceNow's failures on typed, and frees the lock after a failure", async () => {
    const d = destination();
    fake.acl.insert = true;
    await assert.rejects(send(d, event("firing")), (err) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.reason, "permission_denied");
      return true;
    });
    fake.acl.insert = false;
    await send(d, event("firing"));
    assert.equal(d.lastAction, "created");
    assert.equal(
      await keys.get(`sn-lock:acme:incidents:${ticketFingerprint(event("x"), config())}`),
      undefined,
    );
  });

  it("honours the caller's abort while waiting for its turn", async () => {
    fake.queryDelayMs = 200;
    const d = destination();
    const first = send(d, event("firing"));
    const controller = new AbortController();
    const second = d.send({ event: event("firing"), idempotencyKey: "k", attempt: 1 }, controller.signal);
    controller.abort(new DOMException("shutdown", "AbortError"));
    await assert.rejects(second, { name: "RetryableError", reason: "timeout" });
    await first;
    assert.equal(fake.incidents.length, 1);
  });
});
