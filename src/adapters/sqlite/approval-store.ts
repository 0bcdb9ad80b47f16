/**
 * The ApprovalStore port on SQLite: its own file `<dataDir>/approvals.db` on its own connection, so
 * approvals never wait behind the queue's group commits and the feature owns its schema (created with
 * `CREATE TABLE IF NOT EXISTS` on open; no shared migration list).
 *
 * Decisions are race-safe across connections and processes: `transition` runs as one `BEGIN
 * IMMEDIATE` transaction (the write lock is taken before the version is read), updates only
 * `WHERE version = expected`, and inserts the audit entry in the same commit. Traffic is a few
 * writes per approval, so every commit is fsynced in-line (`synchronous = FULL` unless told `normal`).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type {
  Approval,
  ApprovalState,
  ApprovalWithAudit,
  AuditEntry,
  PostedRequest,
} from "../../approvals/approval.ts";
import { decodeApprovalCursor, encodeApprovalCursor } from "../../approvals/approval-cursor.ts";
import { needsDispatch, withState } from "../../approvals/decide.ts";
import type { ApprovalFilter, ApprovalPage, ApprovalStore } from "../../ports/approval-store.ts";

/** File name of the approvals store inside the data dir. */
export const approvalsFileName = "approvals.db";

/** How long a writer waits for another connection's lock, ms (blocks the event loop; writes are tiny). */
const busyTimeoutMs = 5_000;

const schema = `
  CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    -- 1 from a decision (approved/rejected) until its deliveries are enqueued (markDispatched).
    needs_dispatch INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS approvals_recent ON approvals (created_at, id);
  CREATE INDEX IF NOT EXISTS approvals_pending_expiry ON approvals (expires_at) WHERE status = 'pending';
  CREATE INDEX IF NOT EXISTS approvals_decided ON approvals (decided_at) WHERE status <> 'pending';
  CREATE INDEX IF NOT EXISTS approvals_undispatched ON approvals (decided_at) WHERE needs_dispatch = 1;
  CREATE TABLE IF NOT EXISTS approval_audit (
    seq INTEGER PRIMARY KEY,
    approval_id TEXT NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS approval_audit_by_approval ON approval_audit (approval_id, seq);
`;

interface ApprovalRow {
  readonly body: string;
  readonly version: number;
}

export interface SqliteApprovalStoreOptions {
  /** Data directory (`ZEN_DATA_DIR`); created if missing. */
  readonly dir: string;
  /** `Config.queue.sqliteSynchronous`; default `full`. */
  readonly synchronous?: "full" | "normal";
}

export class SqliteApprovalStore implements ApprovalStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly sql;

  constructor(options: SqliteApprovalStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.path = join(options.dir, approvalsFileName);
    const db = new Database(this.path);
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      db.exec(schema);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.sql = {
      insert: db.prepare(
        `INSERT INTO approvals (id, tenant, status, version, created_at, expires_at, decided_at, needs_dispatch, body)
         VALUES (@id, @tenant, @status, @version, @createdAt, @expiresAt, @decidedAt, @needsDispatch, @body)
         ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare<[string], ApprovalRow>("SELECT body, version FROM approvals WHERE id = ?"),
      audit: db.prepare<[string], { body: string }>(
        "SELECT body FROM approval_audit WHERE approval_id = ? ORDER BY seq",
      ),
      list: db.prepare<
        {
          tenant: string | null;
          status: string | null;
          afterCreated: number | null;
          afterId: string | null;
          limit: number;
        },
        ApprovalRow
      >(
        `SELECT body, version FROM approvals
         WHERE (@tenant IS NULL OR tenant = @tenant)
           AND (@status IS NULL OR status = @status)
           AND (@afterCreated IS NULL OR created_at < @afterCreated OR (created_at = @afterCreated AND id < @afterId))
         ORDER BY created_at DESC, id DESC
         LIMIT @limit`,
      ),
      update: db.prepare(
        `UPDATE approvals SET status = @status, version = @version, decided_at = @decidedAt, body = @body,
           needs_dispatch = @needsDispatch
         WHERE id = @id AND version = @expected`,
      ),
      updateBody: db.prepare("UPDATE approvals SET body = @body WHERE id = @id"),
      dispatched: db.prepare("UPDATE approvals SET body = @body, needs_dispatch = 0 WHERE id = @id"),
      undispatched: db.prepare<[number, number], ApprovalRow>(
        `SELECT body, version FROM approvals WHERE needs_dispatch = 1 AND decided_at <= ?
         ORDER BY decided_at LIMIT ?`,
      ),
      appendAudit: db.prepare("INSERT INTO approval_audit (approval_id, body) VALUES (?, ?)"),
      exists: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM approvals WHERE id = ?"),
      due: db.prepare<[number, number], ApprovalRow>(
        `SELECT body, version FROM approvals WHERE status = 'pending' AND expires_at <= ?
         ORDER BY expires_at LIMIT ?`,
      ),
      pruneAudit: db.prepare(
        `DELETE FROM approval_audit WHERE approval_id IN
           (SELECT id FROM approvals WHERE status <> 'pending' AND decided_at < ?)`,
      ),
      prune: db.prepare("DELETE FROM approvals WHERE status <> 'pending' AND decided_at < ?"),
      ping: db.prepare("SELECT 1"),
    };
  }

  async create(approval: Approval): Promise<{ created: boolean; approval: Approval }> {
    const created =
      this.sql.insert.run({
        id: approval.id,
        tenant: approval.tenant,
        status: approval.status,
        version: approval.version,
        createdAt: approval.createdAt,
        expiresAt: approval.expiresAt,
        decidedAt: approval.decidedAt ?? null,
        needsDispatch: needsDispatch(approval) ? 1 : 0,
        body: JSON.stringify(approval),
      }).changes === 1;
    if (created) return { created, approval };
    const row = this.sql.get.get(approval.id);
    if (!row) throw new Error(`approval ${approval.id} vanished between insert and read`);
    return { created, approval: toApproval(row) };
  }

  async get(id: string): Promise<ApprovalWithAudit | undefined> {
    const read = this.db.transaction(() => {
      const row = this.sql.get.get(id);
      if (!row) return undefined;
      const audit = this.sql.audit.all(id).map((r) => JSON.parse(r.body) as AuditEntry);
      return { ...toApproval(row), audit };
    });
    return read();
  }

  async find(id: string): Promise<Approval | undefined> {
    const row = this.sql.get.get(id);
    return row ? toApproval(row) : undefined;
  }

  async list(filter: ApprovalFilter, page: { limit: number; cursor?: string }): Promise<ApprovalPage> {
    const after = page.cursor === undefined ? undefined : decodeApprovalCursor(page.cursor);
    const rows = this.sql.list.all({
      tenant: filter.tenant ?? null,
      status: filter.status ?? null,
      afterCreated: after?.createdAt ?? null,
      afterId: after?.id ?? null,
      limit: page.limit + 1,
    });
    const items = rows.slice(0, page.limit).map(toApproval);
    const last = items.at(-1);
    return { items, next: rows.length > page.limit && last ? encodeApprovalCursor(last) : null };
  }

  async transition(
    id: string,
    expectedVersion: number,
    next: ApprovalState,
    audit: AuditEntry,
  ): Promise<Approval | undefined> {
    const apply = this.db.transaction((): Approval | undefined => {
      const row = this.sql.get.get(id);
      if (!row || row.version !== expectedVersion) return undefined;
      const updated = withState(toApproval(row), next);
      const changed = this.sql.update.run({
        id,
        expected: expectedVersion,
        status: updated.status,
        version: updated.version,
        decidedAt: updated.decidedAt ?? null,
        needsDispatch: needsDispatch(updated) ? 1 : 0,
        body: JSON.stringify(updated),
      }).changes;
      if (changed !== 1) return undefined;
      this.sql.appendAudit.run(id, JSON.stringify(audit));
      return updated;
    });
    // IMMEDIATE: take the write lock before reading the version, so another process cannot slip in.
    return apply.immediate();
  }

  async appendAudit(id: string, entry: AuditEntry): Promise<boolean> {
    const append = this.db.transaction(() => {
      if (!this.sql.exists.get(id)) return false;
      this.sql.appendAudit.run(id, JSON.stringify(entry));
      return true;
    });
    return append.immediate();
  }

  async setMessage(id: string, message: PostedRequest): Promise<void> {
    const update = this.db.transaction(() => {
      const row = this.sql.get.get(id);
      if (!row) return;
      const approval = { ...toApproval(row), message: { channel: message.channel, ts: message.ts } };
      this.sql.updateBody.run({ id, body: JSON.stringify(approval) });
    });
    update.immediate();
  }

  async markDispatched(id: string, at: number): Promise<void> {
    const mark = this.db.transaction(() => {
      const row = this.sql.get.get(id);
      if (!row) return;
      this.sql.dispatched.run({ id, body: JSON.stringify({ ...toApproval(row), dispatchedAt: at }) });
    });
    mark.immediate();
  }

  async undispatched(decidedBefore: number, limit: number): Promise<readonly Approval[]> {
    return this.sql.undispatched.all(decidedBefore, limit).map(toApproval);
  }

  async dueForExpiry(now: number, limit: number): Promise<readonly Approval[]> {
    return this.sql.due.all(now, limit).map(toApproval);
  }

  async prune(before: number): Promise<number> {
    const prune = this.db.transaction(() => {
      this.sql.pruneAudit.run(before);
      return this.sql.prune.run(before).changes;
    });
    return prune.immediate();
  }

  async ping(): Promise<boolean> {
    try {
      this.sql.ping.get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** A decision whose deliveries were not marked enqueued yet. */

/** The stored body, with the version column as the truth (the body is rewritten with it anyway). */
function toApproval(row: ApprovalRow): Approval {
  return { ...(JSON.parse(row.body) as Approval), version: row.version };
}
