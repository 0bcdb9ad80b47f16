/** The ApprovalStore port in memory, for tests. Same semantics as the SQLite adapter (the conformance suite). */
import type {
  Approval,
  ApprovalState,
  ApprovalWithAudit,
  AuditEntry,
  PostedRequest,
} from "../../approvals/approval.ts";
import { decodeApprovalCursor, encodeApprovalCursor, isAfter } from "../../approvals/approval-cursor.ts";
import { needsDispatch, withState } from "../../approvals/decide.ts";
import type { ApprovalFilter, ApprovalPage, ApprovalStore } from "../../ports/approval-store.ts";

interface Row {
  approval: Approval;
  readonly audit: AuditEntry[];
}

export class MemoryApprovalStore implements ApprovalStore {
  private readonly rows = new Map<string, Row>();

  async create(approval: Approval): Promise<{ created: boolean; approval: Approval }> {
    const existing = this.rows.get(approval.id);
    if (existing) return { created: false, approval: structuredClone(existing.approval) };
    this.rows.set(approval.id, { approval: structuredClone(approval), audit: [] });
    return { created: true, approval: structuredClone(approval) };
  }

  async get(id: string): Promise<ApprovalWithAudit | undefined> {
    const row = this.rows.get(id);
    return row ? structuredClone({ ...row.approval, audit: row.audit }) : undefined;
  }

  async find(id: string): Promise<Approval | undefined> {
    const row = this.rows.get(id);
    return row ? structuredClone(row.approval) : undefined;
  }

  async list(filter: ApprovalFilter, page: { limit: number; cursor?: string }): Promise<ApprovalPage> {
    const after = page.cursor === undefined ? undefined : decodeApprovalCursor(page.cursor);
    const matching = [...this.rows.values()]
      .map((row) => row.approval)
      .filter(
        (a) =>
          (filter.tenant === undefined || a.tenant === filter.tenant) &&
          (filter.status === undefined || a.status === filter.status),
      )
      .filter((a) => after === undefined || isAfter(a, after))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const items = matching.slice(0, page.limit).map((a) => structuredClone(a));
    const last = items.at(-1);
    const next = matching.length > page.limit && last ? encodeApprovalCursor(last) : null;
    return { items, next };
  }

  async transition(
    id: string,
    expectedVersion: number,
    next: ApprovalState,
    audit: AuditEntry,
  ): Promise<Approval | undefined> {
    const row = this.rows.get(id);
    if (!row || row.approval.version !== expectedVersion) return undefined;
    row.approval = withState(row.approval, structuredClone(next));
    row.audit.push(structuredClone(audit));
    return structuredClone(row.approval);
  }

  async appendAudit(id: string, entry: AuditEntry): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row) return false;
    row.audit.push(structuredClone(entry));
    return true;
  }

  async setMessage(id: string, message: PostedRequest): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.approval = { ...row.approval, message: { ...message } };
  }

  async markDispatched(id: string, at: number): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.approval = { ...row.approval, dispatchedAt: at };
  }

  async undispatched(decidedBefore: number, limit: number): Promise<readonly Approval[]> {
    return [...this.rows.values()]
      .map((row) => row.approval)
      .filter((a) => needsDispatch(a) && a.decidedAt !== undefined && a.decidedAt <= decidedBefore)
      .sort((a, b) => (a.decidedAt ?? 0) - (b.decidedAt ?? 0))
      .slice(0, limit)
      .map((a) => structuredClone(a));
  }

  async dueForExpiry(now: number, limit: number): Promise<readonly Approval[]> {
    return [...this.rows.values()]
      .map((row) => row.approval)
      .filter((a) => a.status === "pending" && a.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .slice(0, limit)
      .map((a) => structuredClone(a));
  }

  async prune(before: number): Promise<number> {
    let n = 0;
    for (const [id, row] of this.rows) {
      const decidedAt = row.approval.decidedAt;
      if (row.approval.status !== "pending" && decidedAt !== undefined && decidedAt < before) {
        this.rows.delete(id);
        n++;
      }
    }
    return n;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
