/**
 * ServiceNow end to end, through the real interfaces only: signed webhooks posted to the real intake,
 * the real SQLite queue and workers (a second worker is a real `zen worker` child process on the same
 * store), outbound Table API calls to a fake ServiceNow instance over real HTTP, and the outcome read
 * back from the fake, the admin API and the ticket API (`/servicenow/ticket…`).
 *
 * The connection is the tenant's `providers.servicenow` with `env:` references; the instance is the
 * fake's `http://127.0.0.1:port` URL (startTestService sets ZEN_EGRESS_ALLOW_PRIVATE=true).
 * QUEUE_MAX_RETRIES is 3, so retries wait at most 100 then 200 ms, except where ServiceNow asks for
 * longer (Retry-After) or another worker holds the incident's lock (1.5 s).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeServiceNow } from "./fakes/fake-servicenow.ts";
import { startChildService } from "./support/child-service.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, postSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "gh-sn-e2e-secret-not-real";
const snPassword = "sn-e2e-password-not-real";
const wrongPassword = "sn-e2e-wrong-password-not-real";
const adminToken = "sn-e2e-admin-token-not-real";
const apiToken = "sn-e2e-api-token-not-real";

interface DlqItem {
  readonly eventId: string;
  readonly destination: string;
  readonly reason: string;
  readonly attempts: number;
  readonly lastError: string | null;
}

interface TrailEntry {
  readonly stage: string;
  readonly attempt?: number;
  readonly detail?: Record<string, unknown>;
}

interface Trace {
  readonly destinations: Record<string, { state: string; detail: string }>;
  readonly trail: readonly TrailEntry[];
}

interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

function yaml(instanceVar: string): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      servicenow:",
    `        instance: env:${instanceVar}`,
    "        username: zen-e2e",
    "        password: env:SN_PASSWORD",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "    destinations:",
    "      - id: incidents",
    "        type: servicenow",
    "        fingerprintFields: [data.alert]",
    "        closeCode: Solution provided",
    "        assignmentGroup: 287ebd7da9fe198100f92cc8d1d2154e",
    "      - id: reopening",
    "        type: servicenow",
    "        fingerprintFields: [data.alert]",
    "        reopenOnRecurrence: true",
    "    routes:",
    "      - { from: [gh], when: { type: incident }, to: [incidents] }",
    "      - { from: [gh], when: { type: recurring }, to: [reopening] }",
    "  - id: beta",
    "    providers:",
    "      servicenow:",
    `        instance: env:${instanceVar}`,
    "        username: zen-e2e",
    "        password: env:SN_WRONG_PASSWORD",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "    destinations:",
    "      - { id: incidents, type: servicenow, fingerprintFields: [data.alert] }",
    "    routes:",
    "      - { from: [gh], to: [incidents] }",
  ].join("\n");
}

describe("ServiceNow end to end (real service, fake instance)", () => {
  let fake: FakeServiceNow;
  let service: TestService;
  let env: Record<string, string>;
  let counter = 0;
  const nextEventId = (label: string) => `evt-sn-${label}-${++counter}`;

  async function admin<T>(path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(`${service.url}${path}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  const trace = async (tenant: string, eventId: string): Promise<Trace> => {
    const result = await admin<Trace>(`/admin/events/${tenant}/${eventId}`);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body;
  };

  const waitForState = (
    tenant: string,
    eventId: string,
    destination: string,
    state: string,
    timeoutMs = 10_000,
  ) =>
    waitFor(
      `${eventId} → ${destination} to be ${state}`,
      async () => {
        const t = await trace(tenant, eventId);
        return t.destinations[destination]?.state === state ? t : undefined;
      },
      timeoutMs,
    );

  const dlqEntryOf = async (tenant: string, eventId: string): Promise<DlqItem> => {
    const result = await admin<{ items: DlqItem[] }>(`/admin/dlq?tenant=${tenant}&limit=500`);
    const entry = result.body.items.find((item) => item.eventId === eventId);
    assert.ok(entry, `no DLQ entry for ${eventId}`);
    return entry;
  };

  /** Posts a signed alert; `type` picks the route (incident → incidents, recurring → reopening). */
  const alert = (
    eventId: string,
    name: string,
    status: "firing" | "resolved",
    type = "incident",
    tenant = "acme",
  ) =>
    acceptSignedGithub({
      baseUrl: service.url,
      tenant,
      source: "gh",
      secret: ghSecret,
      eventId,
      type,
      data: { alert: name, status },
    });

  /** Fires `name` and waits until its delivery settles in `state`. */
  const deliver = async (
    name: string,
    status: "firing" | "resolved",
    type = "incident",
    state = "delivered",
  ) => {
    const eventId = nextEventId(name);
    await alert(eventId, name, status, type);
    return {
      eventId,
      trace: await waitForState("acme", eventId, type === "incident" ? "incidents" : "reopening", state),
    };
  };

  const incidentsOf = (name: string) =>
    fake.incidents.filter((i) => i.description?.includes(`"alert": "${name}"`));

  async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: text === "" ? {} : JSON.parse(text),
    };
  }

  before(async () => {
    fake = await FakeServiceNow.start({ username: "zen-e2e", password: snPassword });
    env = {
      GH_SECRET: ghSecret,
      SN_INSTANCE: fake.url,
      SN_PASSWORD: snPassword,
      SN_WRONG_PASSWORD: wrongPassword,
      ZEN_ADMIN_TOKEN: adminToken,
      ZEN_API_TOKEN: apiToken,
      QUEUE_MAX_RETRIES: "3",
    };
    service = await startTestService({ yaml: yaml("SN_INSTANCE"), env });
  });

  after(async () => {
    await service?.close();
    await fake?.close();
  });

  describe("destination: one incident per fingerprint", () => {
    it("the same alert delivered again (duplicate intake, a 503 retry) stays one incident; repeats become work notes", async () => {
      const first = nextEventId("dup");
      await alert(first, "disk-full", "firing");
      await waitForState("acme", first, "incidents", "delivered");
      const [incident] = incidentsOf("disk-full");
      assert.ok(incident);
      assert.equal(incident.state, "1");
      assert.equal(incident.assignment_group, "287ebd7da9fe198100f92cc8d1d2154e");
      assert.equal(incident.correlation_display, "zen-integrations");
      assert.match(incident.correlation_id ?? "", /^zen-[0-9a-f]{32}$/);
      assert.equal(incident.short_description, "incident from gh");

      // The provider redelivers the same event: intake says duplicate, nothing reaches ServiceNow.
      const calls = fake.requests.length;
      const again = await postSignedGithub({
        baseUrl: service.url,
        tenant: "acme",
        source: "gh",
        secret: ghSecret,
        eventId: first,
        type: "incident",
        data: { alert: "disk-full", status: "firing" },
      });
      assert.deepEqual(again.body, { status: "duplicate", eventId: first });
      assert.equal(fake.requests.length, calls);

      // A re-fired alert whose first attempt meets a 503: retried, then a work note on the same incident.
      fake.failNext(1, 503);
      const { trace: t } = await deliver("disk-full", "firing");
      assert.equal(t.destinations.incidents?.detail, "delivered on attempt 2");
      const retry = t.trail.find((e) => e.stage === "attempt" && e.attempt === 1);
      assert.equal(retry?.detail?.reason, "server_error");
      assert.equal(incidentsOf("disk-full").length, 1);
      const notes = fake.journal(incident.sys_id ?? "");
      assert.equal(notes.length, 1);
      assert.match(notes[0]?.value ?? "", /^Fired again: event evt-sn-disk-full-\d+ \(incident\) from gh/);
    });

    it("deliveries of one alert on two `zen worker` processes at once open one incident (the KeyStore lock)", async () => {
      // Intake here, delivery only in two worker processes on the same store, one job each at a time,
      // so two deliveries of the alert run at once in different processes.
      const intakeOnly = await startTestService({
        yaml: yaml("SN_INSTANCE"),
        env,
        roles: { intake: true, workers: false },
      });
      const workerEnv = {
        ...env,
        ZEN_EGRESS_ALLOW_PRIVATE: "true",
        ZEN_CONCURRENCY: "1",
        ZEN_POLL_INTERVAL_MS: "50",
      };
      const workers = await Promise.all(
        [1, 2].map(() =>
          startChildService({
            dataDir: intakeOnly.dataDir,
            configPath: join(intakeOnly.dataDir, "zen.yaml"),
            env: workerEnv,
            command: "worker",
          }),
        ),
      );
      try {
        // Slow lookups: without the lock both workers would find nothing and both create.
        fake.queryDelayMs = 300;
        const ids = [nextEventId("race"), nextEventId("race"), nextEventId("race")];
        for (const id of ids) {
          await acceptSignedGithub({
            baseUrl: intakeOnly.url,
            tenant: "acme",
            source: "gh",
            secret: ghSecret,
            eventId: id,
            type: "incident",
            data: { alert: "cpu-hot", status: "firing" },
          });
        }
        const traces: Trace[] = [];
        for (const id of ids) {
          traces.push(
            await waitFor(
              `${id} delivered`,
              async () => {
                const response = await fetch(`${intakeOnly.url}/admin/events/acme/${id}`, {
                  headers: { authorization: `Bearer ${adminToken}` },
                });
                const t = (await response.json()) as Trace;
                return t.destinations?.incidents?.state === "delivered" ? t : undefined;
              },
              20_000,
            ),
          );
        }
        const incidents = incidentsOf("cpu-hot");
        assert.equal(incidents.length, 1, JSON.stringify(incidents.map((i) => i.number)));
        assert.equal(fake.journal(incidents[0]?.sys_id ?? "").length, 2);
        // Every delivery succeeded: the losers of the race waited for the lock instead of creating.
        assert.equal(traces.length, ids.length);
      } finally {
        fake.queryDelayMs = 0;
        await Promise.all(workers.map((worker) => worker.kill("SIGTERM")));
        await intakeOnly.close();
      }
    });

    it("a resolved event resolves the incident with close code and notes; a repeat then opens a new one, the old untouched", async () => {
      await deliver("mem-leak", "firing");
      const { eventId: resolvedId } = await deliver("mem-leak", "resolved");
      const [resolved] = incidentsOf("mem-leak");
      assert.equal(resolved?.state, "6");
      assert.equal(resolved?.close_code, "Solution provided");
      assert.match(
        resolved?.close_notes ?? "",
        new RegExp(`event ${resolvedId} \\(incident\\) from gh .* says the incident is over`),
      );

      // reopenOnRecurrence is off: a new incident, the resolved one left as it was.
      await deliver("mem-leak", "firing");
      const both = incidentsOf("mem-leak");
      assert.deepEqual(
        both.map((i) => i.state),
        ["6", "1"],
      );
      assert.equal(fake.journal(both[0]?.sys_id ?? "").length, 0);
      assert.equal(fake.record(both[0]?.sys_id ?? "")?.sys_mod_count, "1");

      // A resolved event for an alert with no open incident: nothing to do, delivered.
      const { trace: t } = await deliver("never-fired", "resolved");
      assert.equal(t.destinations.incidents?.state, "delivered");
      assert.equal(incidentsOf("never-fired").length, 0);
    });

    it("with reopenOnRecurrence the resolved incident is reopened instead", async () => {
      await deliver("queue-stuck", "firing", "recurring");
      await deliver("queue-stuck", "resolved", "recurring");
      assert.equal(incidentsOf("queue-stuck")[0]?.state, "6");
      await deliver("queue-stuck", "firing", "recurring");
      const incidents = incidentsOf("queue-stuck");
      assert.equal(incidents.length, 1);
      assert.equal(incidents[0]?.state, "2");
      assert.match(
        fake.journal(incidents[0]?.sys_id ?? "").at(-1)?.value ?? "",
        /^Reopened by zen-integrations/,
      );
    });
  });

  describe("destination: each ServiceNow error lands where it should", () => {
    it("400 → DLQ validation_failed with ServiceNow's message, after one attempt", async () => {
      fake.respondNext({
        kind: "create",
        status: 400,
        message: "Invalid field value",
        detail: "Field category: value not in choice list",
      });
      const { eventId } = await deliver("bad-field", "firing", "incident", "dead_lettered");
      const entry = await dlqEntryOf("acme", eventId);
      assert.equal(entry.reason, "validation_failed");
      assert.equal(entry.attempts, 1);
      assert.match(entry.lastError ?? "", /Invalid field value: Field category: value not in choice list/);
    });

    it("403 (ACL) → DLQ permission_denied with ServiceNow's detail", async () => {
      fake.acl.insert = true;
      try {
        const { eventId } = await deliver("acl-denied", "firing", "incident", "dead_lettered");
        const entry = await dlqEntryOf("acme", eventId);
        assert.equal(entry.reason, "permission_denied");
        assert.equal(entry.attempts, 1);
        assert.match(entry.lastError ?? "", /ACL Exception Insert Failed due to security constraints/);
      } finally {
        fake.acl.insert = false;
      }
    });

    it("401 → DLQ invalid_auth naming the credentials, without the password", async () => {
      const eventId = nextEventId("beta-auth");
      await alert(eventId, "beta-alert", "firing", "incident", "beta");
      await waitForState("beta", eventId, "incidents", "dead_lettered");
      const entry = await dlqEntryOf("beta", eventId);
      assert.equal(entry.reason, "invalid_auth");
      assert.equal(entry.attempts, 1);
      assert.match(
        entry.lastError ?? "",
        /ServiceNow rejected the credentials \(check SERVICENOW_USERNAME\/PASSWORD or the tenant's providers\.servicenow\)/,
      );
      for (const secret of [
        wrongPassword,
        snPassword,
        Buffer.from(`zen-e2e:${wrongPassword}`).toString("base64"),
      ]) {
        assert.ok(!(entry.lastError ?? "").includes(secret));
        assert.ok(!JSON.stringify(await trace("beta", eventId)).includes(secret));
      }
    });

    it("404 (the incident vanished or an ACL hides it) → DLQ not_found saying so", async () => {
      await deliver("vanishing", "firing");
      fake.respondNext({
        kind: "update",
        status: 404,
        message: "No Record found",
        detail: "Record doesn't exist or ACL restricts the record retrieval",
      });
      const { eventId } = await deliver("vanishing", "firing", "incident", "dead_lettered");
      const entry = await dlqEntryOf("acme", eventId);
      assert.equal(entry.reason, "not_found");
      assert.match(entry.lastError ?? "", /no such record, or an ACL hides it/);
    });

    it("429 → retried no sooner than Retry-After: 2", async () => {
      fake.rateLimitNext(2);
      const start = fake.requests.length;
      const { trace: t } = await deliver("throttled", "firing", "incident", "delivered");
      const retry = t.trail.find((e) => e.stage === "attempt" && e.attempt === 1);
      assert.equal(retry?.detail?.reason, "rate_limited");
      assert.equal(retry?.detail?.statusCode, 429);
      assert.equal(retry?.detail?.nextDelayMs, 2_000);
      // The lookup that got the 429, then the retry's lookup.
      const [limited, next] = fake.requests.slice(start);
      assert.ok(limited && next);
      const gapMs = next.receivedAt - limited.receivedAt;
      assert.ok(gapMs >= 2_000, `the retry came ${gapMs} ms after the 429`);
      assert.equal(incidentsOf("throttled").length, 1);
    });

    it("5xx every time → retried, then DLQ retries_exhausted", async () => {
      fake.failNext(3, 500);
      const { eventId } = await deliver("server-down", "firing", "incident", "dead_lettered");
      const entry = await dlqEntryOf("acme", eventId);
      assert.equal(entry.reason, "retries_exhausted");
      assert.equal(entry.attempts, 3);
      assert.match(entry.lastError ?? "", /^server_error: ServiceNow HTTP 500/);
    });
  });

  describe("ticket API", () => {
    it("refuses requests without the bearer token", async () => {
      for (const authorization of [undefined, "Bearer wrong-token", `Basic ${apiToken}`]) {
        const response = await fetch(`${service.url}/servicenow/ticket`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ short_description: "x" }),
        });
        assert.equal(response.status, 401);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, "unauthorized");
      }
      // The admin token is accepted too.
      const asAdmin = await api("GET", `/servicenow/ticket/${"0".repeat(32)}?tenant=acme`, undefined, {
        authorization: `Bearer ${adminToken}`,
      });
      assert.equal(asAdmin.status, 404);
    });

    it("POST creates an incident and answers it as ServiceNow does; the same Idempotency-Key twice creates one", async () => {
      const before = fake.incidents.length;
      const body = {
        tenant: "acme",
        short_description: "Printer on fire",
        description: "Floor 3",
        urgency: "1",
        impact: "1",
        caller_id: "6816f79cc0a8016401c5a33be04be441",
        category: "hardware",
        u_site: "HQ",
      };
      const first = await api("POST", "/servicenow/ticket", body, { "idempotency-key": "printer-1" });
      assert.equal(first.status, 201, first.text);
      const record = first.body.result as Record<string, unknown>;
      assert.match(String(record.sys_id), /^[0-9a-f]{32}$/);
      assert.match(String(record.number), /^INC\d{7}$/);
      assert.equal(record.priority, "1");
      assert.equal(record.u_site, "HQ");
      // Reference fields as ServiceNow sends them by default: {link, value}.
      assert.deepEqual(record.caller_id, {
        link: `${fake.url}/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441`,
        value: "6816f79cc0a8016401c5a33be04be441",
      });
      assert.equal(first.headers.get("location"), `/servicenow/ticket/${String(record.sys_id)}`);

      const second = await api("POST", "/servicenow/ticket", body, { "idempotency-key": "printer-1" });
      assert.equal(second.status, 201);
      assert.equal(second.text, first.text);
      assert.equal(second.headers.get("idempotent-replayed"), "true");
      assert.equal(fake.incidents.length, before + 1);

      const reused = await api(
        "POST",
        "/servicenow/ticket",
        { ...body, urgency: "2" },
        { "idempotency-key": "printer-1" },
      );
      assert.equal(reused.status, 422);
      assert.equal((reused.body.error as { code: string }).code, "idempotency_key_reused");
    });

    it("GET reads, PUT updates and close resolves the incident", async () => {
      const created = await api("POST", "/servicenow/ticket", {
        tenant: "acme",
        short_description: "VPN down",
      });
      const sysId = String((created.body.result as Record<string, unknown>).sys_id);

      const read = await api("GET", `/servicenow/ticket/${sysId}?tenant=acme`);
      assert.equal(read.status, 200);
      assert.equal((read.body.result as Record<string, unknown>).short_description, "VPN down");
      const shown = await api(
        "GET",
        `/servicenow/ticket/${sysId}?tenant=acme&sysparm_display_value=all&sysparm_fields=state,priority`,
      );
      assert.deepEqual(shown.body, {
        result: {
          state: { display_value: "New", value: "1" },
          priority: { display_value: "5 - Planning", value: "5" },
        },
      });

      const updated = await api("PUT", `/servicenow/ticket/${sysId}`, {
        tenant: "acme",
        urgency: "2",
        impact: "2",
        state: "2",
        work_notes: "looking into it",
      });
      assert.equal(updated.status, 200, updated.text);
      assert.equal((updated.body.result as Record<string, unknown>).priority, "3");
      assert.equal((updated.body.result as Record<string, unknown>).state, "2");
      assert.deepEqual(
        fake.journal(sysId).map((e) => e.value),
        ["looking into it"],
      );
      assert.equal(fake.requests.at(-1)?.method, "PUT");

      const closed = await api("POST", `/servicenow/ticket/${sysId}/close`, {
        tenant: "acme",
        close_notes: "Replaced the router",
      });
      assert.equal(closed.status, 200, closed.text);
      const result = closed.body.result as Record<string, unknown>;
      assert.equal(result.state, "6");
      assert.equal(result.close_code, "Resolved by caller");
      assert.equal(result.close_notes, "Replaced the router");

      const closedHard = await api("POST", `/servicenow/ticket/${sysId}/close`, {
        tenant: "acme",
        state: "7",
        close_code: "Solution provided",
        close_notes: "Done",
      });
      assert.equal((closedHard.body.result as Record<string, unknown>).state, "7");
      assert.equal((closedHard.body.result as Record<string, unknown>).active, "false");
    });

    it("refuses bad requests with a stable code, before calling ServiceNow", async () => {
      const calls = fake.requests.length;
      const cases: ReadonlyArray<[string, string, unknown, number, string, RegExp]> = [
        [
          "POST",
          "/servicenow/ticket",
          { tenant: "acme" },
          400,
          "invalid_request",
          /short_description is required/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", priority: "1" },
          400,
          "invalid_request",
          /priority is computed/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", urgency: 1 },
          400,
          "invalid_request",
          /urgency must be a string/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", urgency: "4" },
          400,
          "invalid_request",
          /urgency must be one of/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", sys_id: "y" },
          400,
          "invalid_request",
          /unknown field "sys_id"/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x".repeat(161) },
          400,
          "invalid_request",
          /longer than 160/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", state: "6" },
          400,
          "invalid_request",
          /need close_code and close_notes/,
        ],
        [
          "POST",
          "/servicenow/ticket",
          { short_description: "x", state: "3" },
          400,
          "invalid_request",
          /needs hold_reason/,
        ],
        ["POST", "/servicenow/ticket", "[1]", 400, "malformed_body", /JSON object/],
        ["POST", "/servicenow/ticket", "{", 400, "malformed_body", /not valid JSON/],
        [
          "POST",
          "/servicenow/ticket",
          { tenant: "nope", short_description: "x" },
          404,
          "unknown_tenant",
          /unknown tenant nope/,
        ],
        ["GET", "/servicenow/ticket/not-a-sys-id", undefined, 400, "invalid_request", /32 lower-case hex/],
        [
          "GET",
          `/servicenow/ticket/${"a".repeat(32)}?sysparm_display_value=yes`,
          undefined,
          400,
          "invalid_request",
          /false, true or all/,
        ],
        [
          "PUT",
          `/servicenow/ticket/${"a".repeat(32)}`,
          { tenant: "acme" },
          400,
          "invalid_request",
          /nothing to update/,
        ],
        [
          "POST",
          `/servicenow/ticket/${"a".repeat(32)}/close`,
          { tenant: "acme" },
          400,
          "invalid_request",
          /close_notes is required/,
        ],
        [
          "POST",
          `/servicenow/ticket/${"a".repeat(32)}/close`,
          { close_notes: "x", state: "8" },
          400,
          "invalid_request",
          /"6".*or "7"/,
        ],
      ];
      for (const [method, path, body, status, code, message] of cases) {
        const answer = await api(method, path, body);
        assert.equal(answer.status, status, `${method} ${path} ${JSON.stringify(body)}: ${answer.text}`);
        const error = answer.body.error as { code: string; message: string };
        assert.equal(error.code, code, answer.text);
        assert.match(error.message, message);
      }
      const wrongType = await api("POST", "/servicenow/ticket", undefined, { "content-type": "text/plain" });
      assert.equal(wrongType.status, 415);
      assert.equal(fake.requests.length, calls, "nothing reached ServiceNow");
    });

    it("maps ServiceNow's failures: 404 → not_found, 403/401 → 502 provider_error, 429 → 503 with Retry-After", async () => {
      const missing = await api("GET", `/servicenow/ticket/${"f".repeat(32)}?tenant=acme`);
      assert.equal(missing.status, 404);
      assert.equal((missing.body.error as { code: string }).code, "not_found");
      assert.match((missing.body.error as { message: string }).message, /or an ACL hides it/);

      fake.acl.insert = true;
      try {
        const denied = await api("POST", "/servicenow/ticket", { tenant: "acme", short_description: "x" });
        assert.equal(denied.status, 502);
        assert.equal((denied.body.error as { code: string }).code, "provider_error");
        assert.match((denied.body.error as { message: string }).message, /ACL Exception Insert Failed/);
      } finally {
        fake.acl.insert = false;
      }

      const unauthorized = await api("POST", "/servicenow/ticket", {
        tenant: "beta",
        short_description: "x",
      });
      assert.equal(unauthorized.status, 502);
      assert.equal((unauthorized.body.error as { code: string }).code, "provider_error");
      assert.match((unauthorized.body.error as { message: string }).message, /rejected the credentials/);
      assert.ok(!unauthorized.text.includes(wrongPassword));

      fake.rateLimitNext(30);
      const limited = await api("POST", "/servicenow/ticket", { tenant: "acme", short_description: "x" });
      assert.equal(limited.status, 503);
      assert.equal((limited.body.error as { code: string }).code, "provider_unavailable");
      assert.equal(limited.headers.get("retry-after"), "30");

      fake.failNext(1, 502);
      const down = await api("GET", `/servicenow/ticket/${"f".repeat(32)}?tenant=acme`);
      assert.equal(down.status, 503);
      assert.equal((down.body.error as { code: string }).code, "provider_unavailable");
    });

    it("is off (404) without ZEN_API_TOKEN and ZEN_ADMIN_TOKEN", async () => {
      const { ZEN_API_TOKEN: _api, ZEN_ADMIN_TOKEN: _admin, ...rest } = env;
      const off = await startTestService({ yaml: yaml("SN_INSTANCE"), env: rest });
      try {
        const response = await fetch(`${off.url}/servicenow/ticket`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiToken}` },
          body: "{}",
        });
        assert.equal(response.status, 404);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, "not_found");
      } finally {
        await off.close();
      }
    });
  });
});
