/**
 * The texts of a ServiceNow incident, from an event: the journal notes (`renderIncidentNotes`), the
 * rules every short description and description obey (`shortDescriptionLine`, `withEventIdLine`), and
 * `renderIncident`, the original rendering that the default templates (templates/defaults.ts)
 * reproduce and are tested against; the destination renders short description and description with
 * its templates. Fields that are not text (urgency, impact, assignment group, correlation) are the
 * destination's business, not the template's.
 */
import type { ZenEvent } from "../../domain/event.ts";

/** The journal entries an event adds to an incident that already exists. */
export interface IncidentNotes {
  /** `work_notes` entry when the incident is still open and the event fires again. */
  readonly repeatNote: string;
  /** `work_notes` entry when a resolved incident is reopened by a recurrence. */
  readonly reopenNote: string;
  /** `close_notes` when the event says the incident is over. */
  readonly closeNotes: string;
}

/** What an event contributes to an incident, as ServiceNow-ready strings. */
export interface IncidentTexts extends IncidentNotes {
  /** `short_description`, at most {@link maxShortDescriptionChars} characters. */
  readonly shortDescription: string;
  /** `description` on create: the key facts, then the event data as JSON (cut). */
  readonly description: string;
}

/** ServiceNow's `short_description` column length. */
export const maxShortDescriptionChars = 160;
/** How much of the event data (pretty JSON) goes into `description`; the rest is cut with a marker. */
export const maxDescriptionDataChars = 4_000;

/** The line of the description that names the event, so a retry can recognise its own incident. */
export function eventIdLine(event: Pick<ZenEvent, "id">): string {
  return `Event ID: ${event.id}`;
}

/**
 * A template's short description as the column takes it: one line (control characters, newlines
 * included, become spaces), at most 160 characters (cut with "…"), `Event` when empty.
 */
export function shortDescriptionLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: one line, whatever the template produced
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return line === "" ? "Event" : truncate(line, maxShortDescriptionChars);
}

/**
 * `description`, with the `Event ID: <id>` line appended when a custom template left it out: a retry
 * whose earlier attempt got through recognises the incident by it.
 */
export function withEventIdLine(description: string, event: Pick<ZenEvent, "id">): string {
  const line = eventIdLine(event);
  return description.split("\n").includes(line) ? description : `${description.trimEnd()}\n\n${line}`;
}

/** The journal notes, naming the event by id, type, source and time (no event data). */
export function renderIncidentNotes(event: ZenEvent): IncidentNotes {
  const seen = `event ${event.id} (${event.type}) from ${event.source} at ${event.receivedAt}`;
  return {
    repeatNote: `Fired again: ${seen}.`,
    reopenNote: `Reopened by zen-integrations: fired again after it was resolved: ${seen}.`,
    closeNotes: `Resolved by zen-integrations: ${seen} says the incident is over.`,
  };
}

/** Cuts `text` to `max` characters (code points, so no half surrogate pair), marking the cut with "…". */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

function resourceText(event: ZenEvent): string | undefined {
  const r = event.resource;
  if (!r) return undefined;
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

function dataJson(data: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(data, null, 2) ?? "null";
  } catch {
    return "(the event data cannot be shown as JSON)";
  }
  return json.length > maxDescriptionDataChars
    ? `${json.slice(0, maxDescriptionDataChars)}\n… (cut at ${maxDescriptionDataChars} characters)`
    : json;
}

/**
 * `short_description`: `[SEVERITY] <subject, else "<type> from <source>">` plus ` (<resource>)`, one
 * line, ≤ 160 characters. `description`: the title again, then tenant, source, type, event id,
 * severity, category, resource, received time, then the data as indented JSON (≤ 4 000 characters).
 */
export function renderIncident(event: ZenEvent): IncidentTexts {
  const resource = resourceText(event);
  const title = [
    event.severity ? `[${event.severity.toUpperCase()}]` : undefined,
    event.subject ?? `${event.type} from ${event.source}`,
    resource ? `(${resource})` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(" ")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: one line, whatever the subject holds
    .replace(/[\u0000-\u001f\u007f]+/g, " ");
  const facts = [
    `Tenant: ${event.tenant}`,
    `Source: ${event.source}`,
    `Event type: ${event.type}`,
    eventIdLine(event),
    event.severity ? `Severity: ${event.severity}` : undefined,
    event.category ? `Category: ${event.category}` : undefined,
    resource ? `Resource: ${resource}` : undefined,
    `Received at: ${event.receivedAt}`,
  ].filter((line) => line !== undefined);
  return {
    shortDescription: truncate(title, maxShortDescriptionChars),
    description: [
      title,
      "",
      ...facts,
      "",
      "Data:",
      dataJson(event.data),
      "",
      "Created by zen-integrations.",
    ].join("\n"),
    ...renderIncidentNotes(event),
  };
}
