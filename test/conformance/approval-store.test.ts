/**
 * Runs the ApprovalStore conformance suite against the memory and SQLite adapters, plus what only a
 * file can show: durability across reopen and compare-and-set across two connections.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { MemoryApprovalStore } from "../../src/adapters/memory/approval-store.ts";
import { SqliteApprovalStore } from "../../src/adapters/sqlite/approval-store.ts";
import { approvalId, approvalStoreConformance, sampleApproval } from "./approval-store.conformance.ts";

approvalStoreConformance("memory", async () => {
  const store = new MemoryApprovalStore();
  return { store, cleanup: () => store.close() };
});

approvalStoreConformance("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zen-approvals-"));
  const store = new SqliteApprovalStore({ dir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqliteApprovalStore on a real file", () => {
  it("keeps approvals and audit across a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zen-approvals-"));
    try {
      const first = new SqliteApprovalStore({ dir });
      await first.create(sampleApproval(1));
      await first.appendAudit(approvalId(1), {
        at: 1,
        actor: { slackUserId: "U0X" },
        attempt: "approve",
        outcome: "refused",
        reason: "not_authorized",
      });
      await first.close();
      const second = new SqliteApprovalStore({ dir });
      const read = await second.get(approvalId(1));
      assert.equal(read?.summary, "restart #1");
      assert.equal(read?.audit[0]?.reason, "not_authorized");
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two connections deciding from one version: exactly one wins", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zen-approvals-"));
    const a = new SqliteApprovalStore({ dir });
    const b = new SqliteApprovalStore({ dir });
    try {
      await a.create(sampleApproval(1));
      const vote = (id: string) => ({ slackUserId: id, vote: "approve" as const, at: 5 });
      const [ra, rb] = await Promise.all([
        a.transition(
          approvalId(1),
          1,
          { status: "approved", approvals: [vote("U0A")], decidedAt: 5 },
          {
            at: 5,
            actor: { slackUserId: "U0A" },
            attempt: "approve",
            outcome: "approved",
          },
        ),
        b.transition(
          approvalId(1),
          1,
          { status: "rejected", approvals: [], decidedBy: { ...vote("U0B"), vote: "reject" }, decidedAt: 5 },
          { at: 5, actor: { slackUserId: "U0B" }, attempt: "reject", outcome: "rejected" },
        ),
      ]);
      assert.equal([ra, rb].filter((r) => r !== undefined).length, 1);
      const read = await b.get(approvalId(1));
      assert.equal(read?.version, 2);
      assert.equal(read?.audit.length, 1);
      assert.equal(read?.status, (ra ?? rb)?.status);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
