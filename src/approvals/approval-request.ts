/**
 * The body of `POST /admin/approvals`, checked with zod. Every problem becomes an `invalid_request`
 * naming the field; nothing is stored or enqueued for a bad request.
 */
import { z } from "zod";
import {
  approvalActionSchema,
  approvalExpiresIn,
  approvalRiskSchema,
  slackChannelIdSchema,
} from "../config/compile-approvals.ts";
import type { ApprovalRisk } from "../config/config.ts";
import { HttpError } from "../domain/errors.ts";

/** Request texts are shown in Slack; these bounds stay inside Block Kit's section limit. */
export const approvalTextLimits = { requester: 200, summary: 500, details: 2000 } as const;

const requestSchema = z.strictObject({
  tenant: z.string().min(1).max(63),
  action: approvalActionSchema,
  risk: approvalRiskSchema,
  /** A Slack user id (`U…`: self-approval is then refused) or free text. */
  requester: z.string().trim().min(1).max(approvalTextLimits.requester),
  summary: z.string().trim().min(1).max(approvalTextLimits.summary),
  details: z.string().max(approvalTextLimits.details).optional(),
  channel: slackChannelIdSchema.optional(),
  /** A duration (`30m`, `2h`) or plain seconds; default: the tenant policy's `expiresIn`. */
  expiresIn: z.union([z.string(), z.number()]).optional(),
});

export interface ApprovalRequestInput {
  readonly tenant: string;
  readonly action: string;
  readonly risk: ApprovalRisk;
  readonly requester: string;
  readonly summary: string;
  readonly details?: string;
  readonly channel?: string;
  readonly expiresInMs?: number;
}

/** @throws HttpError `malformed_body` (not JSON) or `invalid_request` (the first bad field, named). */
export function parseApprovalRequest(body: unknown): ApprovalRequestInput {
  let value = body;
  if (Buffer.isBuffer(body)) {
    try {
      value = JSON.parse(body.toString("utf8"));
    } catch {
      throw new HttpError("malformed_body", "body is not valid JSON");
    }
  }
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "body";
    const message =
      issue?.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.join(", ")}`
        : (issue?.message ?? "invalid");
    throw new HttpError("invalid_request", `${field}: ${message}`);
  }
  const { expiresIn, ...rest } = parsed.data;
  let expiresInMs: number | undefined;
  if (expiresIn !== undefined) {
    const expiry = approvalExpiresIn(String(expiresIn));
    if (!expiry.ok) throw new HttpError("invalid_request", `expiresIn: ${expiry.message}`);
    expiresInMs = expiry.value;
  }
  return {
    tenant: rest.tenant,
    action: rest.action,
    risk: rest.risk,
    requester: rest.requester,
    summary: rest.summary,
    ...(rest.details !== undefined && { details: rest.details }),
    ...(rest.channel !== undefined && { channel: rest.channel }),
    ...(expiresInMs !== undefined && { expiresInMs }),
  };
}
