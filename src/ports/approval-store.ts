/**
 * Where approvals and their audit trails live. Adapters: SQLite (adapters/sqlite/approval-store.ts,
 * its own file `approvals.db` in the data dir) and memory (tests). Both pass
 * test/conformance/approval-store.conformance.ts.
 *
 * Semantics every adapter guarantees:
 * - `create` is insert-if-absent by id: a retried delivery that creates "the same" approval gets the
 *   stored one back (`created: false`), never a second approval.
 * - `transition` is a compare-and-set on `version`, atomic with its audit entry: it applies only when
 *   the stored version is `expectedVersion`, then bumps it. Of two decisions computed from the same
 *   version, exactly one is applied; the other gets `undefined` and must re-read and decide again.
 * - Audit entries are kept in the order they were written, with the approval, as long as it is kept.
 */
import type {
  Approval,
  ApprovalState,
  ApprovalStatus,
  ApprovalWithAudit,
  AuditEntry,
  PostedRequest,
} from "../approvals/approval.ts";

export interface ApprovalFilter {
  readonly tenant?: string;
  readonly status?: ApprovalStatus;
}

export interface ApprovalPage {
  /** Newest first (by `createdAt`, then id). */
  readonly items: readonly Approval[];
  /** Opaque cursor of the next page; null on the last page. */
  readonly next: string | null;
}

export interface ApprovalStore {
  /** Stores `approval` unless one with its id exists; answers the stored one either way. */
  create(approval: Approval): Promise<{ readonly created: boolean; readonly approval: Approval }>;
  /** The approval with its audit list (the admin API). */
  get(id: string): Promise<ApprovalWithAudit | undefined>;
  /** The approval without its audit list: what deciding a click or posting a request needs. */
  find(id: string): Promise<Approval | undefined>;
  /**
   * @throws HttpError `invalid_request` for a cursor this store did not issue.
   */
  list(
    filter: ApprovalFilter,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<ApprovalPage>;
  /**
   * Compare-and-set: when the stored version is `expectedVersion`, writes `next`, bumps the version and
   * appends `audit`, in one transaction. Answers the updated approval, or undefined when the version
   * moved on (or the id is unknown): nothing is written then.
   */
  transition(
    id: string,
    expectedVersion: number,
    next: ApprovalState,
    audit: AuditEntry,
  ): Promise<Approval | undefined>;
  /** Appends an audit entry without changing the approval (refused clicks). False for an unknown id. */
  appendAudit(id: string, entry: AuditEntry): Promise<boolean>;
  /** Remembers where the request message was posted (does not bump the version). */
  setMessage(id: string, message: PostedRequest): Promise<void>;
  /** Records that the final decision's deliveries were enqueued (does not bump the version). */
  markDispatched(id: string, at: number): Promise<void>;
  /**
   * Approved or rejected approvals whose deliveries were not marked enqueued and that were decided at
   * or before `decidedBefore`, oldest decision first, at most `limit`.
   */
  undispatched(decidedBefore: number, limit: number): Promise<readonly Approval[]>;
  /** Pending approvals whose expiry is at or before `now`, oldest expiry first, at most `limit`. */
  dueForExpiry(now: number, limit: number): Promise<readonly Approval[]>;
  /** Drops final approvals (and their audit) decided before `before` (ms). Answers how many. */
  prune(before: number): Promise<number>;
  /** True when the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
