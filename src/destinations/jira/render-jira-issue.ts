/**
 * What an event looks like in Jira: the comments added on repeats, resolution and reopening, the
 * rules every summary and description obey (`summaryLine`, `withDeliveryRef`), and `renderJiraIssue`,
 * the original summary/description rendering that the default templates (templates/defaults.ts)
 * reproduce and are tested against; the destination renders issues with its templates. Text is light
 * Markdown, turned into ADF by `toAdf`.
 */
import type { ZenEvent } from "../../domain/event.ts";

/** Jira refuses a summary over 255 characters or with a line break. */
export const maxSummaryChars = 255;
/** The event's `data` is shown as pretty JSON up to this many characters. */
export const maxDataSnippetChars = 4_000;

export interface RenderedIssue {
  /** One line, 1–255 characters. */
  readonly summary: string;
  /** Light Markdown (see adf.ts). */
  readonly description: string;
}

export type CommentKind = "repeat" | "resolved" | "reopened";

/**
 * Summary `[SEVERITY] type — subject` (or the resource, e.g. `Pod prod/api-7`; without either,
 * `type from source`); the severity part only when the event has one. The description lists the key fields, the event's data as JSON (cut at
 * `maxDataSnippetChars`) and a footer naming the delivery (`ref`), which tells a retry that its
 * earlier attempt already got through.
 */
export function renderJiraIssue(event: ZenEvent, ref: string): RenderedIssue {
  return { summary: renderSummary(event), description: renderDescription(event, ref) };
}

/** The comment added to an existing issue; it carries `ref` too. */
export function renderJiraComment(event: ZenEvent, kind: CommentKind, ref: string): string {
  const heading: Record<CommentKind, string> = {
    repeat: "Fired again",
    resolved: "Resolved",
    reopened: "Fired again after it was resolved: reopened",
  };
  return [
    `**${heading[kind]}**: ${inline(renderSummary(event))}`,
    "",
    ...keyFacts(event, ["id", "receivedAt", "severity"]),
    "",
    footer(ref),
  ].join("\n");
}

/**
 * A template's summary as Jira takes it: one line (runs of whitespace, newlines included, become one
 * space), at most 255 characters (cut with "…"), `Event` when the template rendered nothing.
 */
export function summaryLine(text: string): string {
  const line = inline(text);
  if (line === "") return "Event";
  return line.length > maxSummaryChars ? `${cut(line, maxSummaryChars - 1)}…` : line;
}

/**
 * `description`, with the footer naming the delivery appended when a custom template left `ref` out:
 * a retry whose earlier attempt got through recognises the issue by it.
 */
export function withDeliveryRef(description: string, ref: string): string {
  return description.includes(ref) ? description : `${description.trimEnd()}\n\n${footer(ref)}`;
}

function renderSummary(event: ZenEvent): string {
  const title = event.type === "unknown" || event.type === "" ? "Event" : event.type;
  const about = event.subject ?? resourceText(event);
  const parts = [
    event.severity ? `[${event.severity.toUpperCase()}]` : "",
    title,
    about ? `— ${about}` : `from ${event.source}`,
  ];
  const summary = inline(parts.filter((p) => p !== "").join(" "));
  return summary.length > maxSummaryChars ? `${cut(summary, maxSummaryChars - 1)}…` : summary;
}

function renderDescription(event: ZenEvent, ref: string): string {
  return [
    `Event **${inline(event.type)}** from source \`${inline(event.source)}\` (tenant \`${inline(event.tenant)}\`).`,
    "",
    ...keyFacts(event, ["severity", "category", "subject", "resource", "id", "receivedAt"]),
    "",
    "## Data",
    "```json",
    dataSnippet(event.data),
    "```",
    "",
    footer(ref),
  ].join("\n");
}

type FactName = "severity" | "category" | "subject" | "resource" | "id" | "receivedAt";

function keyFacts(event: ZenEvent, names: readonly FactName[]): string[] {
  const values: Record<FactName, [label: string, value: string | undefined]> = {
    severity: ["Severity", event.severity],
    category: ["Category", event.category],
    subject: ["Subject", event.subject],
    resource: ["Resource", resourceText(event)],
    id: ["Event id", event.id],
    receivedAt: ["Received", event.receivedAt],
  };
  const lines: string[] = [];
  for (const name of names) {
    const [label, value] = values[name];
    if (value !== undefined && value !== "") lines.push(`- ${label}: ${inline(value)}`);
  }
  return lines;
}

function footer(ref: string): string {
  return `Sent by Zen Integrations · delivery ${ref}`;
}

function resourceText(event: ZenEvent): string | undefined {
  const r = event.resource;
  if (!r) return undefined;
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

function dataSnippet(data: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(data ?? null, null, 2) ?? "null";
  } catch {
    json = '"(data cannot be shown as JSON)"';
  }
  return json.length > maxDataSnippetChars ? `${cut(json, maxDataSnippetChars)}\n… (truncated)` : json;
}

/** One line: runs of whitespace (newlines included) become one space. */
function inline(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function cut(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}
