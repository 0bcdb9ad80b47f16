import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adfPlainText, toAdf } from "../destinations/jira/adf.ts";
import { renderJiraIssue } from "../destinations/jira/render-jira-issue.ts";
import { eventIdLine, renderIncident } from "../destinations/servicenow/render-incident.ts";
import { renderBody } from "../destinations/webhook/render-body.ts";
import type { ZenEvent } from "../domain/event.ts";
import { webhookBodyTemplate } from "./defaults.ts";
import { createTemplateEngine } from "./template-engine.ts";
import {
  type CompiledTemplateSet,
  compileTemplateSet,
  type TemplatedDestinationType,
} from "./template-set.ts";
import { contextOf, hostileEvent, templateTestEvents, testDeliveryRef } from "./testing.ts";

function defaults<T extends TemplatedDestinationType>(type: T): CompiledTemplateSet<T> {
  const result = compileTemplateSet(type, {}, `defaults.${type}`);
  assert.ok(result.ok, `defaults of ${type} must compile`);
  assert.deepEqual(result.warnings, []);
  return result.templates;
}

const jira = defaults("jira");
const servicenow = defaults("servicenow");
const slack = defaults("slack");
const observation = defaults("observation");

/** The events the legacy renderers and the defaults must agree on (all but the hostile one). */
const ordinaryEvents = templateTestEvents.filter((e) => e.event !== hostileEvent);

function codePoints(text: string): number {
  return Array.from(text).length;
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), "expected an object");
  return value as Record<string, unknown>;
}

describe("default templates reproduce today's rendering", () => {
  for (const { name, event } of ordinaryEvents) {
    it(`Jira summary and description, ${name}`, () => {
      const legacy = renderJiraIssue(event, testDeliveryRef);
      assert.equal(jira.summary.render(contextOf(event)), legacy.summary);
      assert.equal(jira.description.render(contextOf(event)), legacy.description);
    });

    it(`ServiceNow short_description and description, ${name}`, () => {
      const legacy = renderIncident(event);
      assert.equal(servicenow.short_description.render(contextOf(event)), legacy.shortDescription);
      assert.equal(servicenow.description.render(contextOf(event)), legacy.description);
    });
  }

  for (const { name, event } of templateTestEvents) {
    it(`webhookBodyTemplate gives the built-in body's JSON, ${name}`, () => {
      const template = createTemplateEngine().compile(webhookBodyTemplate, "webhook.body", {
        output: "json-object",
      });
      assert.deepEqual(template.renderJson(contextOf(event)), JSON.parse(renderBody(event)));
    });
  }

  it("webhook bodies stay un-templated by default", () => {
    const result = compileTemplateSet("webhook", {}, "d");
    assert.ok(result.ok);
    assert.equal(result.templates.body, undefined);
  });
});

describe("default templates render valid output for every test event", () => {
  for (const { name, event } of templateTestEvents) {
    const context = contextOf(event);

    it(`Jira, ${name}: one-line summary of 1–255 characters; description that toAdf takes`, () => {
      const summary = jira.summary.render(context);
      assert.ok(!/[\r\n]/.test(summary), summary);
      assert.ok(codePoints(summary) >= 1 && codePoints(summary) <= 255, `${codePoints(summary)} characters`);
      const description = jira.description.render(context);
      const adf = toAdf(description);
      assert.ok(adf.content.length > 0);
      assert.ok(adfPlainText(adf).includes(testDeliveryRef), "the delivery ref survives into ADF");
      assert.ok(JSON.stringify(adf).includes('"type":"codeBlock"'), "the data is a code block");
    });

    it(`ServiceNow, ${name}: one-line short_description ≤ 160; description names the event id`, () => {
      const short = servicenow.short_description.render(context);
      assert.ok(!/[\r\n]/.test(short), short);
      assert.ok(codePoints(short) >= 1 && codePoints(short) <= 160);
      const description = servicenow.description.render(context);
      if (!event.id.includes("\n")) assert.ok(description.split("\n").includes(eventIdLine(event)));
    });

    it(`Slack, ${name}: escaped one-line text; Block Kit blocks within Slack's limits`, () => {
      const text = slack.text.render(context);
      assert.ok(!/[\r\n<>]/.test(text), text);
      assert.ok(text.length > 0 && codePoints(text) <= 3000);
      assertSlackBlocks(slack.blocks.renderJson(context), event);
    });

    it(`Observation, ${name}: fields the Observation CRD accepts`, () => {
      assertObservationFields(observation.fields.renderJson(context), event);
    });
  }

  it("keeps Slack mentions and links from the payload inert", () => {
    const blocks = JSON.stringify(slack.blocks.renderJson(contextOf(hostileEvent)));
    assert.ok(
      !blocks.includes("<!channel>") && !blocks.includes("<!here>") && !blocks.includes("<https://evil"),
    );
    assert.ok(blocks.includes("&lt;!channel&gt;"));
    assert.ok(!blocks.includes("javascript:alert"), "a javascript: link is no button");
  });

  it("links a GitHub push to its compare view", () => {
    const push = templateTestEvents.find((e) => e.name === "github push")?.event;
    assert.ok(push);
    const blocks = slack.blocks.renderJson(contextOf(push)) as {
      type: string;
      elements?: { url?: string }[];
    }[];
    const actions = blocks.find((b) => b.type === "actions");
    assert.equal(
      actions?.elements?.[0]?.url,
      "https://github.com/acme/api/compare/9049f1265b7d...0d1a26e67d8f",
    );
  });

  it("formats a Falco alert as today's Jira summary shape", () => {
    const audit = templateTestEvents.find((e) => e.name === "falco k8s audit")?.event;
    assert.ok(audit);
    assert.equal(
      jira.summary.render(contextOf(audit)),
      "[CRITICAL] Cluster Secret Accessed via K8s API — Secret prod/db-credentials",
    );
    assert.equal(
      slack.text.render(contextOf(audit)),
      "🔴 [CRITICAL] Cluster Secret Accessed via K8s API — Secret prod/db-credentials",
    );
  });
});

/** Block Kit's documented limits for the blocks the default uses. */
function assertSlackBlocks(value: unknown, event: ZenEvent): void {
  assert.ok(Array.isArray(value), "blocks must be an array");
  assert.ok(value.length >= 3 && value.length <= 50);
  const [header, section, context] = value.map(record);
  assert.ok(header && section && context);
  assert.equal(header.type, "header");
  const headerText = record(header.text);
  assert.equal(headerText.type, "plain_text");
  assert.ok(
    typeof headerText.text === "string" && headerText.text !== "" && codePoints(headerText.text) <= 150,
  );

  assert.equal(section.type, "section");
  const sectionText = record(section.text);
  assert.equal(sectionText.type, "mrkdwn");
  assert.ok(
    typeof sectionText.text === "string" && sectionText.text !== "" && sectionText.text.length <= 3000,
  );
  assert.ok(Array.isArray(section.fields) && section.fields.length >= 1 && section.fields.length <= 10);
  for (const field of section.fields.map(record)) {
    assert.equal(field.type, "mrkdwn");
    assert.ok(typeof field.text === "string" && field.text.length <= 2000);
    assert.ok(!/<[!@#]/.test(field.text), field.text);
  }

  assert.equal(context.type, "context");
  assert.ok(Array.isArray(context.elements) && context.elements.length >= 1 && context.elements.length <= 10);
  for (const element of context.elements.map(record)) {
    assert.ok(typeof element.text === "string" && element.text.length <= 2000);
    assert.ok(
      element.text.includes(event.source.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")),
    );
  }

  for (const block of value.slice(3).map(record)) {
    assert.equal(block.type, "actions");
    const button = record((block.elements as unknown[])[0]);
    assert.ok(
      typeof button.url === "string" && /^https?:\/\//i.test(button.url) && button.url.length <= 3000,
    );
  }
}

const observationCategories = ["security", "compliance", "performance", "operations", "cost"];
const observationSeverities = ["critical", "high", "medium", "low", "info"];

/** reference/zen-watcher.md §1.7: the CRD's legacy-style required fields, enums and patterns. */
function assertObservationFields(value: unknown, event: ZenEvent): void {
  const fields = record(value);
  assert.ok(observationCategories.includes(fields.category as string), `category ${String(fields.category)}`);
  assert.ok(observationSeverities.includes(fields.severity as string), `severity ${String(fields.severity)}`);
  assert.equal(fields.severity, event.severity ?? "info");
  assert.match(fields.eventType as string, /^[a-z0-9_]+$/);
  if (event.resource) assert.deepEqual(fields.resource, event.resource);
  else assert.ok(!("resource" in fields));
  const details = record(fields.details);
  assert.equal(details.eventId, event.id);
  assert.equal(details.type, event.type);
  assert.deepEqual(details.data, event.data);
  assert.equal(details.subject, event.subject);
  assert.equal(details.fingerprint, event.fingerprint);
}
