/**
 * Jira end to end, through the real interfaces only: signed webhooks posted to the real intake (and
 * Jira's own webhooks to `POST /jira/webhook`), the real SQLite queue and workers (a second and third
 * worker are real `zen worker` child processes on the same store), outbound REST v3 calls to a fake
 * Jira over real HTTP, and the outcome read back from the fake, the admin API and `POST /jira/issue`.
 *
 * Connections are the tenants' `providers.jira` with `env:` references; the site is the fake's
 * `http://127.0.0.1:port` URL (startTestService sets ZEN_EGRESS_ALLOW_PRIVATE=true). QUEUE_MAX_RETRIES
 * is 3, so retries wait at most 100 then 200 ms, except where Jira asks for longer (Retry-After).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { adfPlainText } from "../src/destinations/jira/adf.ts";
import { adfProblem, type FakeIssue, FakeJira, postJiraWebhook } from "./fakes/fake-jira.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { startChildService } from "./support/child-service.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, postSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "gh-jira-e2e-secret-not-real";
const jiraEmail = "zen-e2e@example.com";
const jiraToken = "jira-e2e-token-not-real";
const wrongToken = "jira-e2e-wrong-token-not-real";
const hookSecret = "jira-e2e-hook-secret-not-real";
const adminToken = "jira-e2e-admin-token-not-real";
const apiToken = "jira-e2e-api-token-not-real";

interface DlqItem {
  readonly eventId: string;
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

function yaml(chatUrl: string): string {
  return [
    "tenants:",
    "  - id: default",
    "    providers:",
    "      jira:",
    "        url: env:JIRA_FAKE_URL",
    `        email: ${jiraEmail}`,
    "        token: env:JIRA_E2E_TOKEN",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "      - { id: jira, preset: jira, secrets: [env:JIRA_HOOK_SECRET] }",
    "    destinations:",
    "      - { id: tickets, type: jira, project: OPS, labels: [alerts], fingerprintFields: [data.alert] }",
    "      - id: reopening",
    "        type: jira",
    "        project: OPS",
    "        fingerprintFields: [data.alert]",
    "        reopenOnRecurrence: true",
    "      - { id: epics, type: jira, project: OPS, issueType: Epic, fingerprintFields: [data.alert] }",
    `      - { id: chat, type: webhook, url: "${chatUrl}" }`,
    "    routes:",
    "      - { from: [gh], when: { type: incident }, to: [tickets] }",
    "      - { from: [gh], when: { type: recurring }, to: [reopening] }",
    "      - { from: [gh], when: { type: epic }, to: [epics] }",
    '      - { from: [jira], when: { type: "jira:issue_updated", data.issue.fields.status.name: Done }, to: [chat] }',
    "  - id: beta",
    "    providers:",
    "      jira:",
    "        url: env:JIRA_FAKE_URL",
    `        email: ${jiraEmail}`,
    "        token: env:JIRA_WRONG_TOKEN",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "    destinations:",
    "      - { id: tickets, type: jira, project: OPS, fingerprintFields: [data.alert] }",
    "    routes:",
    "      - { from: [gh], to: [tickets] }",
  ].join("\n");
}

describe("Jira end to end (real service, fake Jira)", () => {
  let jira: FakeJira;
  let chat: WebhookSink;
  let service: TestService;
  let env: Record<string, string>;
  let counter = 0;
  const nextEventId = (label: string) => `evt-jira-${label}-${++counter}`;

  async function admin<T>(path: string, base = service.url): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    return { status: response.status, body: (await response.json()) as T };
  }

  const trace = async (tenant: string, eventId: string, base = service.url): Promise<Trace> => {
    const result = await admin<Trace>(`/admin/events/${tenant}/${eventId}`, base);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body;
  };

  const waitForState = (
    tenant: string,
    eventId: string,
    destination: string,
    state: string,
    base = service.url,
  ) =>
    waitFor(
      `${eventId} → ${destination} to be ${state}`,
      async () => {
        const t = await trace(tenant, eventId, base);
        return t.destinations[destination]?.state === state ? t : undefined;
      },
      20_000,
    );

  const dlqEntryOf = async (tenant: string, eventId: string): Promise<DlqItem> => {
    const result = await admin<{ items: DlqItem[] }>(`/admin/dlq?tenant=${tenant}&limit=500`);
    const entry = result.body.items.find((item) => item.eventId === eventId);
    assert.ok(entry, `no DLQ entry for ${eventId}`);
    return entry;
  };

  /** Posts a signed alert; `type` picks the route (incident → tickets, recurring → reopening, epic → epics). */
  const alert = (
    eventId: string,
    name: string,
    status: "firing" | "resolved",
    type = "incident",
    tenant = "default",
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

  const destinationOf: Record<string, string> = {
    incident: "tickets",
    recurring: "reopening",
    epic: "epics",
  };

  /** Fires `name` and waits until its delivery settles in `state`. */
  const deliver = async (
    name: string,
    status: "firing" | "resolved",
    type = "incident",
    state = "delivered",
  ) => {
    const eventId = nextEventId(name);
    await alert(eventId, name, status, type);
    return { eventId, trace: await waitForState("default", eventId, destinationOf[type] ?? type, state) };
  };

  /** Issues about alert `name` (its data is in the description). */
  const issuesOf = (name: string): FakeIssue[] =>
    jira.issues.filter((i) => adfPlainText(i.description).includes(`"alert": "${name}"`));

  async function api(
    body: unknown,
    headers: Record<string, string> = {},
    base = service.url,
  ): Promise<ApiAnswer> {
    const response = await fetch(`${base}/jira/issue`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
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
    jira = await FakeJira.start({ email: jiraEmail, token: jiraToken });
    chat = await WebhookSink.start();
    env = {
      GH_SECRET: ghSecret,
      JIRA_FAKE_URL: jira.url,
      JIRA_E2E_TOKEN: jiraToken,
      JIRA_WRONG_TOKEN: wrongToken,
      JIRA_HOOK_SECRET: hookSecret,
      ZEN_ADMIN_TOKEN: adminToken,
      ZEN_API_TOKEN: apiToken,
      QUEUE_MAX_RETRIES: "3",
    };
    service = await startTestService({ yaml: yaml(chat.url), env });
  });

  after(async () => {
    await service?.close();
    await jira?.close();
    await chat?.close();
  });

  describe("destination: one issue per fingerprint", () => {
    it("the same event three ways (lost answer + retry, duplicate intake, re-fired) is one issue, then a comment", async () => {
      // The create reaches Jira but its answer is lost (503 after the commit): the retry must find the
      // issue it created, by label, and recognise its own delivery in it.
      jira.failNext({ status: 503, endpoint: "create", afterCommit: true });
      const first = nextEventId("disk-full");
      await alert(first, "disk-full", "firing");
      const t = await waitForState("default", first, "tickets", "delivered");
      assert.equal(t.destinations.tickets?.detail, "delivered on attempt 2");
      assert.equal(
        t.trail.find((e) => e.stage === "attempt" && e.attempt === 1)?.detail?.reason,
        "server_error",
      );
      const [issue, ...extra] = issuesOf("disk-full");
      assert.ok(issue);
      assert.equal(extra.length, 0);
      assert.equal(issue.summary, "incident from gh");
      assert.deepEqual(issue.labels.slice(0, 1), ["alerts"]);
      assert.match(issue.labels[1] ?? "", /^zen-[0-9a-f]{32}$/);
      assert.equal(issue.labels[2], "zen");
      assert.equal(adfProblem(issue.description), undefined);
      assert.equal(issue.comments.length, 0);

      // The provider redelivers the same event: intake says duplicate, nothing reaches Jira.
      const calls = jira.requests.length;
      const again = await postSignedGithub({
        baseUrl: service.url,
        tenant: "default",
        source: "gh",
        secret: ghSecret,
        eventId: first,
        type: "incident",
        data: { alert: "disk-full", status: "firing" },
      });
      assert.deepEqual(again.body, { status: "duplicate", eventId: first });
      assert.equal(jira.requests.length, calls);

      // The alert fires again (new event id, same fingerprint): a comment, not a second issue.
      await deliver("disk-full", "firing");
      assert.equal(issuesOf("disk-full").length, 1);
      assert.equal(issue.comments.length, 1);
      assert.match(adfPlainText(issue.comments[0]?.body), /^Fired again: incident from gh/);
    });

    it("deliveries of one alert on two `zen worker` processes at once open one issue (the KeyStore lock)", async () => {
      const intakeOnly = await startTestService({
        yaml: yaml(chat.url),
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
        // Slow searches: without the lock both workers would find nothing and both create.
        jira.delay("search", 300);
        const creates = jira.calls.create;
        const ids = [nextEventId("race"), nextEventId("race"), nextEventId("race")];
        for (const id of ids) {
          await acceptSignedGithub({
            baseUrl: intakeOnly.url,
            tenant: "default",
            source: "gh",
            secret: ghSecret,
            eventId: id,
            type: "incident",
            data: { alert: "cpu-hot", status: "firing" },
          });
        }
        for (const id of ids) await waitForState("default", id, "tickets", "delivered", intakeOnly.url);
        const issues = issuesOf("cpu-hot");
        assert.equal(issues.length, 1, JSON.stringify(issues.map((i) => i.key)));
        assert.equal(issues[0]?.comments.length, 2);
        assert.equal(jira.calls.create, creates + 1);
      } finally {
        jira.delay("search", 0);
        await Promise.all(workers.map((worker) => worker.kill("SIGTERM")));
        await intakeOnly.close();
      }
    });

    it("a resolved event moves the issue through Done; a recurrence then opens a new issue", async () => {
      await deliver("mem-leak", "firing");
      const { trace: t } = await deliver("mem-leak", "resolved");
      assert.equal(t.destinations.tickets?.state, "delivered");
      const [resolved] = issuesOf("mem-leak");
      assert.equal(resolved?.status, "Done");
      assert.deepEqual(resolved?.transitions, ["Done"]);
      assert.match(adfPlainText(resolved?.comments.at(-1)?.body), /^Resolved: /);

      await deliver("mem-leak", "firing");
      assert.deepEqual(
        issuesOf("mem-leak").map((i) => i.status),
        ["Done", "To Do"],
      );

      // Resolved with nothing open: nothing to do, delivered.
      await deliver("never-fired", "resolved");
      assert.equal(issuesOf("never-fired").length, 0);
    });

    it("with reopenOnRecurrence the resolved issue is reopened instead", async () => {
      await deliver("queue-stuck", "firing", "recurring");
      await deliver("queue-stuck", "resolved", "recurring");
      assert.equal(issuesOf("queue-stuck")[0]?.status, "Done");
      await deliver("queue-stuck", "firing", "recurring");
      const issues = issuesOf("queue-stuck");
      assert.equal(issues.length, 1);
      assert.equal(issues[0]?.status, "To Do");
      assert.deepEqual(issues[0]?.transitions, ["Done", "To Do"]);
      assert.match(adfPlainText(issues[0]?.comments.at(-1)?.body), /reopened/);
    });
  });

  describe("destination: each Jira error lands where it should", () => {
    it("400 → DLQ validation_failed with Jira's field message, after one attempt", async () => {
      const { eventId } = await deliver("bad-type", "firing", "epic", "dead_lettered");
      const entry = await dlqEntryOf("default", eventId);
      assert.equal(entry.reason, "validation_failed");
      assert.equal(entry.attempts, 1);
      assert.match(
        entry.lastError ?? "",
        /Jira refused the request \(HTTP 400\): issuetype: Specify a valid issue type/,
      );
    });

    it("401 → DLQ invalid_auth naming the credential settings, without the token", async () => {
      const eventId = nextEventId("beta-auth");
      await alert(eventId, "beta-alert", "firing", "incident", "beta");
      await waitForState("beta", eventId, "tickets", "dead_lettered");
      const entry = await dlqEntryOf("beta", eventId);
      assert.equal(entry.reason, "invalid_auth");
      assert.equal(entry.attempts, 1);
      assert.match(
        entry.lastError ?? "",
        /Jira rejected the credentials \(check JIRA_EMAIL\/JIRA_TOKEN or the tenant's providers\.jira\)/,
      );
      for (const secret of [
        wrongToken,
        jiraToken,
        Buffer.from(`${jiraEmail}:${wrongToken}`).toString("base64"),
      ]) {
        assert.ok(!(entry.lastError ?? "").includes(secret));
        assert.ok(!JSON.stringify(await trace("beta", eventId)).includes(secret));
      }
    });

    it("429 → retried no sooner than Retry-After: 2", async () => {
      jira.failNext({ status: 429, headers: { "retry-after": "2", "ratelimit-reason": "jira-burst-based" } });
      const start = jira.requests.length;
      const { trace: t } = await deliver("throttled", "firing");
      const retry = t.trail.find((e) => e.stage === "attempt" && e.attempt === 1);
      assert.equal(retry?.detail?.reason, "rate_limited");
      assert.equal(retry?.detail?.statusCode, 429);
      assert.equal(retry?.detail?.nextDelayMs, 2_000);
      const [limited, next] = jira.requests.slice(start);
      assert.ok(limited && next);
      assert.ok(next.at - limited.at >= 2_000, `the retry came ${next.at - limited.at} ms after the 429`);
      assert.equal(issuesOf("throttled").length, 1);
    });

    it("5xx every time → retried, then DLQ retries_exhausted", async () => {
      jira.failNext({ status: 500 }, 3);
      const { eventId } = await deliver("server-down", "firing", "incident", "dead_lettered");
      const entry = await dlqEntryOf("default", eventId);
      assert.equal(entry.reason, "retries_exhausted");
      assert.equal(entry.attempts, 3);
      assert.match(entry.lastError ?? "", /^server_error: Jira server error \(HTTP 500\)/);
      assert.equal(issuesOf("server-down").length, 0);
    });
  });

  describe("POST /jira/issue", () => {
    it("creates an issue (Markdown description as ADF); the same Idempotency-Key twice creates one", async () => {
      const request = {
        project: "OPS",
        summary: "Rotate the TLS certificate of api.example.com",
        description:
          "## Why\nIt expires on **Friday**.\n\n- renew\n- deploy, see https://wiki.example.com/tls",
        issueType: "Bug",
        priority: "High",
        labels: ["certs", "certs"],
      };
      const first = await api(request, { "idempotency-key": "cert-rotation-1" });
      assert.equal(first.status, 201, first.text);
      const key = String(first.body.key);
      assert.deepEqual(first.body, { key, id: first.body.id, url: `${jira.url}/browse/${key}` });
      assert.equal(first.headers.get("idempotent-replayed"), null);
      const issue = jira.issue(key);
      assert.ok(issue);
      assert.equal(issue.issueType, "Bug");
      assert.equal(issue.priority, "High");
      assert.deepEqual(issue.labels, ["certs"]);
      assert.equal(adfProblem(issue.description), undefined);
      assert.equal((issue.description as { content: { type: string }[] }).content[0]?.type, "heading");

      const creates = jira.calls.create;
      const second = await api(request, { "idempotency-key": "cert-rotation-1" });
      assert.equal(second.status, 201);
      assert.equal(second.text, first.text);
      assert.equal(second.headers.get("idempotent-replayed"), "true");
      assert.equal(jira.calls.create, creates);

      const reused = await api(
        { ...request, summary: "Something else" },
        { "idempotency-key": "cert-rotation-1" },
      );
      assert.equal(reused.status, 422);
      assert.equal((reused.body.error as { code: string }).code, "idempotency_key_reused");
      assert.equal(jira.calls.create, creates);

      // Without a key every request creates.
      assert.equal((await api({ project: "OPS", summary: "no key" })).status, 201);
      assert.equal(jira.calls.create, creates + 1);
    });

    it("refuses bad requests with a stable code and the field messages, before calling Jira", async () => {
      const creates = jira.calls.create;
      const cases: Array<
        [body: unknown, headers: Record<string, string>, status: number, code: string, message?: RegExp]
      > = [
        [{ summary: "x" }, {}, 400, "invalid_request", /project: /],
        [{ project: "OPS", summary: "" }, {}, 400, "invalid_request", /summary: must not be empty/],
        [{ project: "OPS", summary: "a\nb" }, {}, 400, "invalid_request", /summary: must be one line/],
        [
          { project: "OPS", summary: "x".repeat(256) },
          {},
          400,
          "invalid_request",
          /summary: must be at most 255/,
        ],
        [
          { project: "OPS", summary: "x", labels: ["a b"] },
          {},
          400,
          "invalid_request",
          /labels\.0: must not contain spaces/,
        ],
        [
          { project: "OPS", summary: "x", colour: "red" },
          {},
          400,
          "invalid_request",
          /unknown field\(s\) "colour"/,
        ],
        ["{not json", {}, 400, "malformed_body"],
        [[], {}, 400, "malformed_body"],
        [{ project: "OPS", summary: "x", tenant: "nobody" }, {}, 404, "unknown_tenant"],
        [{ project: "OPS", summary: "x" }, { "content-type": "text/plain" }, 415, "unsupported_content_type"],
      ];
      for (const [body, headers, status, code, message] of cases) {
        const answer = await api(body, headers);
        assert.equal(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
        const error = answer.body.error as { code: string; message: string };
        assert.equal(error.code, code, answer.text);
        if (message) assert.match(error.message, message);
      }
      for (const authorization of [undefined, "Bearer wrong-token", `Basic ${apiToken}`]) {
        const response = await fetch(`${service.url}/jira/issue`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ project: "OPS", summary: "x" }),
        });
        assert.equal(response.status, 401);
      }
      assert.equal(jira.calls.create, creates);
    });

    it("maps Jira's failures: 400/401 → 502 provider_error with Jira's message, 429 → 503 with Retry-After", async () => {
      const unknownProject = await api({ project: "NOPE", summary: "x" });
      assert.equal(unknownProject.status, 502);
      const error = unknownProject.body.error as { code: string; message: string };
      assert.equal(error.code, "provider_error");
      assert.match(
        error.message,
        /Jira refused the request \(HTTP 400\): project: valid project is required/,
      );

      const unauthorized = await api({ project: "OPS", summary: "x", tenant: "beta" });
      assert.equal(unauthorized.status, 502);
      assert.match((unauthorized.body.error as { message: string }).message, /Jira rejected the credentials/);
      assert.ok(!unauthorized.text.includes(wrongToken));

      jira.failNext({ status: 429, headers: { "retry-after": "7" }, endpoint: "create" });
      const limited = await api({ project: "OPS", summary: "x" }, { "idempotency-key": "limited-1" });
      assert.equal(limited.status, 503);
      assert.equal((limited.body.error as { code: string }).code, "provider_unavailable");
      assert.equal(limited.headers.get("retry-after"), "7");
      // The failure freed the key: the client's retry goes through.
      const retried = await api({ project: "OPS", summary: "x" }, { "idempotency-key": "limited-1" });
      assert.equal(retried.status, 201);
    });

    it("is off (404) without ZEN_API_TOKEN and ZEN_ADMIN_TOKEN", async () => {
      const { ZEN_API_TOKEN: _a, ZEN_ADMIN_TOKEN: _b, ...rest } = env;
      const off = await startTestService({ yaml: yaml(chat.url), env: rest });
      try {
        const answer = await api({ project: "OPS", summary: "x" }, {}, off.url);
        assert.equal(answer.status, 404);
        assert.equal((answer.body.error as { code: string }).code, "not_found");
      } finally {
        await off.close();
      }
    });
  });

  describe("POST /jira/webhook", () => {
    const payload = (key: string, status: string) => ({
      timestamp: Date.now(),
      webhookEvent: "jira:issue_updated",
      issue_event_type_name: "issue_generic",
      user: { accountId: "5b10a2844c20165700ede21g", displayName: "Mia Krystof" },
      issue: {
        id: "10002",
        key,
        fields: { summary: "Disk full on db-01", status: { id: "10001", name: status }, labels: ["alert"] },
      },
      changelog: {
        id: "10010",
        items: [{ field: "status", fieldId: "status", fromString: "In Progress", toString: status }],
      },
    });

    it("verifies X-Hub-Signature, routes a resolved issue to chat with the issue key as subject, dedupes redeliveries", async () => {
      chat.reset();
      const url = `${service.url}/jira/webhook`;
      const delivery = {
        payload: payload("OPS-77", "Done"),
        identifier: "f0e1d2c3-0001",
        secret: hookSecret,
      };
      const accepted = await postJiraWebhook(url, delivery);
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.deepEqual(accepted.body, { status: "accepted", eventId: "f0e1d2c3-0001", deliveries: 1 });
      await chat.waitForRequests(1);
      const event = JSON.parse(chat.requests[0]?.body ?? "{}") as Record<string, unknown>;
      assert.equal(event.type, "jira:issue_updated");
      assert.equal(event.subject, "OPS-77");
      assert.equal(event.category, "ticket");
      assert.equal((event.data as { issue: { key: string } }).issue.key, "OPS-77");

      // Jira retries the same delivery (same identifier): a duplicate, nothing sent again.
      const redelivered = await postJiraWebhook(url, { ...delivery, retry: 1 });
      assert.deepEqual(redelivered.body, { status: "duplicate", eventId: "f0e1d2c3-0001" });

      // Not resolved: accepted, routed nowhere.
      const progress = await postJiraWebhook(url, {
        payload: payload("OPS-78", "In Progress"),
        identifier: "f0e1d2c3-0002",
        secret: hookSecret,
      });
      assert.deepEqual(progress.body, { status: "accepted", eventId: "f0e1d2c3-0002", deliveries: 0 });

      for (const bad of [
        { signature: "sha256=00" },
        { secret: "some-other-secret" },
        { signature: undefined, secret: undefined },
      ]) {
        const refused = await postJiraWebhook(url, { ...delivery, identifier: "f0e1d2c3-0003", ...bad });
        assert.equal(refused.status, 401, JSON.stringify(refused.body));
      }
      assert.equal(chat.requests.length, 1);
    });
  });
});
