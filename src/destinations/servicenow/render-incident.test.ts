import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ZenEvent } from "../../domain/event.ts";
import {
  maxDescriptionDataChars,
  maxShortDescriptionChars,
  renderIncident,
  truncate,
} from "./render-incident.ts";

const base: ZenEvent = {
  id: "evt-1",
  tenant: "acme",
  source: "gh",
  type: "push",
  data: { ref: "refs/heads/main" },
  receivedAt: "2026-01-01T00:00:00.000Z",
};

describe("renderIncident", () => {
  it("titles an event without subject or severity by its type and source", () => {
    const texts = renderIncident(base);
    assert.equal(texts.shortDescription, "push from gh");
    assert.equal(
      texts.description,
      [
        "push from gh",
        "",
        "Tenant: acme",
        "Source: gh",
        "Event type: push",
        "Event ID: evt-1",
        "Received at: 2026-01-01T00:00:00.000Z",
        "",
        "Data:",
        '{\n  "ref": "refs/heads/main"\n}',
        "",
        "Created by zen-integrations.",
      ].join("\n"),
    );
  });

  it("puts severity, subject and resource in the title, on one line", () => {
    const texts = renderIncident({
      ...base,
      severity: "critical",
      subject: "Shell in\ncontainer",
      resource: { kind: "Pod", namespace: "prod", name: "web-1" },
      category: "runtime",
    });
    assert.equal(texts.shortDescription, "[CRITICAL] Shell in container (Pod prod/web-1)");
    assert.match(texts.description, /\nSeverity: critical\nCategory: runtime\nResource: Pod prod\/web-1\n/);
  });

  it("keeps short_description within 160 characters, never splitting a character", () => {
    const texts = renderIncident({ ...base, subject: "🔥".repeat(300) });
    assert.equal(Array.from(texts.shortDescription).length, maxShortDescriptionChars);
    assert.ok(texts.shortDescription.endsWith("…"));
    assert.ok(!/[\uD800-\uDBFF]…$/.test(texts.shortDescription));
    assert.equal(truncate("abc", 3), "abc");
    assert.equal(truncate("abcd", 3), "ab…");
  });

  it("cuts large data and survives data JSON cannot show", () => {
    const big = renderIncident({ ...base, data: { blob: "x".repeat(maxDescriptionDataChars * 2) } });
    assert.match(big.description, new RegExp(`… \\(cut at ${maxDescriptionDataChars} characters\\)`));
    assert.ok(big.description.length < maxDescriptionDataChars + 1_000);
    const odd = renderIncident({ ...base, data: { n: 10n } });
    assert.match(odd.description, /the event data cannot be shown as JSON/);
  });

  it("writes notes naming the event", () => {
    const texts = renderIncident(base);
    assert.equal(texts.repeatNote, "Fired again: event evt-1 (push) from gh at 2026-01-01T00:00:00.000Z.");
    assert.match(texts.closeNotes, /^Resolved by zen-integrations: event evt-1 /);
    assert.match(texts.reopenNote, /^Reopened by zen-integrations/);
  });
});
