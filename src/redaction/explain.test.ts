import assert from "node:assert/strict";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { explainRedaction } from "./explain.ts";
import type { RedactionFinding } from "./matches.ts";
import { compileRedactionPolicy } from "./policy.ts";
import { redactValue } from "./redact-value.ts";

const policy = compileRedactionPolicy({ namespaces: { mode: "redact", allow: [] } });

test("dry run of a JSON document: both layers, with locations and kinds but never the secrets", () => {
  const input = JSON.stringify({
    output: "shell in prod by ops@example.com",
    output_fields: { "k8s.ns.name": "prod", "proc.cmdline": "curl -H 'Authorization: Bearer abc123def456'" },
    "owner a@b.io": true,
  });
  const report = explainRedaction(input, policy);
  assert.ok(report.value !== undefined);
  const byPath = (findings: readonly RedactionFinding[]) =>
    findings.map((f) => `${f.target} ${f.path} ${f.kind}`).sort();
  assert.deepEqual(byPath(report.value.findings), [
    "key  email",
    "value /output email",
    "value /output namespace",
    "value /output_fields/k8s.ns.name namespace",
    "value /output_fields/proc.cmdline token",
  ]);
  assert.deepEqual(report.value.counts, { email: 2, namespace: 2, token: 1 });
  assert.deepEqual(report.text.counts, { email: 2, namespace: 2, token: 1 });
  for (const f of report.text.findings) {
    assert.equal(f.target, "text");
    assert.ok(f.end > f.start && f.end <= input.length);
  }
  const shown = JSON.stringify(report);
  for (const secret of ["ops@example.com", "abc123def456", "a@b.io", '"prod"'])
    assert.ok(!shown.includes(secret), secret);
});

test("finding offsets point at what was replaced in the original string", () => {
  const findings: RedactionFinding[] = [];
  const original = "mail ops@example.com or 10.0.0.1";
  redactValue({ list: [original] }, policy, { findings });
  assert.deepEqual(
    findings.map((f) => [f.path, original.slice(f.start, f.end), f.kind]),
    [
      ["/list/0", "ops@example.com", "email"],
      ["/list/0", "10.0.0.1", "ip"],
    ],
  );
});

test("dry run of YAML with a parser; of plain text without one", () => {
  const yaml = "kind: Secret\ndata:\n  token: c2VjcmV0\nowner: ops@example.com\n";
  const report = explainRedaction(yaml, policy, { parse: parseYaml });
  assert.deepEqual(report.value?.output, {
    kind: "Secret",
    data: { token: "[REDACTED_SECRET]" },
    owner: "[REDACTED_EMAIL]",
  });
  assert.equal(
    report.text.output,
    "kind: Secret\ndata:\n  token: [REDACTED_SECRET]\nowner: [REDACTED_EMAIL]\n",
  );
  const plain = explainRedaction("not json: password=x", policy);
  assert.equal(plain.value, undefined);
  assert.equal(plain.text.output, "not json: password=[REDACTED_SECRET]");
});
