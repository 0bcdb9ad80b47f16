/**
 * The "normalize" stage (DESIGN.md §1): canonical event fields a source's preset can fill in from the
 * verified, parsed payload, so routes and destinations can match on `subject`/`category` without
 * knowing each provider's shape. `data` is always kept as received. A preset without an entry here
 * adds nothing.
 */
import type { SourceFieldsConfig } from "../config/config.ts";
import type { ZenEvent } from "../domain/event.ts";
import { normalizeSeverity } from "../domain/severity.ts";
import { extractField } from "./verify/extract-field.ts";
import type { RequestHeaders } from "./verify/headers.ts";

export type NormalizedFields = Pick<ZenEvent, "category" | "subject" | "severity" | "fingerprint">;

/** Longest subject/category/fingerprint kept from a payload (they land in summaries and labels). */
const maxFieldLength = 512;

/**
 * The canonical fields of an event: what the preset derives from `data`, overridden by the source's
 * configured `fields:` locations. Never throws (unexpected shapes add nothing).
 */
export function normalizedFields(
  preset: string | undefined,
  fields: SourceFieldsConfig | undefined,
  headers: RequestHeaders,
  data: unknown,
): NormalizedFields {
  const fromPreset = preset === "jira" ? jiraFields(data) : {};
  if (!fields) return fromPreset;
  const read = (name: keyof SourceFieldsConfig) => {
    const ref = fields[name];
    const value = ref ? extractField(ref, headers, data) : undefined;
    return value === undefined || value === "" ? undefined : value.slice(0, maxFieldLength);
  };
  const severity = read("severity");
  const normalizedSeverity = severity === undefined ? undefined : normalizeSeverity(severity);
  const subject = read("subject");
  const category = read("category");
  const fingerprint = read("fingerprint");
  return {
    ...fromPreset,
    ...(normalizedSeverity && { severity: normalizedSeverity }),
    ...(subject && { subject }),
    ...(category && { category }),
    ...(fingerprint && { fingerprint }),
  };
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
