/**
 * The approvals part of the admin API (docs/approvals.md), behind the same bearer token as the rest
 * of `/admin` (`ZEN_ADMIN_TOKEN`; without it these routes do not exist and `/admin/*` answers 404):
 *
 * - `POST /admin/approvals` → 201 `{id, status:"pending", expiresAt}`; the Slack post is enqueued.
 * - `GET /admin/approvals?tenant=&status=&limit=&cursor=` → `{items, next}`, newest first.
 * - `GET /admin/approvals/{id}` → the approval with its audit trail (every decision attempt).
 */
import type { FastifyInstance } from "fastify";
import type { Approval, ApprovalStatus, ApprovalWithAudit, AuditEntry, Vote } from "../approvals/approval.ts";
import { parseApprovalRequest } from "../approvals/approval-request.ts";
import type { Approvals } from "../approvals/approvals.ts";
import { HttpError } from "../domain/errors.ts";
import { bearerChecker } from "../http/bearer-auth.ts";
import type { ApprovalStore } from "../ports/approval-store.ts";

export interface ApprovalRoutesOptions {
  readonly adminToken: string | undefined;
  readonly approvals: Approvals;
  readonly store: ApprovalStore;
}

const pageSize = { default: 50, max: 500 } as const;
const statuses: readonly ApprovalStatus[] = ["pending", "approved", "rejected", "expired"];
const queryKeys: ReadonlySet<string> = new Set(["tenant", "status", "limit", "cursor"]);

export async function approvalRoutes(app: FastifyInstance, options: ApprovalRoutesOptions): Promise<void> {
  const { adminToken, approvals, store } = options;
  // Without a token the admin API is off; admin-routes.ts answers every /admin path with 404.
  if (!adminToken) return;
  const authorize = bearerChecker([adminToken]);

  await app.register(async (admin) => {
    admin.addHook("onRequest", async (request) => authorize(request.headers.authorization));

    admin.post("/admin/approvals", async (request, reply) => {
      const approval = await approvals.request(parseApprovalRequest(request.body));
      return reply.code(201).send({
        id: approval.id,
        status: approval.status,
        expiresAt: new Date(approval.expiresAt).toISOString(),
      });
    });

    admin.get("/admin/approvals", async (request) => {
      const query = request.query as Record<string, unknown>;
      for (const key of Object.keys(query)) {
        if (!queryKeys.has(key)) throw new HttpError("invalid_request", `unknown filter "${key}"`);
      }
      const tenant = text(query.tenant, "tenant");
      const status = text(query.status, "status");
      if (status !== undefined && !statuses.includes(status as ApprovalStatus)) {
        throw new HttpError("invalid_request", `status must be one of ${statuses.join(", ")}`);
      }
      const limitText = text(query.limit, "limit");
      const limit = limitText === undefined ? pageSize.default : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > pageSize.max) {
        throw new HttpError("invalid_request", `limit must be an integer from 1 to ${pageSize.max}`);
      }
      const cursor = text(query.cursor, "cursor");
      const page = await store.list(
        {
          ...(tenant !== undefined && { tenant }),
          ...(status !== undefined && { status: status as ApprovalStatus }),
        },
        cursor === undefined ? { limit } : { limit, cursor },
      );
      return { items: page.items.map(view), next: page.next };
    });

    admin.get<{ Params: { id: string } }>("/admin/approvals/:id", async (request) => {
      const approval = await store.get(request.params.id);
      if (!approval) throw new HttpError("not_found", "no such approval");
      return detailView(approval);
    });
  });
}

function text(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.length > 200) {
    throw new HttpError("invalid_request", `${name} must be a non-empty string`);
  }
  return value;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function voteView(vote: Vote) {
  return {
    slackUserId: vote.slackUserId,
    ...(vote.email !== undefined && { email: vote.email }),
    vote: vote.vote,
    at: iso(vote.at),
  };
}

/** The list view: everything but the stored event and the audit. */
function view(approval: Approval) {
  return {
    id: approval.id,
    tenant: approval.tenant,
    action: approval.action,
    risk: approval.risk,
    status: approval.status,
    requester: approval.requester,
    summary: approval.summary,
    ...(approval.details !== undefined && { details: approval.details }),
    channel: approval.channel,
    requiredApprovals: approval.requiredApprovals,
    approvals: approval.approvals.map(voteView),
    decidedBy: approval.decidedBy ? voteView(approval.decidedBy) : null,
    decidedAt: approval.decidedAt === undefined ? null : iso(approval.decidedAt),
    createdAt: iso(approval.createdAt),
    expiresAt: iso(approval.expiresAt),
    origin: approval.origin,
    // biome-ignore lint/suspicious/noThenProperty: the documented JSON field mirrors the YAML key `then`; this plain object is serialized, never awaited.
    then: approval.thenTo,
    message: approval.message ?? null,
  };
}

function auditView(entry: AuditEntry) {
  return {
    at: iso(entry.at),
    actor: entry.actor ?? null,
    attempt: entry.attempt,
    outcome: entry.outcome,
    ...(entry.reason !== undefined && { reason: entry.reason }),
  };
}

/** One approval with its audit trail. The stored event is not shown: it may hold unredacted data. */
function detailView(approval: ApprovalWithAudit) {
  return { ...view(approval), audit: approval.audit.map(auditView) };
}
