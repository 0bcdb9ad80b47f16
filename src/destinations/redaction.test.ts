/**
 * Both redaction layers and the templates, as each destination type applies them, through the
 * factory (`createDestination`) against real HTTP fakes: what leaves is redacted, signed over the
 * redacted bytes, counted; failures refuse to send with `redaction_failed` / `template_render_failed`.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { FakeJira } from "../../test/fakes/fake-jira.ts";
import { FakeServiceNow } from "../../test/fakes/fake-servicenow.ts";
import { WebhookSink } from "../../test/fakes/webhook-sink.ts";
import { MemoryKeyStore } from "../adapters/memory/key-store.ts";
import type {
  DestinationTemplates,
  JiraDestinationConfig,
  ServiceNowDestinationConfig,
  WebhookDestinationConfig,
} from "../config/config.ts";
import { PermanentError, RetryableError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import type { RedactionCounts } from "../redaction/kinds.ts";
import { compileRedactionPolicy } from "../redaction/policy.ts";
import {
  compileTemplateSet,
  type TemplatedDestinationType,
  type TemplateOverride,
} from "../templates/template-set.ts";
import { createDestination, type DestinationDeps } from "./create-destination.ts";
import { deliveryRef } from "./delivery-ref.ts";
import type { Destination } from "./destination.ts";
import { adfPlainText } from "./jira/adf.ts";

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6ZW4tdW5pdCJ9.bm90LWEtcmVhbC1zaWduYXR1cmUtMDEyMzQ1Njc4OQ";
const awsKey = "AKIA7M3QZXW2KT5RBNVD";
const whsec = `whsec_${Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64")}`;
const idempotencyKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const never = new AbortController().signal;

let counter = 0;
function falcoEvent(overrides: Partial<ZenEvent> = {}): ZenEvent {
  counter++;
  return {
    id: `evt-unit-${counter}`,
    tenant: "acme",
    source: "falco",
    type: "Terminal shell in container",
    severity: "critical",
    subject: "Terminal shell in container",
    resource: { kind: "Pod", name: "shell-demo", namespace: "payments" },
    data: {
      output: `Notice shell | command=curl -H 'Authorization: Bearer ${jwt}' k8s_ns_name=payments`,
      output_fields: { "proc.cmdline": `aws s3 ls --key ${awsKey}`, "k8s.ns.name": "payments" },
      alert: `shell-${counter}`,
    },
    receivedAt: "2026-10-01T12:00:00.000Z",
    ...overrides,
  };
}

/** Neither secret, nor any 8-character window of its random part, nor the namespace. */
function assertClean(text: string): void {
  for (const secret of [jwt, awsKey.slice(4)]) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      assert.ok(!text.includes(secret.slice(i, i + 8)), `leaked ${secret.slice(i, i + 8)} in ${text}`);
    }
  }
  assert.ok(!text.includes("payments"), text);
}

function templates<T extends TemplatedDestinationType>(
  type: T,
  overrides: Readonly<Record<string, TemplateOverride>>,
): DestinationTemplates<T> {
  const result = compileTemplateSet(type, overrides, `test.${type}`);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return { parts: result.templates, custom: Object.keys(overrides), warnings: [] };
}

const reports: Array<[string, RedactionCounts]> = [];
const built: Destination[] = [];
const keys = new MemoryKeyStore();

function build(
  config: WebhookDestinationConfig | JiraDestinationConfig | ServiceNowDestinationConfig,
  deps: Partial<DestinationDeps> = {},
): Destination {
  const d = createDestination(config, {
    maxRetryAfterMs: 60_000,
    egress: { allowPrivate: true, allowCidrs: [] },
    keys,
    onRedactions: (tenant, counts) => reports.push([tenant, counts]),
    ...deps,
  });
  built.push(d);
  return d;
}

let sink: WebhookSink;
let jira: FakeJira;
let servicenow: FakeServiceNow;
const jiraToken = "unit-jira-token-not-real";
const snPassword = "unit-sn-password-not-real";

before(async () => {
  sink = await WebhookSink.start();
  jira = await FakeJira.start({ email: "ops@example.com", token: jiraToken, projects: [{ key: "OPS" }] });
  servicenow = await FakeServiceNow.start({ username: "zen", password: snPassword });
});
after(async () => {
  await Promise.all(built.map((d) => d.close()));
  await Promise.all([sink.close(), jira.close(), servicenow.close()]);
});
beforeEach(() => {
  reports.length = 0;
  sink.reset();
  jira.reset();
  servicenow.reset();
});

function webhook(overrides: Partial<WebhookDestinationConfig> = {}): WebhookDestinationConfig {
  return {
    type: "webhook",
    id: "hook",
    tenant: "acme",
    url: sink.url,
    secret: whsec,
    headers: {},
    timeoutMs: 5_000,
    ...overrides,
  };
}

function jiraConfig(overrides: Partial<JiraDestinationConfig> = {}): JiraDestinationConfig {
  return {
    type: "jira",
    id: "tickets",
    tenant: "acme",
    connection: { url: jira.url, email: "ops@example.com", token: jiraToken },
    project: "OPS",
    issueType: "Task",
    labels: [],
    priorityBySeverity: { critical: "Highest" },
    resolveTransition: "Done",
    reopenTransition: "To Do",
    timeoutMs: 5_000,
    fingerprintFields: ["data.alert"],
    resolvedWhen: { "data.status": "resolved" },
    reopenOnRecurrence: false,
    ...overrides,
  };
}

function serviceNowConfig(overrides: Partial<ServiceNowDestinationConfig> = {}): ServiceNowDestinationConfig {
  return {
    type: "servicenow",
    id: "incidents",
    tenant: "acme",
    connection: { instanceUrl: `${servicenow.url}/`, username: "zen", password: snPassword },
    table: "incident",
    urgencyBySeverity: { critical: "1" },
    impactBySeverity: { critical: "1" },
    closeCode: "Resolved by caller",
    timeoutMs: 5_000,
    fingerprintFields: ["data.alert"],
    resolvedWhen: { "data.status": "resolved" },
    reopenOnRecurrence: false,
    ...overrides,
  };
}

function send(d: Destination, event: ZenEvent, attempt = 1) {
  return d.send({ event, idempotencyKey, attempt }, never);
}

async function rejectsWith(promise: Promise<unknown>, type: typeof PermanentError | typeof RetryableError) {
  const err = await promise.then(
    () => assert.fail("expected a failure"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof type, String(err));
  return err as PermanentError | RetryableError;
}

describe("webhook destination", () => {
  test("sends the redacted body, signed over the redacted bytes, and counts both layers", async () => {
    const d = build(webhook());
    await send(d, falcoEvent());
    const [request] = sink.requests;
    assert.ok(request);
    assertClean(request.body);
    assert.match(request.body, /\[REDACTED_NAMESPACE\]/);
    const verified = new Webhook(whsec).verify(request.body, {
      "webhook-id": String(request.headers["webhook-id"]),
      "webhook-timestamp": String(request.headers["webhook-timestamp"]),
      "webhook-signature": String(request.headers["webhook-signature"]),
    });
    assert.deepEqual(verified, JSON.parse(request.body));
    assert.equal(reports.length, 1);
    const [tenant, counts] = reports[0] ?? ["", {}];
    assert.equal(tenant, "acme");
    assert.ok((counts.aws_key ?? 0) >= 1 && (counts.namespace ?? 0) >= 3, JSON.stringify(counts));
  });

  test("uses the tenant's policy from the factory; redact: false sends the raw event", async () => {
    const onlyEmail = compileRedactionPolicy({ rules: ["email"], namespaces: { mode: "redact", allow: [] } });
    const tenantPolicy = build(webhook({ id: "only-email" }), { redactionPolicyOf: () => onlyEmail });
    await send(tenantPolicy, falcoEvent({ subject: "ops@example.com" }));
    const body = sink.requests[0]?.body ?? "";
    assert.ok(body.includes(awsKey) && body.includes("[REDACTED_EMAIL]"), body);

    const raw = build(webhook({ id: "raw", redact: false }));
    await send(raw, falcoEvent());
    assert.ok(sink.requests[1]?.body.includes(awsKey));
    assert.equal(reports.length, 1, "nothing counted for the raw destination");
  });

  test("layer 2 catches what a body template put together from pieces", async () => {
    const split = templates("webhook", {
      body: '{"k": {{ event.data.a | append: event.data.b | json }}, "ns": {{ event.resource.namespace | json }}}',
    });
    const d = build(webhook({ id: "joined", templates: split }));
    await send(d, falcoEvent({ data: { a: awsKey.slice(0, 10), b: awsKey.slice(10) } }));
    const body = sink.requests[0]?.body ?? "";
    assert.ok(!body.includes(awsKey), body);
    assert.ok(body.includes('"ns": "[REDACTED_NAMESPACE]"'), body);
    assert.doesNotThrow(() => JSON.parse(body));
  });

  test("redaction that fails sends nothing: PermanentError redaction_failed", async () => {
    const data: Record<string, unknown> = {};
    data.loop = data;
    const err = await rejectsWith(
      send(build(webhook({ id: "cyclic" })), falcoEvent({ data })),
      PermanentError,
    );
    assert.equal(err.reason, "redaction_failed");
    assert.equal(sink.requests.length, 0);
  });

  test("a body template of megabytes is template_render_failed, permanent, nothing sent", async () => {
    const huge = templates("webhook", {
      body: "[{% for i in (1..100000) %}{{ event.data | json }},{% endfor %}0]",
    });
    const err = await rejectsWith(
      send(build(webhook({ id: "huge", templates: huge })), falcoEvent()),
      PermanentError,
    );
    assert.equal(err.reason, "template_render_failed");
    assert.match(err.message, /^test\.webhook\.body:1:\d+: output size limit/);
    assert.equal(sink.requests.length, 0);
  });

  test("a body template that loops past the render time is template_render_failed, retryable", async () => {
    const loop = templates("webhook", {
      body: "{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}{}",
    });
    const err = await rejectsWith(
      send(build(webhook({ id: "loop", templates: loop })), falcoEvent()),
      RetryableError,
    );
    assert.equal(err.reason, "template_render_failed");
    assert.match(err.message, /render time limit/);
    assert.equal(sink.requests.length, 0);
  });
});

describe("Jira destination", () => {
  test("issue and comment bodies are redacted; the summary is the template's, one line", async () => {
    const custom = templates("jira", {
      summary: "{{ event.severity | upcase }}\n{{ event.subject }} in {{ event.resource.namespace }}",
    });
    const d = build(jiraConfig({ templates: custom }));
    await send(d, falcoEvent({ data: { alert: "one", cmd: `aws --key ${awsKey}` } }));
    await send(d, falcoEvent({ data: { alert: "one", cmd: `Bearer ${jwt}` } }));
    const writes = jira.requests.filter((r) => r.method === "POST" && !r.path.includes("search"));
    assert.equal(writes.length, 2, "create, then comment");
    for (const r of jira.requests) assertClean(r.body);
    const [issue] = jira.issues;
    assert.ok(issue);
    assert.equal(issue.summary, "CRITICAL Terminal shell in container in [REDACTED_NAMESPACE]");
    assert.match(adfPlainText(issue.description), /delivery zd-9f86d081884c7d65/);
    assert.equal(reports.length, 2);
  });

  test("a custom description without the delivery ref gets it appended", async () => {
    const d = build(
      jiraConfig({
        id: "no-ref",
        templates: templates("jira", { description: "Shell: {{ event.subject }}" }),
      }),
    );
    await send(d, falcoEvent({ data: { alert: "two" } }));
    const text = adfPlainText(jira.issues[0]?.description);
    assert.match(text, /^Shell: Terminal shell in container/);
    assert.ok(text.includes(deliveryRef(idempotencyKey)), text);
  });

  test("redact: false leaves Jira bodies raw", async () => {
    await send(
      build(jiraConfig({ id: "raw", redact: false })),
      falcoEvent({ data: { alert: "raw", k: awsKey } }),
    );
    assert.ok(jira.requests.some((r) => r.body.includes(awsKey)));
  });
});

describe("ServiceNow destination", () => {
  test("create and update bodies are redacted; short description ≤ 160; the Event ID line is kept", async () => {
    const custom = templates("servicenow", {
      short_description: `{{ event.subject }} {{ "${"x".repeat(200)}" }}`,
      description: "Shell in {{ event.resource.namespace }}: {{ event.data.cmd }}",
    });
    const d = build(serviceNowConfig({ templates: custom }));
    const first = falcoEvent({ data: { alert: "sn", cmd: `aws --key ${awsKey}` } });
    await send(d, first);
    await send(d, falcoEvent({ data: { alert: "sn", cmd: `Bearer ${jwt}` } }));
    const writes = servicenow.requests.filter((r) => r.method !== "GET");
    assert.equal(writes.length, 2, "create, then a work note");
    for (const r of servicenow.requests) assertClean(r.body);
    const created = JSON.parse(writes[0]?.body ?? "{}") as Record<string, string>;
    assert.equal(Array.from(created.short_description ?? "").length, 160);
    assert.ok(created.short_description?.endsWith("…"));
    assert.ok(
      created.description?.startsWith("Shell in [REDACTED_NAMESPACE]: aws --key "),
      created.description,
    );
    assert.ok(created.description?.split("\n").includes(`Event ID: ${first.id}`), created.description);
    assert.equal(reports.length, 2);
  });

  test("redact: false leaves ServiceNow bodies raw", async () => {
    await send(
      build(serviceNowConfig({ id: "raw", redact: false })),
      falcoEvent({ data: { alert: "raw", k: awsKey } }),
    );
    assert.ok(servicenow.requests.some((r) => r.body.includes(awsKey)));
  });
});
