import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ZenEvent } from "../domain/event.ts";
import { templateContext } from "../templates/template-context.ts";
import { checkConfig } from "./check-config.ts";
import type { RouteTemplates } from "./config.ts";
import { startupWarnings } from "./startup-warnings.ts";
import { fakeFiles, loadYaml, testConfigPath, yamlProblems } from "./testing.ts";

const env = { ACME_JIRA_TOKEN: "jira-token-not-real" };

/** A tenant with a webhook and a Jira destination and the given route lines. */
function yaml(...routeLines: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    providers:",
    "      jira: { url: https://acme.atlassian.net, email: ops@example.com, token: env:ACME_JIRA_TOKEN }",
    "    sources:",
    "      - { id: falco, verify: none }",
    "      - { id: trivy, verify: none }",
    "    destinations:",
    "      - id: ops-hook",
    "        type: webhook",
    "        url: https://hooks.example.com/in",
    "      - id: tickets",
    "        type: jira",
    "        project: OPS",
    "        templates: { description: 'own description {{ event.id }}' }",
    "    routes:",
    ...routeLines,
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

function routeTemplates(config: ReturnType<typeof loadYaml>, route: number, id: string): RouteTemplates {
  const templates = config.tenants.get("acme")?.routes[route]?.templates?.[id];
  assert.ok(templates, `route ${route} has templates for ${id}`);
  return templates;
}

describe("route templates", () => {
  it("compile per destination id, against that destination's type; other parts keep the destination's", () => {
    const config = loadYaml(
      yaml(
        "      - from: [falco]",
        "        to: [ops-hook, tickets]",
        "        templates:",
        '          ops-hook: { body: "{\\"route\\": \\"falco\\", \\"id\\": {{ event.id | json }}}" }',
        "          tickets: { summary: { file: templates/falco-summary.liquid } }",
        "      - { from: [trivy], to: [ops-hook] }",
      ),
      env,
      { "/etc/zen/templates/falco-summary.liquid": "FALCO {{ event.subject | upcase }}" },
    );
    const hook = routeTemplates(config, 0, "ops-hook");
    assert.equal(hook.type, "webhook");
    assert.deepEqual(hook.custom, ["body"]);
    assert.equal(
      hook.type === "webhook" && hook.parts.body?.render(context),
      '{"route": "falco", "id": "evt-1"}',
    );
    const tickets = routeTemplates(config, 0, "tickets");
    assert.ok(tickets.type === "jira");
    assert.equal(tickets.parts.summary.name, "/etc/zen/templates/falco-summary.liquid");
    assert.equal(tickets.parts.summary.render(context), "FALCO SHELL IN POD");
    // Not named by the route: the destination's own description, not the default.
    assert.equal(tickets.parts.description.render(context), "own description evt-1");
    assert.equal(config.tenants.get("acme")?.routes[1]?.templates, undefined);
    assert.ok(Object.isFrozen(config.tenants.get("acme")?.routes[0]?.templates));
  });

  it("each broken case is a problem naming the route, the destination and the place in the template", () => {
    const problems = yamlProblems(
      yaml(
        "      - from: [falco]",
        "        to: [ops-hook, tickets]",
        "        templates:",
        '          ops-hook: { body: "{{ event.id | nope }}", sumary: x }',
        "          tickets:",
        '            summary: "ok"',
        '            description: "line one\\n{% if event.subject %}never closed"',
        "            sumary: x",
        "          alerts: { text: hi }",
        "      - to: [tickets]",
        "        templates:",
        "          tickets: { summary: { file: /etc/zen/missing.liquid }, description: { file: /etc/zen/bad.liquid } }",
        "      - to: [ops-hook]",
        "        templates: { ops-hook: { body: 42 } }",
        "      - to: [ops-hook]",
        "        templates: [body]",
      ),
      env,
      { "/etc/zen/bad.liquid": "fine\n  {{ event.type | nope }}" },
    );
    assert.deepEqual(problems, [
      'tenants[0].routes[0].templates["ops-hook"].sumary: unknown template part for a webhook destination; known: body',
      'tenants[0].routes[0].templates["ops-hook"].body:1:1: undefined filter: nope',
      'tenants[0].routes[0].templates.tickets.sumary: unknown template part for a jira destination (did you mean "summary"?)',
      "tenants[0].routes[0].templates.tickets.description:2:1: tag {% if event.subject %} not closed",
      'tenants[0].routes[0].templates.alerts: destination "alerts" is not one of this route\'s to (ops-hook, tickets)',
      "tenants[0].routes[1].templates.tickets.summary.file: cannot read template file /etc/zen/missing.liquid: no such file",
      "/etc/zen/bad.liquid:2:3: undefined filter: nope",
      'tenants[0].routes[2].templates["ops-hook"].body: expected a Liquid template (a string) or { file: /path/to/template.liquid }',
      "tenants[0].routes[3].templates: expected a mapping, got a list",
    ]);
  });

  it("a destination configured from the environment cannot take route templates", () => {
    const problems = yamlProblems(
      [
        "tenants:",
        "  - id: default",
        "    routes:",
        "      - to: [servicenow]",
        "        templates: { servicenow: { short_description: '{{ event.type }}' } }",
      ].join("\n"),
      {
        SERVICENOW_INSTANCE: "acme.service-now.com",
        SERVICENOW_USERNAME: "zen",
        SERVICENOW_PASSWORD: "sn-password-not-real",
      },
    );
    assert.deepEqual(problems, [
      'tenants[0].routes[0].templates.servicenow: destination "servicenow" comes from the environment; declare it under destinations: to give it route templates',
    ]);
  });

  it("zen config check fails on a broken route template and lists the good ones", () => {
    const failed = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, ...env },
      readFile: fakeFiles({
        [testConfigPath]: yaml(
          "      - { to: [tickets], templates: { tickets: { summary: '{{ x | nope }}' } } }",
        ),
      }),
    });
    assert.deepEqual(failed.ok ? [] : failed.problems, [
      "tenants[0].routes[0].templates.tickets.summary:1:1: undefined filter: nope",
    ]);
    const result = checkConfig({
      env: { ZEN_CONFIG: testConfigPath, ...env },
      readFile: fakeFiles({
        [testConfigPath]: yaml(
          "      - { to: [tickets], templates: { tickets: { summary: '{{ event.type }}' } } }",
        ),
      }),
    });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.ok(result.summary.includes("    templates for tickets: summary"), result.summary.join("\n"));
  });

  it("a route template that fails on a sample event is a startup warning, not a problem", () => {
    const config = loadYaml(
      yaml("      - { to: [ops-hook], templates: { ops-hook: { body: '{{ event.id }}' } } }"),
      env,
    );
    const warnings = startupWarnings(config).map((w) => w.message);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0] ?? "",
      /^template warning: tenants\[0\]\.routes\[0\]\.templates\["ops-hook"\]\.body: output is not valid JSON/,
    );
  });
});
