/**
 * `type: approval`: delivering an event here asks for approval in Slack. One attempt:
 *
 *   find or create the approval ─► still pending and not yet posted? ─► chat.postMessage ─► remember ts
 *
 * - Route destinations (`request` set) create the approval from their config and the event. Its id
 *   comes from the delivery's idempotency key, and creation is insert-if-absent, so a retried attempt
 *   finds the approval the first one created instead of making a second.
 * - The built-in `_approvals` destination posts approvals `POST /admin/approvals` already created;
 *   the event only carries `{ approvalId }`.
 *
 * Slack errors arrive already in our vocabulary from the SlackApi port (retry, Retry-After, permanent),
 * so this destination gets the queue's retries, breaker, rate limit and DLQ for free. Text taken from
 * the event (its subject) is redacted with the tenant's policy before it reaches Slack.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ApprovalDestinationConfig, ApprovalPolicyConfig } from "../config/config.ts";
import { attemptSignal } from "../destinations/attempt-signal.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destinations/destination.ts";
import { PermanentError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import type { ApprovalStore } from "../ports/approval-store.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import { prepareEvent } from "../redaction/redact-delivery.ts";
import type { Approval } from "./approval.ts";
import type { ApprovalTelemetry } from "./approval-telemetry.ts";
import { expireIfDue, requiredApprovalsFor } from "./decide.ts";
import { requestMessage } from "./request-message.ts";
import type { TenantSlackClients } from "./tenant-slack.ts";

/** The event type `POST /admin/approvals` enqueues to `_approvals`; its data is `{ approvalId }`. */
export const approvalRequestedType = "approval.requested";
/** Source id of the events the approvals flow enqueues itself (requests, decisions, `then`). */
export const approvalsSourceId = "_approvals";

/** What approval destinations share at run time (built once by the approvals module). */
export interface ApprovalRuntime {
  readonly store: ApprovalStore;
  /** Each tenant's Slack client; a tenant without a bot token has none: attempts fail (`invalid_auth`). */
  readonly slack: TenantSlackClients;
  readonly policyOf: (tenant: string) => ApprovalPolicyConfig | undefined;
  readonly telemetry: ApprovalTelemetry;
  readonly clock?: Clock;
}

/** A fresh approval id: `ap_` + 32 hex characters (128 random bits). */
export function newApprovalId(): string {
  return `ap_${randomBytes(16).toString("hex")}`;
}

/** The approval id of a routed delivery: stable across its attempts. */
export function routedApprovalId(idempotencyKey: string): string {
  return `ap_${createHash("sha256").update(`approval:${idempotencyKey}`).digest("hex").slice(0, 32)}`;
}

/** What a routed event asks for, in one line (already redacted). */
function routedSummary(event: ZenEvent): string {
  return event.subject ?? `${event.type} event from ${event.source}`;
}

export class ApprovalDestination implements Destination {
  readonly type = "approval";
  readonly id: string;
  readonly tenant: string;
  private readonly config: ApprovalDestinationConfig;
  private readonly runtime: ApprovalRuntime;
  private readonly redaction: CompiledRedactionPolicy | undefined;
  private readonly clock: Clock;

  constructor(
    config: ApprovalDestinationConfig,
    runtime: ApprovalRuntime,
    redaction: CompiledRedactionPolicy | undefined,
  ) {
    this.id = config.id;
    this.tenant = config.tenant;
    this.config = config;
    this.runtime = runtime;
    this.redaction = redaction;
    this.clock = runtime.clock ?? systemClock;
  }

  /**
   * @throws PermanentError `invalid_auth` without a Slack bot token, `validation_failed` when the tenant
   *   has no approvals policy, `not_found` when an admin-created approval is gone; Slack's errors as
   *   the SlackApi port maps them.
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const startedAt = this.clock.now();
    const { store } = this.runtime;
    const slack = this.runtime.slack.forTenant(this.tenant);
    if (!slack) {
      throw new PermanentError(
        "invalid_auth",
        "no Slack bot token configured (SLACK_BOT_TOKEN): cannot post approval requests",
      );
    }
    const approval = await this.findOrCreate(delivery, startedAt);
    const expired = expireIfDue(approval, startedAt);
    if (expired) {
      const entry = { at: startedAt, attempt: "expire", outcome: "expired" } as const;
      const updated = await store.transition(approval.id, approval.version, expired, entry);
      if (updated) this.runtime.telemetry.changed(updated, entry);
      return this.done(startedAt);
    }
    // Decided already, or posted by an earlier attempt whose completion was lost: nothing to post.
    if (approval.status !== "pending" || approval.message !== undefined) return this.done(startedAt);

    const attempt = attemptSignal(signal, this.config.timeoutMs);
    try {
      const posted = await slack.postMessage(
        { channel: approval.channel, ...requestMessage(approval) },
        attempt.signal,
      );
      await store.setMessage(approval.id, posted);
    } finally {
      attempt.dispose();
    }
    return this.done(startedAt);
  }

  private done(startedAt: number): SendResult {
    return { statusCode: 200, durationMs: Math.max(0, this.clock.now() - startedAt) };
  }

  private async findOrCreate(delivery: DeliveryRequest, now: number): Promise<Approval> {
    const { store } = this.runtime;
    const { event } = delivery;
    if (this.config.request === undefined) {
      const data = event.data as { approvalId?: unknown } | null;
      const id = typeof data === "object" && data !== null ? data.approvalId : undefined;
      const approval = typeof id === "string" ? await store.find(id) : undefined;
      if (!approval || approval.tenant !== this.tenant) {
        throw new PermanentError("not_found", "the approval this request should post no longer exists");
      }
      return approval;
    }
    const policy = this.runtime.policyOf(this.tenant);
    if (!policy) {
      throw new PermanentError("validation_failed", `tenant ${this.tenant} has no approvals policy`);
    }
    const redacted = prepareEvent(event, this.redaction).event;
    const { action, risk } = this.config.request;
    const details = [
      event.severity === undefined ? undefined : `Severity: ${event.severity}`,
      redacted.resource === undefined
        ? undefined
        : `Resource: ${redacted.resource.kind} ${redacted.resource.namespace ? `${redacted.resource.namespace}/` : ""}${redacted.resource.name}`,
    ].filter((line) => line !== undefined);
    const candidate: Approval = {
      id: routedApprovalId(delivery.idempotencyKey),
      tenant: this.tenant,
      action,
      risk,
      requester: `source ${event.source}`,
      summary: routedSummary(redacted),
      ...(details.length > 0 && { details: details.join("\n") }),
      channel: this.config.channel ?? policy.channel ?? "",
      requiredApprovals: requiredApprovalsFor(policy, risk),
      status: "pending",
      approvals: [],
      createdAt: now,
      expiresAt: now + policy.expiresInMs,
      version: 1,
      origin: { kind: "route", destination: this.id, source: event.source, eventId: event.id },
      thenTo: this.config.thenTo,
      event,
    };
    const { created, approval } = await store.create(candidate);
    if (created) this.runtime.telemetry.requested(approval, "route");
    return approval;
  }

  async close(): Promise<void> {}
}
