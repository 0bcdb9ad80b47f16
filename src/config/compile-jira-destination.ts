/**
 * Compiles a `type: jira` destination (JiraDestinationConfig): one Jira issue per incident
 * fingerprint, comments on repeats, a transition on resolve. The connection is the tenant's
 * `providers.jira` (tenant `default`: else `JIRA_*`); the node itself holds no credentials.
 */
import type { Severity } from "../domain/event.ts";
import { checkTimeoutBelowLease } from "./compile-common.ts";
import type { CompileContext, TenantScope } from "./compile-context.ts";
import { compileDestinationTemplates } from "./compile-templates.ts";
import { compileTicketIdentity, connectionFor, mergeBySeverity } from "./compile-ticket-identity.ts";
import type { JiraDestinationConfig } from "./config.ts";
import { jiraDestinationSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { parseNode } from "./zod-issues.ts";

/** Severity → Jira's default priority scheme names; a YAML `priorityBySeverity` overrides per key. */
export const defaultJiraPriorityBySeverity: Readonly<Record<Severity, string>> = {
  critical: "Highest",
  high: "High",
  medium: "Medium",
  low: "Low",
  info: "Lowest",
};

/**
 * @returns the destination, or undefined after recording its problems. Defaults: issueType `Task`,
 *   labels none, resolveTransition `Done`, reopenTransition `To Do`, timeoutMs 30 000 (below the
 *   lease), resolvedWhen `{ data.status: resolved }`, reopenOnRecurrence false.
 */
export function compileJiraDestination(
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
): JiraDestinationConfig | undefined {
  const node = parseNode(jiraDestinationSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  const connection = connectionFor("jira", tenant.connections, path, problems);
  const priorityBySeverity = mergeBySeverity(
    node.priorityBySeverity,
    defaultJiraPriorityBySeverity,
    [...path, "priorityBySeverity"],
    problems,
  );
  const identity = compileTicketIdentity(node, path, problems);
  checkTimeoutBelowLease(node.timeoutMs, [...path, "timeoutMs"], ctx, problems);
  const templates = compileDestinationTemplates(
    "jira",
    node.templates,
    [...path, "templates"],
    ctx.secrets,
    problems,
  );
  if (problems.count > before || !connection) return undefined;
  return {
    type: "jira",
    id: node.id,
    tenant: tenant.id,
    connection,
    project: node.project,
    issueType: node.issueType,
    // Duplicates dropped: Jira stores a label once anyway.
    labels: [...new Set(node.labels)],
    priorityBySeverity,
    resolveTransition: node.resolveTransition,
    reopenTransition: node.reopenTransition,
    timeoutMs: node.timeoutMs,
    ...(node.rateLimit && { rateLimit: node.rateLimit }),
    ...identity,
    ...(node.redact === false && { redact: false as const }),
    ...(templates && { templates }),
  };
}
