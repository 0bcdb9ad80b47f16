/**
 * Metrics and log lines of the approvals flow: one place so every state change is counted once and
 * logged once. Registered on the service's metrics registry (`Metrics.registry`), so they appear on
 * `/metrics` next to the others; kept here so removing the feature removes them too.
 *
 * - `zen_approvals_total{tenant,outcome}`: outcome `requested`, `recorded` (first of two approvals),
 *   `approved`, `rejected`, `expired`.
 * - `zen_approval_refusals_total{tenant,reason}`: clicks that changed nothing, by reason
 *   (`not_authorized`, `self_approval`, `duplicate_approver`, `not_pending`, `unknown_approval`).
 *
 * Log lines carry ids, user ids and reasons; never tokens, response URLs or request texts.
 */
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../observability/logger.ts";
import type { Approval, AuditEntry, RefusalReason } from "./approval.ts";

/** Refusals the store cannot record on an approval (it does not exist for this tenant). */
export type UnknownApprovalReason = "unknown_approval";

export class ApprovalTelemetry {
  private readonly approvals: Counter<"tenant" | "outcome">;
  private readonly refusals: Counter<"tenant" | "reason">;
  private readonly logger: Logger;

  constructor(registry: Registry, logger: Logger) {
    this.logger = logger;
    this.approvals = new Counter({
      name: "zen_approvals_total",
      help: "Approval state changes by tenant and outcome (requested, recorded, approved, rejected, expired).",
      labelNames: ["tenant", "outcome"],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: "zen_approval_refusals_total",
      help: "Approval clicks that changed nothing, by tenant and reason.",
      labelNames: ["tenant", "reason"],
      registers: [registry],
    });
  }

  requested(approval: Approval, via: "admin" | "route"): void {
    this.approvals.inc({ tenant: approval.tenant, outcome: "requested" });
    this.logger.info(
      {
        tenant: approval.tenant,
        approvalId: approval.id,
        action: approval.action,
        risk: approval.risk,
        via,
        requiredApprovals: approval.requiredApprovals,
      },
      "approval requested",
    );
  }

  /** A decision (or an expiry) was written. */
  changed(approval: Approval, entry: AuditEntry): void {
    this.approvals.inc({ tenant: approval.tenant, outcome: entry.outcome });
    this.logger.info(
      {
        tenant: approval.tenant,
        approvalId: approval.id,
        action: approval.action,
        risk: approval.risk,
        outcome: entry.outcome,
        by: entry.actor?.slackUserId ?? "system",
        version: approval.version,
      },
      "approval decision",
    );
  }

  refused(
    tenant: string,
    approvalId: string,
    userId: string,
    reason: RefusalReason | UnknownApprovalReason,
  ): void {
    this.refusals.inc({ tenant, reason });
    this.logger.info({ tenant, approvalId, by: userId, reason }, "approval click refused");
  }
}
