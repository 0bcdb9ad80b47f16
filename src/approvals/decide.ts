/**
 * The decision rules, as pure functions of the approval, the click and the tenant's policy. No I/O,
 * no clock: the click carries its time. The handler resolves who clicked (user id, e-mail, groups),
 * asks `decideClick`, and writes the result with a compare-and-set; a lost race re-reads and asks again.
 *
 * Rules, in the order they are checked:
 * 1. A final approval (approved, rejected, expired) changes no more: `not_pending`.
 * 2. A pending approval past its expiry becomes `expired`, whoever clicks.
 * 3. The requester may not approve their own request: `self_approval`.
 * 4. The clicking user must hold a role listing the action (or `*`) and the risk: `not_authorized`.
 * 5. Reject by one authorized user ends it (`rejected`), even after a first approval. The requester
 *    may reject (withdraw) when authorized: stopping an action is the safe direction.
 * 6. Approve: a user counts once (`duplicate_approver`); the approval is `approved` when the number of
 *    distinct approvers reaches `requiredApprovals` (2 for risks in `twoApproversFor`), else the
 *    vote is `recorded` and the approval stays pending.
 */
import type { ApprovalPolicyConfig, ApprovalRisk, ApprovalRoleConfig } from "../config/config.ts";
import type { Approval, ApprovalState, ApprovalVote, RefusalReason, Vote } from "./approval.ts";
import { finalStatuses } from "./approval.ts";

/** The clicking user, resolved as far as the policy needs (e-mail and groups only when it uses them). */
export interface Principal {
  readonly slackUserId: string;
  /** Lower-cased. */
  readonly email?: string;
  /** User group ids the user belongs to (only the groups the policy names). */
  readonly groups: readonly string[];
}

export interface Click {
  readonly vote: ApprovalVote;
  readonly principal: Principal;
  /** ms since the epoch. */
  readonly at: number;
}

export type ClickVerdict =
  | { readonly kind: "refused"; readonly reason: RefusalReason }
  /** Pending past its expiry: the click finds it expired and records that. */
  | { readonly kind: "expire"; readonly next: ApprovalState }
  | {
      readonly kind: "apply";
      readonly outcome: "recorded" | "approved" | "rejected";
      readonly next: ApprovalState;
    };

/** Does `role` name this user (by id, e-mail or a group they are in)? */
export function roleHolds(role: ApprovalRoleConfig, principal: Principal): boolean {
  if (role.users.includes(principal.slackUserId)) return true;
  if (principal.email !== undefined && role.emails.includes(principal.email)) return true;
  return role.groups.some((group) => principal.groups.includes(group));
}

/** Does `role` cover deciding `action` at `risk`? */
export function roleCovers(role: ApprovalRoleConfig, action: string, risk: ApprovalRisk): boolean {
  return (role.actions.includes("*") || role.actions.includes(action)) && role.risks.includes(risk);
}

/** RBAC: some role holds the user and covers the action at the risk. */
export function isAuthorized(
  policy: Pick<ApprovalPolicyConfig, "roles">,
  principal: Principal,
  action: string,
  risk: ApprovalRisk,
): boolean {
  return policy.roles.some((role) => roleHolds(role, principal) && roleCovers(role, action, risk));
}

/** Distinct approvers a request at `risk` needs under `policy`. */
export function requiredApprovalsFor(
  policy: Pick<ApprovalPolicyConfig, "twoApproversFor">,
  risk: ApprovalRisk,
): number {
  return policy.twoApproversFor.includes(risk) ? 2 : 1;
}

/** True once `now` has reached the expiry (the expiry instant itself is too late). */
export function isExpired(approval: Pick<Approval, "expiresAt">, now: number): boolean {
  return now >= approval.expiresAt;
}

/** The rules above, for one click on `approval`. */
export function decideClick(
  approval: Approval,
  click: Click,
  policy: Pick<ApprovalPolicyConfig, "roles">,
): ClickVerdict {
  if (finalStatuses.has(approval.status)) return { kind: "refused", reason: "not_pending" };
  if (isExpired(approval, click.at)) {
    return {
      kind: "expire",
      next: { status: "expired", approvals: approval.approvals, decidedAt: click.at },
    };
  }
  const { principal } = click;
  if (click.vote === "approve" && principal.slackUserId === approval.requester) {
    return { kind: "refused", reason: "self_approval" };
  }
  if (!isAuthorized(policy, principal, approval.action, approval.risk)) {
    return { kind: "refused", reason: "not_authorized" };
  }
  const vote: Vote = {
    slackUserId: principal.slackUserId,
    ...(principal.email !== undefined && { email: principal.email }),
    vote: click.vote,
    at: click.at,
  };
  if (click.vote === "reject") {
    return {
      kind: "apply",
      outcome: "rejected",
      next: { status: "rejected", approvals: approval.approvals, decidedBy: vote, decidedAt: click.at },
    };
  }
  if (approval.approvals.some((a) => a.slackUserId === principal.slackUserId)) {
    return { kind: "refused", reason: "duplicate_approver" };
  }
  const approvals = [...approval.approvals, vote];
  if (approvals.length >= approval.requiredApprovals) {
    return {
      kind: "apply",
      outcome: "approved",
      next: { status: "approved", approvals, decidedBy: vote, decidedAt: click.at },
    };
  }
  return { kind: "apply", outcome: "recorded", next: { status: "pending", approvals } };
}

/** The sweeper's rule: a pending approval past its expiry becomes expired; anything else stays. */
export function expireIfDue(approval: Approval, now: number): ApprovalState | undefined {
  if (approval.status !== "pending" || !isExpired(approval, now)) return undefined;
  return { status: "expired", approvals: approval.approvals, decidedAt: now };
}

/** `approval` with `next` applied and its version bumped (what a store's compare-and-set writes). */
export function withState(approval: Approval, next: ApprovalState): Approval {
  const { decidedBy: _by, decidedAt: _at, ...rest } = approval;
  return {
    ...rest,
    status: next.status,
    approvals: next.approvals,
    ...(next.decidedBy !== undefined && { decidedBy: next.decidedBy }),
    ...(next.decidedAt !== undefined && { decidedAt: next.decidedAt }),
    version: approval.version + 1,
  };
}

/** A final decision whose zen-back / `then` deliveries have not been enqueued yet (the sweeper's work). */
export function needsDispatch(approval: Approval): boolean {
  return (
    (approval.status === "approved" || approval.status === "rejected") && approval.dispatchedAt === undefined
  );
}
