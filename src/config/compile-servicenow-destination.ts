/**
 * Compiles a `type: servicenow` destination (ServiceNowDestinationConfig): one incident per
 * fingerprint (its `correlation_id`), resolved when an event says so. The connection is the tenant's
 * `providers.servicenow` (tenant `default`: else `SERVICENOW_*`); the node holds no credentials.
 */
import type { Severity } from "../domain/event.ts";
import { checkTimeoutBelowLease } from "./compile-common.ts";
import type { CompileContext, TenantScope } from "./compile-context.ts";
import { compileDestinationTemplates } from "./compile-templates.ts";
import { compileTicketIdentity, connectionFor, mergeBySeverity } from "./compile-ticket-identity.ts";
import type { ServiceNowDestinationConfig } from "./config.ts";
import { serviceNowDestinationSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { parseNode } from "./zod-issues.ts";

/** ServiceNow's 1 (high) to 3 (low) scale. */
export type ServiceNowLevel = "1" | "2" | "3";

/**
 * Severity → urgency, and → impact: the two worst severities are "1", medium "2", the rest "3"
 * (ServiceNow derives priority from both, so critical/high land at priority 1). Overridable per key.
 */
export const defaultServiceNowLevelBySeverity: Readonly<Record<Severity, ServiceNowLevel>> = {
  critical: "1",
  high: "1",
  medium: "2",
  low: "3",
  info: "3",
};

/**
 * @returns the destination, or undefined after recording its problems. Defaults: table `incident`,
 *   urgency and impact per `defaultServiceNowLevelBySeverity`, closeCode `Resolved by caller`,
 *   timeoutMs 30 000 (below the lease), resolvedWhen `{ data.status: resolved }`,
 *   reopenOnRecurrence false.
 */
export function compileServiceNowDestination(
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
): ServiceNowDestinationConfig | undefined {
  const node = parseNode(serviceNowDestinationSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  const connection = connectionFor("servicenow", tenant.connections, path, problems);
  const urgencyBySeverity = mergeBySeverity(
    node.urgencyBySeverity,
    defaultServiceNowLevelBySeverity,
    [...path, "urgencyBySeverity"],
    problems,
  );
  const impactBySeverity = mergeBySeverity(
    node.impactBySeverity,
    defaultServiceNowLevelBySeverity,
    [...path, "impactBySeverity"],
    problems,
  );
  const identity = compileTicketIdentity(node, path, problems);
  checkTimeoutBelowLease(node.timeoutMs, [...path, "timeoutMs"], ctx, problems);
  const templates = compileDestinationTemplates(
    "servicenow",
    node.templates,
    [...path, "templates"],
    ctx.secrets,
    problems,
  );
  if (problems.count > before || !connection) return undefined;
  return {
    type: "servicenow",
    id: node.id,
    tenant: tenant.id,
    connection,
    table: node.table,
    urgencyBySeverity,
    impactBySeverity,
    ...(node.assignmentGroup !== undefined && { assignmentGroup: node.assignmentGroup }),
    ...(node.callerId !== undefined && { callerId: node.callerId }),
    ...(node.category !== undefined && { category: node.category }),
    closeCode: node.closeCode,
    timeoutMs: node.timeoutMs,
    ...(node.rateLimit && { rateLimit: node.rateLimit }),
    ...identity,
    ...(node.redact === false && { redact: false as const }),
    ...(templates && { templates }),
  };
}
