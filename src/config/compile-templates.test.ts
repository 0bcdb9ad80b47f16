import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ZenEvent } from "../domain/event.ts";
import { templateContext } from "../templates/template-context.ts";
import { checkConfig } from "./check-config.ts";
import type {
  JiraDestinationConfig,
  ServiceNowDestinationConfig,
  WebhookDestinationConfig,
} from "./config.ts";
import { startupWarnings } from "./startup-warnings.ts";
import { fakeFiles, loadYaml, testConfigPath, yamlProblems } from "./testing.ts";

const env = { ACME_JIRA_TOKEN: "jira-token-not-real", ACME_SN_PASSWORD: "sn-password-not-real" };

/** A tenant with Jira and ServiceNow connections and the given destination lines. */
function yaml(...destinationLines: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      jira: { url: https://acme.atlassian.net, email: ops@example.com, token: env:ACME_JIRA_TOKEN }",
    "      servicenow: { instance: acme.service-now.com, username: zen, password: env:ACME_SN_PASSWORD }",
    "    destinations:",
    ...destinationLines,
  ].join("\n");
}

const event: ZenEvent = {
  id: "evt-1",
  tenant: "acme",
  source: "falco",
  type: "Terminal shell in container",
  severity: "high",
  subject: "shell in pod",
  data: { output: "sh -c id" },
  receivedAt: "2026-10-01T12:00:00.000Z",
};
const context = templateContext(event, { ref: "zd-0123456789abcdef" });

describe("destination templates", () => {
  it("compiles inline and file templates at load; other parts keep their defaults", () => {
    const config = loadYaml(
      yaml(
        "      - id: tickets",
        "        type: jira",
        "        project: OPS",
        "        templates:",
        '          summary: "{{ event.severity | upcase }}: {{ event.subject }}"',
        "      - id: incidents",
        "        type: servicenow",
        "        templates: { description: { file: templates/incident.liquid } }",
        "      - id: hook",
        "        type: webhook",
        "        url: https://hooks.example.com/in",
        '        templates: { body: "{\\"id\\": {{ event.id | json }}}" }',
      ),
      env,
      { "/etc/zen/templates/incident.liquid": "Incident {{ event.id }}\nEvent ID: {{ event.id }}\n" },
    );
    const destinations = config.tenants.get("acme")?.destinations;
    const jira = destinations?.get("tickets") as JiraDestinationConfig;
    assert.deepEqual(jira.templates?.custom, ["summary"]);
    assert.equal(jira.templates?.parts.summary.render(context), "HIGH: shell in pod");
    assert.match(jira.templates?.parts.description.render(context) ?? "", /delivery zd-0123456789abcdef$/);
    const sn = destinations?.get("incidents") as ServiceNowDestinationConfig;
    assert.equal(sn.templates?.parts.description.name, "/etc/zen/templates/incident.liquid");
    assert.equal(sn.templates?.parts.description.render(context), "Incident evt-1\nEvent ID: evt-1\n");
    assert.equal(sn.templates?.parts.short_description.render(context), "[HIGH] shell in pod");
    const hook = destinations?.get("hook") as WebhookDestinationConfig;
    assert.equal(hook.templates?.parts.body?.render(context), '{"id": "evt-1"}');
    // Compiled templates stay usable inside the deep-frozen config.
    assert.ok(Object.isFrozen(jira) && Object.isFrozen(jira.templates));
  });

  it("without templates: nothing is stored, the destination renders the defaults", () => {
    const config = loadYaml(yaml("      - { id: tickets, type: jira, project: OPS, templates: {} }"), env);
    assert.ok(!("templates" in (config.tenants.get("acme")?.destinations.get("tickets") ?? {})));
  });

  it("a broken template is a problem line naming its path (or file) and line:col", () => {
    const problems = yamlProblems(
      yaml(
        "      - id: tickets",
        "        type: jira",
        "        project: OPS",
        "        templates:",
        '          summary: "[{{ event.severity | nope }}]"',
        '          description: "Hi\\n{% if event.subject %}no end"',
        "          sumary: x",
        "      - id: incidents",
        "        type: servicenow",
        "        templates:",
        "          short_description: { file: /etc/zen/short.liquid }",
        "          description: { file: /etc/zen/missing.liquid }",
        "      - id: hook",
        "        type: webhook",
        "        url: https://hooks.example.com/in",
        "        templates: { body: 42 }",
      ),
      env,
      { "/etc/zen/short.liquid": "ok\n  {{ event.type | nope }}" },
    );
    assert.deepEqual(problems, [
      'tenants[0].destinations[0].templates.sumary: unknown template part for a jira destination (did you mean "summary"?)',
      "tenants[0].destinations[0].templates.summary:1:2: undefined filter: nope",
      "tenants[0].destinations[0].templates.description:2:1: tag {% if event.subject %} not closed",
      "tenants[0].destinations[1].templates.description.file: cannot read template file /etc/zen/missing.liquid: no such file",
      "/etc/zen/short.liquid:2:3: undefined filter: nope",
      "tenants[0].destinations[2].templates.body: expected a Liquid template (a string) or { file: /path/to/template.liquid }",
    ]);
  });

  it("zen config check exits with the problems (code 2 in the CLI) and summarizes custom templates", () => {
    const broken = yaml(
      "      - { id: tickets, type: jira, project: OPS, templates: { summary: '{{ x | nope }}' } }",
    );
    const failed = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, ...env },
      readFile: fakeFiles({ [testConfigPath]: broken }),
    });
    assert.deepEqual(failed.ok ? [] : failed.problems, [
      "tenants[0].destinations[0].templates.summary:1:1: undefined filter: nope",
    ]);
    const fine = yaml(
      "      - { id: tickets, type: jira, project: OPS, templates: { summary: '{{ event.type }}', description: '{{ event.id }}' } }",
    );
    const result = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, ...env },
      readFile: fakeFiles({ [testConfigPath]: fine }),
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(
      result.summary.some(
        (line) =>
          line.startsWith("  destination tickets: jira") &&
          line.endsWith("; custom templates summary, description"),
      ),
      result.summary.join("\n"),
    );
  });

  it("a template that fails on a sample event is a warning, not a problem", () => {
    const config = loadYaml(
      yaml(
        "      - id: hook",
        "        type: webhook",
        "        url: https://hooks.example.com/in",
        "        templates: { body: '{{ event.id }}' }",
      ),
      env,
    );
    const warnings = startupWarnings(config).map((w) => w.message);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0] ?? "",
      /^template warning: tenants\[0\]\.destinations\[0\]\.templates\.body: output is not valid JSON/,
    );
  });
});
