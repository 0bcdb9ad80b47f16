/**
 * Redaction and templates end to end, through the real interfaces only: Falco-like events posted to
 * the real intake (token-verified source mapping severity and subject from the payload), the real
 * SQLite queue and worker, and every byte the fakes received over real HTTP: a signed webhook sink,
 * a fake Jira and a fake ServiceNow. Secrets are generated at random per run, so a leak cannot hide
 * behind a fixed fixture.
 *
 * Covered: neither the bearer token nor the AWS key (nor any 8-character window of their random
 * parts) reaches the three fakes, placeholders do; the webhook signature verifies over the redacted
 * body; `zen_redactions_total` counts; an allowlisted namespace passes through, another is the same
 * `ns-<hash>` in two deliveries; a `redact: false` destination gets raw values and a startup WARN
 * names it; a body template of megabytes and a description template that never ends go to the DLQ
 * with `template_render_failed` while the worker stays ready and delivers the next event. The same
 * Falco fixture reaching the fake Slack redacted is in test/slack.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { adfPlainText } from "../src/destinations/jira/adf.ts";
import { createLogger } from "../src/observability/logger.ts";
import { hashNamespace } from "../src/redaction/namespace-labeler.ts";
import { FakeJira } from "./fakes/fake-jira.ts";
import { FakeServiceNow } from "./fakes/fake-servicenow.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const falcoToken = "falco-e2e-token-not-real";
const hookSecret = `whsec_${Buffer.from("redaction-e2e-hook-secret-not-real").toString("base64")}`;
const nsHashKey = "redaction-e2e-namespace-hash-key-not-real";
const jiraEmail = "zen-e2e@example.com";
const jiraToken = "jira-redaction-e2e-token-not-real";
const snPassword = "sn-redaction-e2e-password-not-real";
const adminToken = "redaction-e2e-admin-token-not-real";

/** Base32 (AWS's alphabet for key ids) and base64url, from random bytes. */
const awsAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function randomAwsKeyId(): string {
  return `AKIA${Array.from(randomBytes(16), (b) => awsAlphabet[b % 32]).join("")}`;
}
const jwtHeader = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
const jwtPayload = Buffer.from(
  JSON.stringify({ sub: `svc-${randomBytes(9).toString("base64url")}`, exp: 1_900_000_000 }),
).toString("base64url");
const jwtSignature = randomBytes(32).toString("base64url");
const jwt = `${jwtHeader}.${jwtPayload}.${jwtSignature}`;
const awsKey = randomAwsKeyId();
/** The parts no byte sent out may contain, whole or as any 8-character window. */
const randomParts = [jwtPayload, jwtSignature, awsKey.slice(4)];

function assertNoLeak(what: string, text: string): void {
  for (const part of randomParts) {
    for (let i = 0; i + 8 <= part.length; i++) {
      const window = part.slice(i, i + 8);
      assert.ok(!text.includes(window), `${what} holds "${window}" of a secret`);
    }
  }
  assert.ok(!text.includes("payments"), `${what} names the hashed namespace`);
}

let falcoCounter = 0;
/** A Falco JSON output (sources.md §8.1, fixture A) whose command line carries a bearer token and an AWS key. */
function falcoEvent(rule = "Terminal shell in container"): Record<string, unknown> {
  falcoCounter++;
  const cmdline = `curl -sS -H 'Authorization: Bearer ${jwt}' https://internal.example.com/upload && aws s3 cp /data s3://backups --access-key ${awsKey}`;
  return {
    hostname: `node-${falcoCounter}`,
    output: `2026-10-01T11:59:58.123456789+0000: Critical A shell was spawned in a container | evt_type=execve user=root process=sh command=${cmdline} container_name=shell-demo k8s_pod_name=shell-demo k8s_ns_name=payments`,
    output_fields: {
      "container.name": "shell-demo",
      "evt.type": "execve",
      "k8s.ns.name": "payments",
      "ka.target.namespace": "kube-system",
      "k8s.pod.name": "shell-demo",
      "proc.cmdline": cmdline,
      "proc.name": "sh",
      "user.name": "root",
      seq: falcoCounter,
    },
    priority: "Critical",
    rule,
    source: "syscall",
    tags: ["container", "shell", "mitre_execution"],
    time: `2026-10-01T11:59:${String(falcoCounter % 60).padStart(2, "0")}.123456789Z`,
  };
}

function yaml(hookUrl: string, rawUrl: string): string {
  return [
    "tenants:",
    "  - id: acme",
    "    redaction:",
    "      namespaces: { mode: hash, hashKey: env:NS_HASH_KEY, allow: [kube-system] }",
    "    providers:",
    "      jira: { url: env:JIRA_FAKE_URL, email: zen-e2e@example.com, token: env:JIRA_E2E_TOKEN }",
    "      servicenow: { instance: env:SN_FAKE_URL, username: zen-e2e, password: env:SN_PASSWORD }",
    "    sources:",
    "      - id: falco",
    "        verify: { token: { header: x-falco-token } }",
    "        secrets: [env:FALCO_TOKEN]",
    '        eventType: { jsonPath: "$.rule" }',
    '        fields: { severity: { jsonPath: "$.priority" }, subject: { jsonPath: "$.rule" } }',
    "    destinations:",
    `      - { id: hook, type: webhook, url: "${hookUrl}", secret: env:HOOK_SECRET }`,
    "      - { id: tickets, type: jira, project: OPS }",
    "      - { id: incidents, type: servicenow }",
    `      - { id: raw, type: webhook, url: "${rawUrl}", redact: false }`,
    "      - id: huge",
    "        type: webhook",
    `        url: "${hookUrl}"`,
    "        templates:",
    '          body: "[{% for i in (1..100000) %}{{ event.data | json }},{% endfor %}0]"',
    "      - id: endless",
    "        type: jira",
    "        project: OPS",
    "        templates:",
    '          description: "{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}"',
    "    routes:",
    '      - { from: [falco], when: { type: "Terminal shell in container" }, to: [hook, tickets, incidents, raw] }',
    '      - { from: [falco], when: { type: "Huge body" }, to: [huge] }',
    '      - { from: [falco], when: { type: "Endless description" }, to: [endless] }',
  ].join("\n");
}

interface Trace {
  readonly destinations: Record<string, { state: string; detail: string }>;
}

interface DlqItem {
  readonly eventId: string;
  readonly destination: string;
  readonly reason: string;
  readonly lastError: string | null;
}

describe("redaction end to end (Falco → webhook, Jira, ServiceNow)", () => {
  let hook: WebhookSink;
  let raw: WebhookSink;
  let jira: FakeJira;
  let servicenow: FakeServiceNow;
  let service: TestService;
  const logLines: Array<Record<string, unknown>> = [];
  const delivered: string[] = [];

  async function postFalco(body: Record<string, unknown>): Promise<string> {
    const response = await fetch(`${service.url}/webhooks/acme/falco`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-falco-token": falcoToken },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { status?: string; eventId?: string };
    assert.equal(response.status, 200, JSON.stringify(answer));
    assert.equal(answer.status, "accepted");
    assert.ok(answer.eventId);
    return answer.eventId;
  }

  async function admin<T>(path: string): Promise<T> {
    const response = await fetch(`${service.url}${path}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  }

  const settled = (eventId: string, destinations: readonly string[], state: string) =>
    waitFor(
      `${eventId} → ${destinations.join(", ")} ${state}`,
      async () => {
        const trace = await admin<Trace>(`/admin/events/acme/${eventId}`);
        return destinations.every((d) => trace.destinations[d]?.state === state) ? trace : undefined;
      },
      20_000,
    );

  const dlqEntry = async (eventId: string): Promise<DlqItem> => {
    const page = await admin<{ items: DlqItem[] }>("/admin/dlq?tenant=acme&limit=500");
    const entry = page.items.find((item) => item.eventId === eventId);
    assert.ok(entry, `no DLQ entry for ${eventId}`);
    return entry;
  };

  /** Every byte each fake received: method, target, headers and body. */
  const receivedBy = () => ({
    webhook: hook.requests.map((r) => [r.method, r.url, JSON.stringify(r.headers), r.body].join("\n")),
    jira: jira.requests.map((r) => [r.method, r.path, r.authorization ?? "", r.body].join("\n")),
    servicenow: servicenow.requests.map((r) =>
      [r.method, r.url, JSON.stringify(r.headers), r.body].join("\n"),
    ),
  });

  before(async () => {
    [hook, raw] = await Promise.all([WebhookSink.start(), WebhookSink.start()]);
    jira = await FakeJira.start({ email: jiraEmail, token: jiraToken, projects: [{ key: "OPS" }] });
    servicenow = await FakeServiceNow.start({ username: "zen-e2e", password: snPassword });
    service = await startTestService({
      yaml: yaml(hook.url, raw.url),
      env: {
        FALCO_TOKEN: falcoToken,
        HOOK_SECRET: hookSecret,
        NS_HASH_KEY: nsHashKey,
        JIRA_FAKE_URL: jira.url,
        JIRA_E2E_TOKEN: jiraToken,
        SN_FAKE_URL: servicenow.url,
        SN_PASSWORD: snPassword,
        ZEN_ADMIN_TOKEN: adminToken,
        QUEUE_MAX_RETRIES: "3",
      },
      logger: createLogger("warn", {
        write: (line: string) => {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        },
      }),
    });
    for (let i = 0; i < 2; i++) {
      const eventId = await postFalco(falcoEvent());
      await settled(eventId, ["hook", "tickets", "incidents", "raw"], "delivered");
      delivered.push(eventId);
    }
  });

  after(async () => {
    await service?.close();
    await Promise.all([hook?.close(), raw?.close(), jira?.close(), servicenow?.close()]);
  });

  it("no byte received by the webhook sink, Jira or ServiceNow holds the token or the AWS key", () => {
    const received = receivedBy();
    assert.equal(received.webhook.length, 2);
    assert.ok(jira.requests.some((r) => r.path === "/rest/api/3/issue" && r.method === "POST"));
    assert.ok(servicenow.requests.some((r) => r.method === "POST"));
    for (const [fake, requests] of Object.entries(received)) {
      requests.forEach((text, i) => {
        assertNoLeak(`${fake} request ${i}`, text);
      });
    }
  });

  it("placeholders take their place, in the webhook body, the Jira issue and the ServiceNow incident", () => {
    const body = JSON.parse(hook.requests[0]?.body ?? "{}") as {
      subject?: string;
      severity?: string;
      data: { output: string; output_fields: Record<string, string> };
    };
    assert.equal(body.subject, "Terminal shell in container");
    assert.equal(body.severity, "critical");
    for (const text of [body.data.output, body.data.output_fields["proc.cmdline"] ?? ""]) {
      assert.match(text, /Authorization: Bearer \[REDACTED_TOKEN\]/);
      assert.match(text, /--access-key \[REDACTED_API_KEY\]/);
    }
    const [issue] = jira.issues;
    assert.ok(issue);
    assert.equal(issue.summary, "[CRITICAL] Terminal shell in container — Terminal shell in container");
    const description = adfPlainText(issue.description);
    assert.match(description, /\[REDACTED_TOKEN\]/);
    assert.match(description, /\[REDACTED_API_KEY\]/);
    const created = JSON.parse(servicenow.requests.find((r) => r.method === "POST")?.body ?? "{}") as Record<
      string,
      string
    >;
    assert.equal(created.short_description, "[CRITICAL] Terminal shell in container");
    assert.match(created.description ?? "", /\[REDACTED_API_KEY\]/);
    assert.ok(created.description?.split("\n").includes(`Event ID: ${delivered[0]}`));
  });

  it("the webhook signature verifies over the redacted body (standardwebhooks)", () => {
    for (const request of hook.requests) {
      const verified = new Webhook(hookSecret).verify(request.body, {
        "webhook-id": String(request.headers["webhook-id"]),
        "webhook-timestamp": String(request.headers["webhook-timestamp"]),
        "webhook-signature": String(request.headers["webhook-signature"]),
      });
      assert.deepEqual(verified, JSON.parse(request.body));
    }
  });

  it("an allowlisted namespace passes through; another is the same ns-<hash> in both deliveries", () => {
    const label = hashNamespace("payments", Buffer.from(nsHashKey, "utf8"));
    assert.match(label, /^ns-[0-9a-f]{10}$/);
    const bodies = hook.requests.map(
      (r) => JSON.parse(r.body) as { data: { output: string; output_fields: Record<string, string> } },
    );
    assert.equal(bodies.length, 2);
    for (const body of bodies) {
      assert.equal(body.data.output_fields["k8s.ns.name"], label);
      assert.equal(body.data.output_fields["ka.target.namespace"], "kube-system");
      assert.ok(body.data.output.endsWith(`k8s_ns_name=${label}`), body.data.output);
    }
    const descriptions = servicenow.requests
      .filter((r) => r.method === "POST")
      .map((r) => (JSON.parse(r.body) as { description: string }).description);
    assert.equal(descriptions.length, 2);
    for (const description of descriptions) assert.ok(description.includes(`"k8s.ns.name": "${label}"`));
  });

  it("counts zen_redactions_total per tenant and kind, both layers of every attempt", async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const count = (kind: string) =>
      Number(
        new RegExp(`^zen_redactions_total\\{tenant="acme",kind="${kind}"\\} (\\d+)$`, "m").exec(text)?.[1] ??
          0,
      );
    // Per event and redacting destination (hook, tickets, incidents): the key twice (output, cmdline).
    assert.ok(count("aws_key") >= 2 * 3 * 2, text);
    assert.ok(count("jwt") + count("token") >= 2 * 3 * 2, text);
    assert.ok(count("namespace") >= 2 * 3 * 2, text);
  });

  it("redact: false: that destination gets the raw event, and startup warned about it", () => {
    assert.equal(raw.requests.length, 2);
    const body = raw.requests[0]?.body ?? "";
    assert.ok(body.includes(awsKey) && body.includes(jwt) && body.includes('"k8s.ns.name":"payments"'));
    const warning = logLines.find(
      (line) =>
        line.level === 40 &&
        line.msg ===
          "redaction is off for destination acme/raw (redact: false): its events are sent unredacted",
    );
    assert.ok(warning, JSON.stringify(logLines));
    assert.equal(warning.destination, "raw");
  });

  it("templates that render megabytes or never end go to the DLQ; the worker stays healthy", async () => {
    const huge = await postFalco(falcoEvent("Huge body"));
    const endless = await postFalco(falcoEvent("Endless description"));
    await settled(huge, ["huge"], "dead_lettered");
    await settled(endless, ["endless"], "dead_lettered");

    const hugeEntry = await dlqEntry(huge);
    assert.equal(hugeEntry.reason, "template_render_failed");
    assert.match(
      hugeEntry.lastError ?? "",
      /^template_render_failed: tenants\[0\]\.destinations\[4\]\.templates\.body:1:\d+: output size limit/,
    );
    // A render stopped by its time limit may be a busy host: retried, then dead-lettered.
    const endlessEntry = await dlqEntry(endless);
    assert.equal(endlessEntry.reason, "retries_exhausted");
    assert.match(
      endlessEntry.lastError ?? "",
      /^template_render_failed: .*render time limit \(500 ms\) exceeded/,
    );
    assert.equal(
      jira.requests.filter((r) => r.path === "/rest/api/3/issue" && r.method === "POST").length,
      2,
      "the endless description created nothing",
    );

    assert.equal((await fetch(`${service.url}/ready`)).status, 200);
    const next = await postFalco(falcoEvent());
    await settled(next, ["hook", "tickets", "incidents"], "delivered");
    assert.equal(hook.requests.length, 3);
    assertNoLeak("the next webhook request", hook.requests[2]?.body ?? "");
  });
});
