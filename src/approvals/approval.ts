/**
 * The approval record: one request to let an action run, decided by people in Slack. Pure data; the
 * rules that move it between states are in decide.ts, its storage behind the ApprovalStore port.
 *
 *   pending ──approve (enough distinct approvers)──► approved
 *      │    ──reject (one authorized user)─────────► rejected
 *      └────expiry passed──────────────────────────► expired
 *
 * Final states never change again. Every change bumps `version`: stores apply a change only when the
 * version they hold is the one the change was computed from (compare-and-set), so two clicks at once
 * cannot both be "the" decision.
 */
import type { ApprovalRisk } from "../config/config.ts";
import type { ZenEvent } from "../domain/event.ts";

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired";

/** The final states: an approval in one of them never changes again. */
export const finalStatuses: ReadonlySet<ApprovalStatus> = new Set(["approved", "rejected", "expired"]);

/** What a click asks for. */
export type ApprovalVote = "approve" | "reject";

/** A Slack user as far as we resolved them at decision time. */
export interface SlackActor {
  readonly slackUserId: string;
  /** From `users.info`, when the tenant's policy matches on e-mails. */
  readonly email?: string;
}

/** One accepted vote. */
export interface Vote extends SlackActor {
  readonly vote: ApprovalVote;
  /** ms since the epoch. */
  readonly at: number;
}

/** How the approval came to be; decides what its request message says and where `then` comes from. */
export type ApprovalOrigin =
  | { readonly kind: "admin" }
  | {
      readonly kind: "route";
      /** The `type: approval` destination the event was delivered to. */
      readonly destination: string;
      readonly source: string;
      readonly eventId: string;
    };

/** Where the request message landed (for `chat.update`). */
export interface PostedRequest {
  readonly channel: string;
  readonly ts: string;
}

export interface Approval {
  /** `ap_` + 32 hex characters. */
  readonly id: string;
  readonly tenant: string;
  readonly action: string;
  readonly risk: ApprovalRisk;
  /** A Slack user id (`U…`) when the requester is a Slack user, else free text (`source gh`). */
  readonly requester: string;
  readonly summary: string;
  readonly details?: string;
  /** Channel the request is posted to. */
  readonly channel: string;
  /** Distinct approvers needed: 2 when the policy's `twoApproversFor` lists the risk, else 1. */
  readonly requiredApprovals: number;
  readonly status: ApprovalStatus;
  /** Accepted approve votes, in order; distinct users. */
  readonly approvals: readonly Vote[];
  /** The vote that made the approval final (the last approver, or the rejecter); absent otherwise. */
  readonly decidedBy?: Vote;
  /** When it became final (decided or expired), ms. */
  readonly decidedAt?: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Bumped by every state change; the compare-and-set token. */
  readonly version: number;
  readonly message?: PostedRequest;
  /**
   * When the final decision's deliveries (zen-back, `then`) were enqueued, ms. Absent on a decided
   * approval: not yet (the sweeper retries, so a crash between decision and enqueue loses nothing).
   */
  readonly dispatchedAt?: number;
  readonly origin: ApprovalOrigin;
  /** Destination ids that get `event` once approved. */
  readonly thenTo: readonly string[];
  /** The event that asked for the approval (route origin): what `then` destinations receive. */
  readonly event?: ZenEvent;
}

/** Why a click changed nothing. Stable codes: audit entries, metrics and the ephemeral reply use them. */
export type RefusalReason =
  | "not_pending" // already approved, rejected or expired
  | "self_approval" // the requester tried to approve their own request
  | "not_authorized" // no role of the tenant lets this user decide this action at this risk
  | "duplicate_approver"; // this user already approved; a second approver must be someone else

/** One decision attempt, kept with the approval, refused ones included. */
export interface AuditEntry {
  readonly at: number;
  /** Who clicked; absent for system transitions (expiry found by the sweeper). */
  readonly actor?: SlackActor;
  /** What was asked: a vote, or `expire` for a system transition. */
  readonly attempt: ApprovalVote | "expire";
  /** `recorded`: a first approval of two; the others name the state reached. */
  readonly outcome: "recorded" | "approved" | "rejected" | "expired" | "refused";
  readonly reason?: RefusalReason;
}

/** The state part of an approval that decisions change (what a compare-and-set writes). */
export interface ApprovalState {
  readonly status: ApprovalStatus;
  readonly approvals: readonly Vote[];
  readonly decidedBy?: Vote;
  readonly decidedAt?: number;
}

export interface ApprovalWithAudit extends Approval {
  readonly audit: readonly AuditEntry[];
}
