/**
 * The "normalize" stage (DESIGN.md §1): canonical event fields a source's preset can fill in from the
 * verified, parsed payload, so routes and destinations can match on `subject`/`category` without
 * knowing each provider's shape. `data` is always kept as received. A preset without an entry here
 * adds nothing.
 */
import type { ZenEvent } from "../domain/event.ts";

export type NormalizedFields = Pick<ZenEvent, "category" | "subject">;

/** The canonical fields `preset` derives from `data`; never throws (unexpected shapes add nothing). */
export function normalizedFields(preset: string | undefined, data: unknown): NormalizedFields {
  switch (preset) {
    case "jira":
      return jiraFields(data);
    default:
      return {};
  }
}

/**
 * Jira webhooks (providers.md §2.7): issue events (`jira:issue_*`, and `comment_*` which carry the
 * issue too) become category `ticket` with the issue key (`OPS-2`) as subject. The type is
 * `webhookEvent` (the preset's event type); what changed stays in `data.changelog.items`, the
 * issue's state in `data.issue.fields` (a route can match `data.issue.fields.status.name: Done`).
 */
function jiraFields(data: unknown): NormalizedFields {
  const issue = record(record(data)?.issue);
  const key = issue?.key;
  if (typeof key !== "string" || key === "") return {};
  return { category: "ticket", subject: key };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
