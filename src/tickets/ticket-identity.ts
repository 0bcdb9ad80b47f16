/**
 * Ticket identity for Jira and ServiceNow: which events are "the same incident" (the fingerprint, so
 * retries, duplicates and re-fired alerts update one ticket instead of opening new ones) and which
 * event says the incident is over.
 */
import { createHash } from "node:crypto";
import type { TicketIdentityConfig } from "../config/config.ts";
import type { ZenEvent } from "../domain/event.ts";
import { eventField, globMatches } from "../domain/route-match.ts";

/**
 * A stable hex fingerprint: sha256 over tenant, source and either the configured fields' values or
 * the event's own fingerprint / id. Missing fields count as empty, so the hash never throws.
 */
export function ticketFingerprint(
  event: ZenEvent,
  config: Pick<TicketIdentityConfig, "fingerprintFields">,
): string {
  const parts: string[] = [event.tenant, event.source];
  if (config.fingerprintFields && config.fingerprintFields.length > 0) {
    for (const path of config.fingerprintFields) parts.push(`${path}=${eventField(event, path) ?? ""}`);
  } else {
    parts.push(event.fingerprint ?? `id=${event.id}`);
  }
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

/** The label/correlation id form: `zen-` + the first 32 hex chars (Jira labels cannot hold spaces). */
export function fingerprintLabel(fingerprint: string): string {
  return `zen-${fingerprint.slice(0, 32)}`;
}

/** True when every `resolvedWhen` predicate holds for the event. */
export function isResolvedEvent(
  event: ZenEvent,
  config: Pick<TicketIdentityConfig, "resolvedWhen">,
): boolean {
  const entries = Object.entries(config.resolvedWhen);
  if (entries.length === 0) return false;
  return entries.every(([path, expected]) => {
    const actual = eventField(event, path);
    if (actual === undefined) return false;
    const options = typeof expected === "string" ? [expected] : expected;
    return options.some((pattern) => globMatches(pattern, actual));
  });
}
