import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { loadYaml } from "../config/testing.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { dryRunRedaction, policyFor, policyLine } from "./redact-command.ts";

const awsKey = "AKIA2NX7QB5TKWZ3RMVD";
const token = "ghp_0123456789abcdefghijABCDEFGHIJ0123";
const document = {
  output: `curl -H 'Authorization: token ${token}' k8s_ns_name=payments`,
  output_fields: { "proc.cmdline": `aws --key ${awsKey}`, "k8s.ns.name": "payments" },
  rule: "Terminal shell in container",
};

function assertNoSecret(text: string): void {
  for (const secret of [awsKey, token, "payments"]) assert.ok(!text.includes(secret), text);
}

describe("zen redact (dry run)", () => {
  it("JSON: the redacted document on stdout, kinds and JSON Pointers in the report, never the values", () => {
    const { output, report } = dryRunRedaction(JSON.stringify(document), defaultRedactionPolicy(), "json");
    assertNoSecret(output);
    assertNoSecret(report.join("\n"));
    const parsed = JSON.parse(output) as typeof document;
    assert.equal(parsed.output_fields["k8s.ns.name"], "[REDACTED_NAMESPACE]");
    assert.equal(parsed.rule, document.rule);
    assert.deepEqual(report, [
      "layer 1 (structured, json): 4 redactions (github_token 1, namespace 2, aws_key 1)",
      "  github_token at /output",
      "  namespace at /output",
      "  aws_key at /output_fields/proc.cmdline",
      "  namespace at /output_fields/k8s.ns.name",
      "layer 2 (text, on the layer 1 output): nothing redacted",
    ]);
  });

  it("YAML in, YAML out", () => {
    const yaml = `output_fields:\n  proc.cmdline: aws --key ${awsKey}\n  k8s.ns.name: payments\n`;
    const { output, report } = dryRunRedaction(yaml, defaultRedactionPolicy(), "yaml");
    assertNoSecret(output);
    assert.deepEqual(parseYaml(output), {
      output_fields: {
        "proc.cmdline": "aws --key [REDACTED_API_KEY]",
        "k8s.ns.name": "[REDACTED_NAMESPACE]",
      },
    });
    assert.equal(report[0], "layer 1 (structured, yaml): 2 redactions (namespace 1, aws_key 1)");
  });

  it("text, and input that does not parse as its format, get layer 2 with line:col", () => {
    const text = `first line\nkey ${awsKey} and ops@example.com\n`;
    const plain = dryRunRedaction(text, defaultRedactionPolicy(), "text");
    assert.equal(plain.output, "first line\nkey [REDACTED_API_KEY] and [REDACTED_EMAIL]\n");
    assert.deepEqual(plain.report, [
      "layer 2 (text): 2 redactions (email 1, aws_key 1)",
      "  aws_key at 2:5",
      "  email at 2:30",
    ]);
    const notJson = dryRunRedaction(text, defaultRedactionPolicy(), "json");
    assert.equal(notJson.output, plain.output);
    assert.equal(notJson.report[0], "the input is not valid JSON: redacted as text (layer 2 only)");
  });

  it("uses the tenant's policy: --tenant, else tenant default, else the default policy", () => {
    const config = loadYaml(
      [
        "tenants:",
        "  - id: acme",
        "    redaction: { rules: [email] }",
        "  - id: default",
        "    redaction: { rules: [aws_key] }",
      ].join("\n"),
    );
    const acme = policyFor(config, "acme");
    assert.equal(acme.source, "tenant acme");
    assert.equal(
      dryRunRedaction(`${awsKey} a@b.io`, acme.policy, "text").output,
      `${awsKey} [REDACTED_EMAIL]`,
    );
    assert.equal(policyFor(config, undefined).source, "tenant default");
    assert.equal(
      policyLine("tenant acme", acme.policy),
      "redacting with tenant acme: kinds email, namespaces redacted",
    );
    const none = policyFor(loadYaml("tenants: []\n"), undefined);
    assert.equal(none.policy, defaultRedactionPolicy());
    assert.throws(() => policyFor(config, "nope"), /no tenant "nope" in the configuration/);
  });
});
