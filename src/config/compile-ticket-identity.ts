/**
 * What the ticketing destinations (`jira`, `servicenow`) share at compile time: the ticket identity
 * (fingerprint fields, the "resolved" predicate, reopen on recurrence; read by
 * src/tickets/ticket-identity.ts), severity-keyed maps merged over their defaults, and the tenant's
 * connection to the provider.
 */
import type { Severity } from "../domain/event.ts";
import type { Connections, TenantProviderName } from "./compile-context.ts";
import type { FieldMatch, TenantConfig, TicketIdentityConfig } from "./config.ts";
import {
  compilePredicateField,
  eventFieldHelp,
  isSeverity,
  normalizeEventField,
  severities,
} from "./event-fields.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { quote } from "./values.ts";

/** The event says the incident is over when `data.status` is `resolved` (Alertmanager, Grafana, …). */
export const defaultResolvedWhen: FieldMatch = { "data.status": "resolved" };

/** The identity keys of a parsed `jira` / `servicenow` node. */
export interface TicketIdentityNode {
  readonly fingerprintFields?: readonly string[] | undefined;
  readonly resolvedWhen?: Readonly<Record<string, string | readonly string[]>> | undefined;
  readonly reopenOnRecurrence: boolean;
}

/**
 * Checks field paths against the event's shape (`type` included: it is an event field) and applies
 * the defaults. Problems are recorded at `path`'s `fingerprintFields[i]` / `resolvedWhen.<key>`.
 */
export function compileTicketIdentity(
  node: TicketIdentityNode,
  path: FieldPath,
  problems: Problems,
): TicketIdentityConfig {
  const fingerprintFields: string[] = [];
  node.fingerprintFields?.forEach((key, i) => {
    const field = key === "type" ? key : normalizeEventField(key);
    if (field === undefined) {
      problems.at([...path, "fingerprintFields", i], `unknown event field ${quote(key)}; ${eventFieldHelp}`);
    } else if (fingerprintFields.includes(field)) {
      problems.at([...path, "fingerprintFields", i], `${quote(key)} is listed twice`);
    } else {
      fingerprintFields.push(field);
    }
  });
  let resolvedWhen: Record<string, string | readonly string[]> = { ...defaultResolvedWhen };
  if (node.resolvedWhen) {
    resolvedWhen = {};
    for (const [key, value] of Object.entries(node.resolvedWhen)) {
      const where = [...path, "resolvedWhen", key];
      const field = key === "type" ? key : compilePredicateField(key, value, where, problems);
      if (field !== undefined) resolvedWhen[field] = value;
    }
  }
  return {
    ...(fingerprintFields.length > 0 && { fingerprintFields }),
    resolvedWhen,
    reopenOnRecurrence: node.reopenOnRecurrence,
  };
}

/**
 * `defaults` with the user's entries merged over it (a new object: the defaults are shared module
 * constants and the Config gets frozen). Keys must be severities.
 */
export function mergeBySeverity<T>(
  raw: Readonly<Record<string, T>> | undefined,
  defaults: Readonly<Record<Severity, T>>,
  path: FieldPath,
  problems: Problems,
): Record<string, T> {
  const merged: Record<string, T> = { ...defaults };
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (isSeverity(key)) merged[key] = value;
    else problems.at([...path, key], `unknown severity; use ${severities.join(", ")}`);
  }
  return merged;
}

/** How a missing connection is fixed, per provider. */
const connectionHelp: Readonly<Record<TenantProviderName, { name: string; env: string }>> = {
  jira: { name: "Jira", env: "JIRA_URL/JIRA_TOKEN" },
  servicenow: {
    name: "ServiceNow",
    env: "SERVICENOW_INSTANCE/SERVICENOW_USERNAME/SERVICENOW_PASSWORD",
  },
  slack: { name: "Slack", env: "SLACK_BOT_TOKEN" },
};

/**
 * The tenant's connection for a `type` destination, or undefined: recorded as a problem at `path`
 * unless the connection was configured but broken (its own problems are already recorded).
 */
export function connectionFor<K extends TenantProviderName>(
  type: K,
  connections: Connections,
  path: FieldPath,
  problems: Problems,
): NonNullable<TenantConfig["providers"][K]> | undefined {
  const connection = connections.providers[type];
  if (connection !== undefined) return connection as NonNullable<TenantConfig["providers"][K]>;
  if (!connections.broken.has(type)) {
    const { name, env } = connectionHelp[type];
    problems.at(
      path,
      `type ${type} needs a ${name} connection: add providers.${type} to the tenant (or ${env} for tenant default)`,
    );
  }
  return undefined;
}
