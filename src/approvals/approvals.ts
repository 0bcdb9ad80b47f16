/**
 * The approvals flow, wired: requests in (admin API), clicks in (a `BlockActionsHandler` for
 * `zen_approval:` buttons), decisions out (zen-back and `then` destinations, through the queue).
 *
 *   POST /admin/approvals ─► store.create ─► enqueue to `_approvals` ─► (worker) chat.postMessage
 *   click ─► resolve user ─► decideClick ─► store.transition (compare-and-set) ─► enqueue decision
 *         └► replace the original message through response_url (in the background, bounded)
 *
 * A click is answered within Slack's 3 s: the only waits are a cached Slack lookup (bounded), two
 * store writes and one enqueue; zen-back and `then` deliveries are the worker's job, with its
 * retries, breaker, rate limit and DLQ.
 */

import { adminApprovalDestinationId, zenBackDestinationId } from "../config/compile-approvals.ts";
import type { ApprovalPolicyConfig, Config } from "../config/config.ts";
import type { SlackMessage } from "../destinations/slack/slack-api.ts";
import { HttpError } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import { deliveryIdempotencyKey } from "../domain/idempotency.ts";
import type { Logger } from "../observability/logger.ts";
import type { ApprovalStore } from "../ports/approval-store.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { Queue, Submission } from "../ports/queue.ts";
import type { BlockActionsHandler, BlockActionsPayload, InteractionReply } from "../slack/interactions.ts";
import type { Approval, ApprovalVote, AuditEntry, RefusalReason, SlackActor } from "./approval.ts";
import {
  type ApprovalRuntime,
  approvalRequestedType,
  approvalsSourceId,
  newApprovalId,
} from "./approval-destination.ts";
import type { ApprovalRequestInput } from "./approval-request.ts";
import type { ApprovalTelemetry } from "./approval-telemetry.ts";
import { decideClick, expireIfDue, type Principal, requiredApprovalsFor } from "./decide.ts";
import { PrincipalResolver } from "./principal-resolver.ts";
import {
  approvalActionPrefix,
  approveActionId,
  outcomeMessage,
  rejectActionId,
  requestMessage,
} from "./request-message.ts";
import type { TenantSlackClients } from "./tenant-slack.ts";
import type { ZenBackDecision } from "./zen-back-destination.ts";

/** The event type of a decision on its way to zen-back. */
export const approvalDecidedType = "approval.decided";

/**
 * Timing of the approvals housekeeping: expired requests are found every minute (a click finds them
 * sooner); final approvals and their audit are kept 90 days. A decision loses a compare-and-set race
 * at most 5 times before the user is asked to click again.
 */
export const approvalHousekeepingPolicy = {
  sweepIntervalMs: 60_000,
  sweepBatch: 100,
  retentionMs: 90 * 86_400_000,
  maxDecisionRaces: 5,
  /** Longest a background response_url / chat.update may take. */
  messageUpdateTimeoutMs: 10_000,
  /**
   * A decision whose deliveries are still not marked enqueued this long after it was made is
   * re-dispatched by the sweeper (the click handler normally enqueues within milliseconds).
   */
  dispatchGraceMs: 30_000,
} as const;

const approvalIdPattern = /^ap_[0-9a-f]{32}$/;

export interface ApprovalsOptions {
  readonly config: Pick<Config, "tenants" | "intake">;
  readonly store: ApprovalStore;
  readonly queue: Queue;
  /** Each tenant's Slack client; none for a tenant without a bot token (its posts dead-letter). */
  readonly slack: TenantSlackClients;
  readonly telemetry: ApprovalTelemetry;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export class Approvals implements BlockActionsHandler {
  readonly actionPrefix = approvalActionPrefix;
  /** What `approval` destinations need (create-destination.ts). */
  readonly runtime: ApprovalRuntime;
  private readonly options: ApprovalsOptions;
  private readonly clock: Clock;
  /** Per tenant: each tenant's Slack app sees its own workspace's users. */
  private readonly resolvers = new Map<string, PrincipalResolver>();
  /** Background message updates, awaited by `close`. */
  private readonly updating = new Set<Promise<void>>();

  constructor(options: ApprovalsOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.runtime = {
      store: options.store,
      slack: options.slack,
      policyOf: (tenant) => this.policyOf(tenant),
      telemetry: options.telemetry,
      clock: this.clock,
    };
  }

  private policyOf(tenant: string): ApprovalPolicyConfig | undefined {
    return this.options.config.tenants.get(tenant)?.approvals;
  }

  private resolverFor(tenant: string): PrincipalResolver | undefined {
    let resolver = this.resolvers.get(tenant);
    if (!resolver) {
      const slack = this.options.slack.forTenant(tenant);
      if (!slack) return undefined;
      resolver = new PrincipalResolver(slack, this.clock);
      this.resolvers.set(tenant, resolver);
    }
    return resolver;
  }

  /**
   * `POST /admin/approvals`: stores a pending approval and enqueues its Slack post (durable: the
   * answer comes after the commit).
   * @throws HttpError `unknown_tenant`, `invalid_request` (no approvals policy, no channel).
   */
  async request(input: ApprovalRequestInput): Promise<Approval> {
    const tenant = this.options.config.tenants.get(input.tenant);
    if (!tenant) throw new HttpError("unknown_tenant", "no such tenant is configured");
    const policy = tenant.approvals;
    if (!policy) throw new HttpError("invalid_request", `tenant ${tenant.id} has no approvals policy`);
    const channel = input.channel ?? policy.channel;
    if (channel === undefined) {
      throw new HttpError("invalid_request", "channel: required (the tenant's approvals policy sets none)");
    }
    const now = this.clock.now();
    const approval: Approval = {
      id: newApprovalId(),
      tenant: tenant.id,
      action: input.action,
      risk: input.risk,
      requester: input.requester,
      summary: input.summary,
      ...(input.details !== undefined && input.details !== "" && { details: input.details }),
      channel,
      requiredApprovals: requiredApprovalsFor(policy, input.risk),
      status: "pending",
      approvals: [],
      createdAt: now,
      expiresAt: now + (input.expiresInMs ?? policy.expiresInMs),
      version: 1,
      origin: { kind: "admin" },
      thenTo: [],
    };
    await this.options.store.create(approval);
    const event = this.internalEvent(
      approval.tenant,
      approval.id,
      approvalRequestedType,
      { approvalId: approval.id },
      now,
    );
    await this.enqueue(event, event.id, [adminApprovalDestinationId]);
    this.options.telemetry.requested(approval, "admin");
    return approval;
  }

  /** One `zen_approval:` click. Never throws for user mistakes: they get an ephemeral explanation. */
  async handle(
    payload: BlockActionsPayload,
    context: { readonly tenant: string },
  ): Promise<InteractionReply> {
    const { tenant } = context;
    const userId = payload.user.id;
    const action = payload.actions.find((a) => a.action_id.startsWith(approvalActionPrefix));
    const vote: ApprovalVote | undefined =
      action?.action_id === approveActionId
        ? "approve"
        : action?.action_id === rejectActionId
          ? "reject"
          : undefined;
    const id = action?.value ?? "";
    if (vote === undefined || !approvalIdPattern.test(id)) {
      this.options.telemetry.refused(tenant, "-", userId, "unknown_approval");
      return ephemeral("That button does not belong to an approval request zen knows.");
    }
    let current = await this.options.store.find(id);
    if (!current || current.tenant !== tenant) {
      this.options.telemetry.refused(tenant, id, userId, "unknown_approval");
      return ephemeral("This approval request is unknown in this workspace. Nothing changed.");
    }
    const policy = this.policyOf(tenant);
    const resolver = this.resolverFor(tenant);
    if (!policy || !resolver) {
      this.options.telemetry.refused(tenant, id, userId, "not_authorized");
      return ephemeral("Approvals are not configured for this workspace. Nothing changed.");
    }
    let principal: Principal;
    try {
      principal = await resolver.resolve(userId, policy);
    } catch (err) {
      this.options.logger.warn(
        { err, tenant, approvalId: id, by: userId },
        "could not resolve the clicking Slack user",
      );
      return ephemeral("Could not check your roles with Slack just now. Nothing changed; please try again.");
    }
    const actor: SlackActor = {
      slackUserId: userId,
      ...(principal.email !== undefined && { email: principal.email }),
    };

    for (let race = 0; race < approvalHousekeepingPolicy.maxDecisionRaces; race++) {
      const at = this.clock.now();
      const verdict = decideClick(current, { vote, principal, at }, policy);
      if (verdict.kind === "refused") {
        await this.options.store.appendAudit(id, {
          at,
          actor,
          attempt: vote,
          outcome: "refused",
          reason: verdict.reason,
        });
        this.options.telemetry.refused(tenant, id, userId, verdict.reason);
        return ephemeral(refusalText(verdict.reason, current));
      }
      const entry: AuditEntry = {
        at,
        actor,
        attempt: vote,
        outcome: verdict.kind === "expire" ? "expired" : verdict.outcome,
      };
      const updated = await this.options.store.transition(id, current.version, verdict.next, entry);
      if (!updated) {
        // Someone else decided in between: decide again on what they left.
        const reread = await this.options.store.find(id);
        if (!reread) return ephemeral("This approval request is gone. Nothing changed.");
        current = reread;
        continue;
      }
      this.options.telemetry.changed(updated, entry);
      if (updated.status === "approved" || updated.status === "rejected") await this.dispatch(updated);
      this.updateMessage(updated, payload.response_url);
      if (verdict.kind === "expire") {
        return ephemeral(
          `This request expired at ${new Date(updated.expiresAt).toISOString()}. Nothing was approved.`,
        );
      }
      if (verdict.outcome === "recorded") {
        const more = updated.requiredApprovals - updated.approvals.length;
        return ephemeral(
          `Your approval is recorded. It needs ${more} more approver${more === 1 ? "" : "s"}.`,
        );
      }
      return { kind: "ack" };
    }
    return ephemeral(
      "Others were deciding at the same moment. Nothing changed by you; please look and click again.",
    );
  }

  /**
   * Marks pending approvals past their expiry as expired (a system audit entry each) and updates
   * their messages. Answers how many expired.
   */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const due = await this.options.store.dueForExpiry(now, approvalHousekeepingPolicy.sweepBatch);
    let expired = 0;
    for (const approval of due) {
      const next = expireIfDue(approval, now);
      if (!next) continue;
      const entry: AuditEntry = { at: now, attempt: "expire", outcome: "expired" };
      const updated = await this.options.store.transition(approval.id, approval.version, next, entry);
      if (!updated) continue;
      expired++;
      this.options.telemetry.changed(updated, entry);
      this.updateMessage(updated, undefined);
    }
    // Decisions whose deliveries were never enqueued (the process died in between): enqueue them now.
    const stranded = await this.options.store.undispatched(
      now - approvalHousekeepingPolicy.dispatchGraceMs,
      approvalHousekeepingPolicy.sweepBatch,
    );
    for (const approval of stranded) await this.dispatch(approval);
    await this.options.store.prune(now - approvalHousekeepingPolicy.retentionMs);
    return expired;
  }

  /** Waits for background message updates. The store is closed by its owner. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.updating]);
  }

  /** Enqueues the decision's deliveries, then marks them enqueued; a failure is logged and retried by the sweeper. */
  private async dispatch(approval: Approval): Promise<void> {
    try {
      await this.dispatchDecision(approval);
      await this.options.store.markDispatched(approval.id, this.clock.now());
    } catch (err) {
      // The decision is stored; only its notification failed. The sweeper enqueues it again.
      this.options.logger.error(
        { err, tenant: approval.tenant, approvalId: approval.id },
        "approval decided, but enqueuing its zen-back / then deliveries failed; the sweeper retries",
      );
    }
  }

  /**
   * The decision to zen-back (when `ZEN_BACK_URL` is set) and, once approved, the original event to
   * `then` destinations: durable submissions whose dedupe keys are the approval's, so running this
   * twice for one decision enqueues nothing more (zen-back sees one Idempotency-Key either way).
   */
  private async dispatchDecision(approval: Approval): Promise<void> {
    const tenant = this.options.config.tenants.get(approval.tenant);
    const decider = approval.decidedBy;
    if (!tenant || !decider) return;
    const at = approval.decidedAt ?? this.clock.now();
    const jobs: Promise<unknown>[] = [];
    if (tenant.destinations.has(zenBackDestinationId)) {
      const approvers = approval.status === "approved" ? approval.approvals : [decider];
      const decision: ZenBackDecision = {
        approvalId: approval.id,
        tenant: approval.tenant,
        action: approval.action,
        risk: approval.risk,
        decision: approval.status === "approved" ? "approved" : "rejected",
        approver: actorOf(decider),
        decidedAt: new Date(at).toISOString(),
        requester: approval.requester,
        approvers: approvers.map(actorOf),
      };
      const event = this.internalEvent(
        approval.tenant,
        `${approval.id}.decision`,
        approvalDecidedType,
        decision,
        at,
      );
      jobs.push(this.enqueue(event, event.id, [zenBackDestinationId]));
    }
    if (approval.status === "approved" && approval.event && approval.thenTo.length > 0) {
      jobs.push(this.enqueue(approval.event, `${approval.id}.then`, approval.thenTo));
    }
    await Promise.all(jobs);
  }

  private internalEvent(tenant: string, id: string, type: string, data: unknown, at: number): ZenEvent {
    return { id, tenant, source: approvalsSourceId, type, data, receivedAt: new Date(at).toISOString() };
  }

  private async enqueue(event: ZenEvent, dedupeId: string, destinations: readonly string[]): Promise<void> {
    const submission: Submission = {
      event,
      identity: { source: approvalsSourceId, id: dedupeId },
      dedupeTtlMs: this.options.config.intake.idempotencyTtlMs,
      deliveries: destinations.map((destination) => ({
        destination,
        idempotencyKey: deliveryIdempotencyKey(event.tenant, destination, event.id),
      })),
      trail: [
        {
          tenant: event.tenant,
          eventId: event.id,
          at: this.clock.now(),
          stage: "routed",
          detail: { source: approvalsSourceId, destinations: [...destinations] },
        },
      ],
    };
    await this.options.queue.enqueue(submission);
  }

  /**
   * Replaces the request message with the current state: through the click's `response_url` when
   * there is one, else `chat.update` on the posted message. In the background (the click is answered
   * first), bounded, logged on failure; a lost update leaves the buttons, whose next click is refused.
   */
  private updateMessage(approval: Approval, responseUrl: string | undefined): void {
    const slack = this.options.slack.forTenant(approval.tenant);
    if (!slack) return;
    const message: SlackMessage =
      approval.status === "pending" ? requestMessage(approval) : outcomeMessage(approval);
    const signal = AbortSignal.timeout(approvalHousekeepingPolicy.messageUpdateTimeoutMs);
    let send: Promise<unknown> | undefined;
    if (responseUrl !== undefined) {
      send = slack.respond(responseUrl, { ...message, replaceOriginal: true }, signal);
    } else if (approval.message) {
      send = slack.updateMessage(
        { channel: approval.message.channel, ts: approval.message.ts, ...message },
        signal,
      );
    }
    if (!send) return;
    const task = send
      .then(() => undefined)
      .catch((err: unknown) => {
        this.options.logger.warn(
          { err, tenant: approval.tenant, approvalId: approval.id, status: approval.status },
          "could not replace the approval message in Slack",
        );
      })
      .finally(() => this.updating.delete(task));
    this.updating.add(task);
  }
}

function actorOf(vote: SlackActor): { slackUserId: string; email?: string } {
  return { slackUserId: vote.slackUserId, ...(vote.email !== undefined && { email: vote.email }) };
}

function ephemeral(text: string): InteractionReply {
  return { kind: "ephemeral", text };
}

function refusalText(reason: RefusalReason, approval: Approval): string {
  switch (reason) {
    case "not_pending":
      return `This request is already ${approval.status}. Nothing changed.`;
    case "self_approval":
      return "You requested this, so someone else has to approve it. Nothing changed.";
    case "not_authorized":
      return `You are not allowed to decide ${approval.action} at risk ${approval.risk} (no role of the approvals policy lists you for it). Nothing changed.`;
    case "duplicate_approver":
      return "You already approved this; it needs another approver. Nothing changed.";
    default: {
      const _exhaustive: never = reason;
      return String(_exhaustive);
    }
  }
}
