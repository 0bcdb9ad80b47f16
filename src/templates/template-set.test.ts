import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { falcoSampleEvent } from "./sample-events.ts";
import { createTemplateEngine } from "./template-engine.ts";
import {
  compileTemplateSet,
  type TemplatedDestinationType,
  type TemplateSetResult,
  templateParts,
} from "./template-set.ts";
import { contextOf } from "./testing.ts";

const prefix = "tenants[0].destinations[1].template";

function problemsOf<T extends TemplatedDestinationType>(result: TemplateSetResult<T>): string[] {
  assert.ok(!result.ok, "expected problems");
  return result.problems.map((p) => `${p.location}: ${p.message}`);
}

describe("compileTemplateSet", () => {
  it("gives every part of every type its default", () => {
    for (const type of Object.keys(templateParts) as TemplatedDestinationType[]) {
      const result = compileTemplateSet(type, {}, prefix);
      assert.ok(result.ok, type);
      assert.deepEqual(Object.keys(result.templates), Object.keys(templateParts[type]));
      assert.deepEqual(result.warnings, []);
    }
  });

  it("shares compiled defaults between destinations of an engine", () => {
    const a = compileTemplateSet("jira", {}, "a");
    const b = compileTemplateSet("jira", {}, "b");
    assert.ok(a.ok && b.ok);
    assert.equal(a.templates.summary, b.templates.summary);
    assert.equal(a.templates.summary.name, "default:jira.summary");
  });

  it("replaces only the overridden parts", () => {
    const result = compileTemplateSet(
      "jira",
      { summary: "{{ event.type | upcase }} in {{ event.resource.namespace }}" },
      prefix,
    );
    assert.ok(result.ok);
    assert.equal(
      result.templates.summary.render(contextOf(falcoSampleEvent)),
      "TERMINAL SHELL IN CONTAINER in sandbox",
    );
    assert.equal(result.templates.summary.name, `${prefix}.summary`);
    assert.equal(result.templates.description.name, "default:jira.description");
  });

  it("lets the user template the webhook body, as JSON", () => {
    const result = compileTemplateSet("webhook", { body: '{"text": {{ event.subject | json }}}' }, prefix);
    assert.ok(result.ok);
    const body = result.templates.body;
    assert.ok(body);
    assert.equal(body.output, "json");
    assert.deepEqual(body.renderJson(contextOf(falcoSampleEvent)), { text: falcoSampleEvent.subject });
  });

  it("reports every problem at once, as config problem lines", () => {
    const result = compileTemplateSet(
      "slack",
      {
        text: "{{ event.type | shout }}",
        blocks: "[\n  {% include 'blocks' %}\n]",
        attachments: "[]",
      },
      prefix,
    );
    assert.deepEqual(problemsOf(result), [
      `${prefix}.attachments: unknown template part for a slack destination; known: text, blocks`,
      `${prefix}.text:1:1: undefined filter: shout`,
      `${prefix}.blocks:2:3: the "include" tag is not allowed: templates cannot read other templates or files`,
    ]);
  });

  it("refuses an empty override and quotes odd part names", () => {
    const result = compileTemplateSet("servicenow", { short_description: "  \n", "work notes": "x" }, prefix);
    assert.deepEqual(problemsOf(result), [
      `${prefix}["work notes"]: unknown template part for a servicenow destination; known: short_description, description`,
      `${prefix}.short_description: empty template; leave the part out to use the default`,
    ]);
  });

  it("locates errors by the name given with the source (e.g. a template file)", () => {
    const result = compileTemplateSet(
      "jira",
      { description: { source: "# Title\n\n{% if x %}", name: "/etc/zen/templates/jira.md" } },
      prefix,
    );
    assert.deepEqual(problemsOf(result), ["/etc/zen/templates/jira.md:3:1: tag {% if x %} not closed"]);
  });

  it("warns when an override cannot render the sample events, without failing", () => {
    const result = compileTemplateSet("observation", { fields: '{"count": {{ event.data.count }}}' }, prefix);
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, [
      {
        location: `${prefix}.fields`,
        message: "output is not valid JSON: Unexpected token '}' (rendering the sample falco event)",
      },
    ]);
  });

  it("warns when an override's JSON has the wrong shape", () => {
    const result = compileTemplateSet("slack", { blocks: '{"blocks": []}' }, prefix);
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, [
      {
        location: `${prefix}.blocks`,
        message: "output must be a JSON array, not an object (rendering the sample falco event)",
      },
    ]);
  });

  it("uses the given engine and sample contexts", () => {
    const engine = createTemplateEngine({ limits: { maxSourceChars: 20 } });
    const long = compileTemplateSet("jira", { summary: "x".repeat(21) }, prefix, { engine });
    assert.deepEqual(problemsOf(long), [
      `${prefix}.summary: template is longer than 20 characters`,
      `${prefix}.description: default template: default:jira.description: template is longer than 20 characters`,
    ]);

    const samples = [{ name: "custom", context: { event: { ...falcoSampleEvent, data: { count: 3 } } } }];
    const result = compileTemplateSet(
      "observation",
      { fields: '{"count": {{ event.data.count }}}' },
      prefix,
      { samples },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, []);
  });
});
