import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PermanentError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import type { RedactionCounts } from "./kinds.ts";
import { hashNamespace } from "./namespace-labeler.ts";
import { compileRedactionPolicy } from "./policy.ts";
import {
  AttemptRedaction,
  defaultRedactionPolicy,
  knownNamespacesOf,
  prepareEvent,
  redactBody,
} from "./redact-delivery.ts";
import { RedactionError } from "./redaction-error.ts";

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6ZW4tdGVzdCJ9.c2lnbmF0dXJlLW5vdC1yZWFsLTAxMjM0NTY3";
const awsKey = "AKIA4QZTB7WRX2KD3NVM";

const event: ZenEvent = Object.freeze({
  id: "evt-a@b.io",
  tenant: "acme",
  source: "falco",
  type: "Terminal shell in container",
  severity: "critical",
  category: "security",
  resource: { kind: "Pod", name: "shell-demo", namespace: "payments" },
  subject: "shell in payments by ops@example.com",
  data: {
    output: `curl -H 'Authorization: Bearer ${jwt}' k8s_ns_name=payments`,
    output_fields: { "proc.cmdline": `aws --key ${awsKey}`, "k8s.ns.name": "payments" },
  },
  headers: { "x-forwarded-for": "203.0.113.7" },
  receivedAt: "2026-10-01T12:00:00.000Z",
  fingerprint: "falco:shell",
});

const hashKey = Buffer.from("a-tenant-hash-key-not-real-0123456789");
const hashing = compileRedactionPolicy({ namespaces: { mode: "hash", hashKey, allow: ["kube-*"] } });

describe("prepareEvent (layer 1)", () => {
  test("redacts what an event carries, keeps our identifiers, never mutates the input", () => {
    const before = JSON.stringify(event);
    const { event: out, counts } = prepareEvent(event, defaultRedactionPolicy());
    assert.equal(JSON.stringify(event), before);
    assert.deepEqual(
      [out.id, out.tenant, out.source, out.type, out.receivedAt, out.severity],
      [event.id, event.tenant, event.source, event.type, event.receivedAt, event.severity],
    );
    assert.equal(out.subject, "shell in [REDACTED_NAMESPACE] by [REDACTED_EMAIL]");
    assert.deepEqual(out.resource, { kind: "Pod", name: "shell-demo", namespace: "[REDACTED_NAMESPACE]" });
    assert.deepEqual(out.headers, { "x-forwarded-for": "[REDACTED_IP]" });
    const data = JSON.stringify(out.data);
    assert.ok(!data.includes(jwt.slice(20, 40)) && !data.includes(awsKey.slice(4)), data);
    assert.ok(!data.includes("payments"), data);
    assert.match(data, /\[REDACTED_TOKEN\]|\[REDACTED_SECRET\]/);
    assert.equal(out.category, "security");
    assert.equal(out.fingerprint, "falco:shell");
    assert.ok(
      (counts.email ?? 0) >= 1 && (counts.namespace ?? 0) >= 3 && (counts.aws_key ?? 0) >= 1,
      JSON.stringify(counts),
    );
  });

  test("hash mode: the same namespace is the same label, in every field and every call", () => {
    const label = hashNamespace("payments", hashKey);
    const a = prepareEvent(event, hashing).event;
    const b = prepareEvent({ ...event, id: "evt-2" }, hashing).event;
    assert.equal(a.resource?.namespace, label);
    assert.equal(a.subject, `shell in ${label} by [REDACTED_EMAIL]`);
    assert.deepEqual(a.data, b.data);
    const allowed = prepareEvent(
      { ...event, resource: { kind: "Pod", name: "p", namespace: "kube-system" } },
      hashing,
    );
    assert.equal(allowed.event.resource?.namespace, "kube-system");
  });

  test("a namespace named like one of our fields does not rename it", () => {
    const out = prepareEvent(
      { ...event, resource: { kind: "Pod", name: "p", namespace: "data" }, subject: "in data" },
      defaultRedactionPolicy(),
    ).event;
    assert.ok(out.data !== undefined && typeof out.data === "object");
    assert.equal(out.subject, "in [REDACTED_NAMESPACE]");
  });

  test("redact: false (no policy): the event itself, nothing counted", () => {
    const prepared = prepareEvent(event, undefined);
    assert.equal(prepared.event, event);
    assert.deepEqual(prepared.counts, {});
  });

  test("fails closed: a value it cannot walk is RedactionError redaction_failed, a PermanentError", () => {
    const data: Record<string, unknown> = { a: 1 };
    data.self = data;
    assert.throws(
      () => prepareEvent({ ...event, data }, defaultRedactionPolicy()),
      (err: unknown) =>
        err instanceof RedactionError && err instanceof PermanentError && err.reason === "redaction_failed",
    );
  });
});

describe("redactBody (layer 2)", () => {
  test("keeps a JSON body valid and redacts what a template put together", () => {
    const body = JSON.stringify({ text: `token=${jwt}`, note: `key ${awsKey}` });
    const { text, counts } = redactBody(body, defaultRedactionPolicy());
    assert.doesNotThrow(() => JSON.parse(text));
    assert.ok(!text.includes(awsKey) && !text.includes(jwt), text);
    assert.ok(Object.keys(counts).length > 0);
  });

  test("known namespaces are redacted where merely mentioned", () => {
    assert.equal(
      redactBody("deployed to payments", defaultRedactionPolicy(), knownNamespacesOf(event)).text,
      "deployed to [REDACTED_NAMESPACE]",
    );
    assert.equal(redactBody("deployed to payments", defaultRedactionPolicy()).text, "deployed to payments");
  });

  test("no policy: the text as is", () => {
    assert.deepEqual(redactBody(`key ${awsKey}`, undefined), { text: `key ${awsKey}`, counts: {} });
  });
});

describe("AttemptRedaction", () => {
  test("sums both layers and reports once, under the tenant", () => {
    const reports: Array<[string, RedactionCounts]> = [];
    const attempt = new AttemptRedaction(event, defaultRedactionPolicy(), (tenant, counts) =>
      reports.push([tenant, counts]),
    );
    const layer1 = prepareEvent(event, defaultRedactionPolicy()).counts;
    const awsPlaceholder = redactBody(awsKey, defaultRedactionPolicy()).text;
    assert.equal(attempt.body(`a@b.io ${awsKey}`), `[REDACTED_EMAIL] ${awsPlaceholder}`);
    attempt.report("acme");
    attempt.report("acme");
    assert.equal(reports.length, 1);
    const [tenant, counts] = reports[0] ?? ["", {}];
    assert.equal(tenant, "acme");
    assert.equal(counts.email, (layer1.email ?? 0) + 1);
    assert.equal(counts.aws_key, (layer1.aws_key ?? 0) + 1);
  });

  test("nothing redacted, or no policy: nothing reported", () => {
    const reports: RedactionCounts[] = [];
    const plain: ZenEvent = {
      id: "e",
      tenant: "acme",
      source: "s",
      type: "t",
      data: { n: 1 },
      receivedAt: "x",
    };
    const attempt = new AttemptRedaction(plain, defaultRedactionPolicy(), (_t, c) => reports.push(c));
    attempt.body('{"n":1}');
    attempt.report("acme");
    const off = new AttemptRedaction(event, undefined, (_t, c) => reports.push(c));
    assert.equal(off.event, event);
    assert.equal(off.body(awsKey), awsKey);
    off.report("acme");
    assert.deepEqual(reports, []);
  });
});
