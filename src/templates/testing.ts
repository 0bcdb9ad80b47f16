/**
 * Test support for the template tests (not used by production code): events beyond the two samples
 * (sample-events.ts) that stress the default templates.
 */
import type { ZenEvent } from "../domain/event.ts";
import { falcoSampleEvent, githubPushSampleEvent } from "./sample-events.ts";
import type { TemplateContext } from "./template-context.ts";

/** Falco fixture D (k8s_audit plugin): critical, a Secret in `prod`, `null` fields, no subject. */
export const falcoAuditEvent: ZenEvent = {
  id: "falco-k8saudit-0:1791332065354008000",
  tenant: "acme",
  source: "falco",
  type: "Cluster Secret Accessed via K8s API",
  severity: "critical",
  resource: { apiVersion: "v1", kind: "Secret", namespace: "prod", name: "db-credentials" },
  data: {
    hostname: "falco-k8saudit-0",
    output:
      "00:14:25.354008000: Critical Cluster secret accessed in prod ns (verb=list user=system:serviceaccount:insecure:react2shell resource=secrets ns=prod name=<NA> uri=/api/v1/namespaces/prod/secrets source=<NA>)",
    output_fields: {
      "evt.time": 1791332065354008000,
      "ka.sourceips": null,
      "ka.target.name": null,
      "ka.target.namespace": "prod",
      "ka.target.resource": "secrets",
      "ka.uri": "/api/v1/namespaces/prod/secrets",
      "ka.user.name": "system:serviceaccount:insecure:react2shell",
      "ka.verb": "list",
    },
    priority: "Critical",
    rule: "Cluster Secret Accessed via K8s API",
    source: "k8s_audit",
    tags: ["k8s", "secrets"],
    time: "2026-10-07T00:14:25.354008000Z",
  },
  receivedAt: "2026-10-07T00:14:25.501Z",
};

/** Only the required fields; `type` unknown, `data` null. */
export const minimalEvent: ZenEvent = {
  id: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
  tenant: "default",
  source: "generic",
  type: "unknown",
  data: null,
  receivedAt: "2026-10-01T00:00:00.000Z",
};

/**
 * Everything that breaks naive templates: quotes, backslashes, newlines and tabs in one-line fields,
 * Slack control sequences, Markdown, a `javascript:` link, astral characters and a very long subject.
 */
export const hostileEvent: ZenEvent = {
  id: 'id "with" quotes\\and\nnewline',
  tenant: "acme",
  source: "custom",
  type: 'deploy.failed "prod"\n\t<!here>',
  category: "Compliance",
  severity: "high",
  resource: { kind: "Deployment", namespace: "ns-\u2028x", name: 'api"}, {"injected": true' },
  subject: `<!channel> <https://evil.example|click> **bold** \`code\` ${"🚀".repeat(200)} ${"long ".repeat(400)}`,
  data: {
    html_url: "javascript:alert(1)",
    text: '"}], "blocks": [] //',
    nested: { "a.b": [1, "two", { three: null }] },
    unicode: "caf\u00e9 \u{1f600} \u0000 \u001f",
  },
  headers: { "x-custom": "1" },
  receivedAt: "2026-10-01T12:00:00.000Z",
  fingerprint: 'fp\n"quoted"',
};

/** Every event the default templates are checked against. */
export const templateTestEvents: readonly { readonly name: string; readonly event: ZenEvent }[] = [
  { name: "falco shell", event: falcoSampleEvent },
  { name: "github push", event: githubPushSampleEvent },
  { name: "falco k8s audit", event: falcoAuditEvent },
  { name: "minimal", event: minimalEvent },
  { name: "hostile", event: hostileEvent },
];

/** A delivery reference as the Jira destination makes them. */
export const testDeliveryRef = "zd-0123456789abcdef";

export function contextOf(event: ZenEvent): TemplateContext {
  return { event, delivery: { ref: testDeliveryRef } };
}
