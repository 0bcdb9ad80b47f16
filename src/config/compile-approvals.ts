/**
 * Compiles the approvals parts of a tenant (docs/approvals.md):
 *
 * - `approvals:` on the tenant: the RBAC policy (roles → Slack user ids / e-mails / user groups →
 *   actions and risks), the default channel, the expiry and the two-approver risks.
 * - `type: approval` destinations: an action and a risk, an optional channel and `then` destinations.
 * - the built-in destinations of a tenant with a policy: `_approvals` (posts the requests made through
 *   `POST /admin/approvals`) and, when `ZEN_BACK_URL` is set, `_zen-back` (decisions to zen-back).
 *   Their ids start with `_`, which no YAML id can, so they never clash with the file's.
 *
 * One problem per bad field, naming it; nothing here ever echoes a secret.
 */
import { z } from "zod";
import type { CompileContext } from "./compile-context.ts";
import type { TenantDraft } from "./compile-tenants.ts";
import {
  type ApprovalDestinationConfig,
  type ApprovalPolicyConfig,
  type ApprovalRoleConfig,
  approvalRisks,
  type ZenBackDestinationConfig,
} from "./config.ts";
import { rateLimitSchema, slugSchema } from "./file-schema.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { durationMs, quote } from "./values.ts";
import { kindOf, parseNode } from "./zod-issues.ts";

/** Id of the built-in destination that posts approvals created through the admin API. */
export const adminApprovalDestinationId = "_approvals";
/** Id of the built-in destination that sends decisions to zen-back. */
export const zenBackDestinationId = "_zen-back";

/** Expiry of a request without `expiresIn`. */
export const defaultApprovalExpiresInMs = 3_600_000;
/** Accepted `expiresIn` range: a minute to a week (the admin API's `expiresIn` too). */
export const approvalExpiryBounds = { minMs: 60_000, maxMs: 7 * 86_400_000 } as const;
/** One Slack call posting a request message, and one zen-back POST: well below any worker lease. */
export const approvalSendTimeoutMs = 10_000;

/** `U0123ABC` (or `W…` on Enterprise Grid). */
export const slackUserIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,30}$/, {
  error: (issue) => `expected a Slack user id like U0123ABC, got ${shown(issue.input)}`,
});

/** Channel ids only: names can be renamed, ids cannot. */
export const slackChannelIdSchema = z.string().regex(/^[CGD][A-Z0-9]{2,30}$/, {
  error: (issue) =>
    `expected a Slack channel id like C0123456789 (names can change; ids cannot), got ${shown(issue.input)}`,
});

const slackGroupIdSchema = z.string().regex(/^S[A-Z0-9]{2,30}$/, {
  error: (issue) => `expected a Slack user group id like S0123ABC, got ${shown(issue.input)}`,
});

const emailSchema = z
  .string()
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, {
    error: (issue) => `expected an e-mail address, got ${shown(issue.input)}`,
  })
  .transform((email) => email.toLowerCase());

/** An action name as requests and roles write it: `restart-deployment`, `db.failover`. */
export const approvalActionSchema = z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,99}$/, {
  error: (issue) =>
    `expected an action name of lowercase letters, digits and "_.:-" (like restart-deployment), got ${shown(issue.input)}`,
});

export const approvalRiskSchema = z.enum(approvalRisks, {
  error: (issue) => `expected a risk level (${approvalRisks.join(", ")}), got ${shown(issue.input)}`,
});

const roleSchema = z
  .strictObject({
    id: slugSchema,
    users: z.array(slackUserIdSchema).default([]),
    emails: z.array(emailSchema).default([]),
    groups: z.array(slackGroupIdSchema).default([]),
    actions: z.array(z.union([z.literal("*"), approvalActionSchema])).min(1),
    risks: z.array(approvalRiskSchema).min(1),
  })
  .refine((role) => role.users.length + role.emails.length + role.groups.length > 0, {
    error: "a role must list at least one of users, emails or groups",
  });

/** `approvals:` on a tenant. */
export const approvalPolicySchema = z.strictObject({
  channel: slackChannelIdSchema.optional(),
  /** A duration (`1h`, `30m`) or plain seconds; default 1h. */
  expiresIn: z.union([z.string(), z.number()]).optional(),
  twoApproversFor: z.array(approvalRiskSchema).default([]),
  roles: z.array(roleSchema).min(1),
});

/** `type: approval`. */
export const approvalDestinationSchema = z.strictObject({
  id: slugSchema,
  type: z.literal("approval"),
  action: approvalActionSchema,
  risk: approvalRiskSchema,
  channel: slackChannelIdSchema.optional(),
  /** Compiled to `thenTo`. */
  // biome-ignore lint/suspicious/noThenProperty: the YAML key is `then` (docs/approvals.md); a parsed string list is never awaited.
  then: z.array(slugSchema).default([]),
  rateLimit: rateLimitSchema.optional(),
});

/** Parses an `expiresIn` (YAML or admin API): a duration string or plain seconds. */
export const approvalExpiresIn = durationMs(approvalExpiryBounds);

/** The tenant's `approvals:` node; undefined when absent or broken (after recording why). */
export function compileApprovalPolicy(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): ApprovalPolicyConfig | undefined {
  if (raw === undefined) return undefined;
  const node = parseNode(approvalPolicySchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;
  let expiresInMs = defaultApprovalExpiresInMs;
  if (node.expiresIn !== undefined) {
    const parsed = approvalExpiresIn(String(node.expiresIn));
    if (parsed.ok) expiresInMs = parsed.value;
    else problems.at([...path, "expiresIn"], parsed.message);
  }
  const seen = new Set<string>();
  node.roles.forEach((role, i) => {
    if (seen.has(role.id)) problems.at([...path, "roles", i, "id"], `duplicate role id ${quote(role.id)}`);
    seen.add(role.id);
  });
  if (problems.count > before) return undefined;
  const roles: ApprovalRoleConfig[] = node.roles.map((role) => ({
    id: role.id,
    users: role.users,
    emails: role.emails,
    groups: role.groups,
    actions: role.actions,
    risks: role.risks,
  }));
  return {
    ...(node.channel !== undefined && { channel: node.channel }),
    expiresInMs,
    twoApproversFor: node.twoApproversFor,
    roles,
    usesEmails: roles.some((role) => role.emails.length > 0),
    usesGroups: roles.some((role) => role.groups.length > 0),
  };
}

/** A `type: approval` destination (cross-checks with the policy come later, in `checkApprovals`). */
export function compileApprovalDestination(
  raw: unknown,
  path: FieldPath,
  tenant: { readonly id: string },
  _ctx: CompileContext,
  problems: Problems,
): ApprovalDestinationConfig | undefined {
  const node = parseNode(approvalDestinationSchema, raw, path, problems);
  if (!node) return undefined;
  return {
    type: "approval",
    id: node.id,
    tenant: tenant.id,
    request: { action: node.action, risk: node.risk },
    ...(node.channel !== undefined && { channel: node.channel }),
    thenTo: node.then,
    timeoutMs: approvalSendTimeoutMs,
    ...(node.rateLimit && { rateLimit: node.rateLimit }),
  };
}

/**
 * Checks that span the tenant (its approval destinations need a policy, a channel, and `then` ids that
 * exist and are not approvals themselves), then adds the built-in destinations to a tenant with a
 * policy. `rawDestinations` gives each problem its index.
 */
export function checkApprovals(
  draft: TenantDraft,
  rawDestinations: readonly unknown[],
  destinationsPath: FieldPath,
  approvalsPath: FieldPath,
  ctx: CompileContext,
  problems: Problems,
): void {
  const policy = draft.approvals;
  rawDestinations.forEach((raw, j) => {
    const id = raw !== null && typeof raw === "object" ? (raw as { id?: unknown }).id : undefined;
    const destination = typeof id === "string" ? draft.destinations.get(id) : undefined;
    if (destination?.type !== "approval") return;
    const path = [...destinationsPath, j];
    if (!policy) {
      problems.at(
        [...path, "type"],
        `an approval destination needs the tenant's approvals policy (${formatPath(approvalsPath)}: roles who may decide)`,
      );
      return;
    }
    if (destination.channel === undefined && policy.channel === undefined) {
      problems.at([...path, "channel"], `required when ${formatPath(approvalsPath)}.channel is not set`);
    }
    destination.thenTo.forEach((target, k) => {
      const thenPath = [...path, "then", k];
      if (!draft.declaredDestinations.has(target)) {
        problems.at(thenPath, `no destination ${quote(target)} in this tenant`);
      } else if (draft.destinations.get(target)?.type === "approval") {
        problems.at(
          thenPath,
          `${quote(target)} is an approval destination; then must name where the event goes once approved`,
        );
      }
    });
  });
  if (!policy) return;
  const builtIn: ApprovalDestinationConfig = {
    type: "approval",
    id: adminApprovalDestinationId,
    tenant: draft.id,
    ...(policy.channel !== undefined && { channel: policy.channel }),
    thenTo: [],
    timeoutMs: approvalSendTimeoutMs,
  };
  draft.destinations.set(builtIn.id, builtIn);
  if (ctx.zenBack) {
    const zenBack: ZenBackDestinationConfig = {
      type: "zen-back",
      id: zenBackDestinationId,
      tenant: draft.id,
      url: ctx.zenBack.url,
      ...(ctx.zenBack.apiKey !== undefined && { apiKey: ctx.zenBack.apiKey }),
      timeoutMs: approvalSendTimeoutMs,
    };
    draft.destinations.set(zenBack.id, zenBack);
  }
}

function shown(input: unknown): string {
  return typeof input === "string" ? quote(input.slice(0, 60)) : kindOf(input);
}
