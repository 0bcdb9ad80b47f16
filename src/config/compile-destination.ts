/**
 * Destinations by `type`. Each type compiles its own strict schema; a new type (observation)
 * adds one entry here and one compile-<type>-destination.ts file.
 */

import { compileApprovalDestination } from "./compile-approvals.ts";
import type { CompileContext, TenantScope } from "./compile-context.ts";
import { compileJiraDestination } from "./compile-jira-destination.ts";
import { compileServiceNowDestination } from "./compile-servicenow-destination.ts";
import { compileSlackDestination } from "./compile-slack-destination.ts";
import { compileWebhookDestination } from "./compile-webhook-destination.ts";
import type { DestinationConfig } from "./config.ts";
import { destinationTypeSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { quote } from "./values.ts";
import { parseNode } from "./zod-issues.ts";

type DestinationCompiler = (
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
) => DestinationConfig | undefined;

const compilers: Readonly<Record<string, DestinationCompiler>> = {
  webhook: compileWebhookDestination,
  jira: compileJiraDestination,
  servicenow: compileServiceNowDestination,
  slack: compileSlackDestination,
  approval: compileApprovalDestination,
};

/** The `type:` values this build supports. */
export const destinationTypes: readonly string[] = Object.keys(compilers);

/** Reads `type`, then compiles the node with that type's compiler; an unknown type lists the known ones. */
export function compileDestination(
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
): DestinationConfig | undefined {
  const head = parseNode(destinationTypeSchema, raw, path, problems);
  if (!head) return undefined;
  const compile = Object.hasOwn(compilers, head.type) ? compilers[head.type] : undefined;
  if (!compile) {
    problems.at(
      [...path, "type"],
      `unsupported destination type ${quote(head.type)}; supported: ${destinationTypes.join(", ")}`,
    );
    return undefined;
  }
  return compile(raw, path, tenant, ctx, problems);
}
