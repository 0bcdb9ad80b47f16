/**
 * The ApprovalStore contract (src/ports/approval-store.ts), as tests every adapter must pass
 * unchanged. Uses only the port.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Approval, AuditEntry } from "../../src/approvals/approval.ts";
import { HttpError } from "../../src/domain/errors.ts";
import type { ApprovalStore } from "../../src/ports/approval-store.ts";

export interface ApprovalStoreHarness {
  readonly store: ApprovalStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, empty store for one test. */
export type ApprovalStoreFactory = () => Promise<ApprovalStoreHarness>;

const t0 = Date.UTC(2026, 0, 1);

/** `ap_` + 32 hex, distinct per `n`. */
export function approvalId(n: number): string {
  return `ap_${n.toString(16).padStart(32, "0")}`;
}

export function sampleApproval(n: number, overrides: Partial<Approval> = {}): Approval {
  return {
    id: approvalId(n),
    tenant: "acme",
    action: "restart-deployment",
    risk: "high",
    requester: "U0REQ",
    summary: `restart #${n}`,
    channel: "C0APPROVALS",
    requiredApprovals: 1,
    status: "pending",
    approvals: [],
    createdAt: t0 + n,
    expiresAt: t0 + 3_600_000,
    version: 1,
    origin: { kind: "admin" },
    thenTo: [],
    ...overrides,
  };
}

const approveBy = (slackUserId: string, at = t0 + 10) => ({ slackUserId, vote: "approve" as const, at });
const audit = (slackUserId: string, outcome: AuditEntry["outcome"], at = t0 + 10): AuditEntry => ({
  at,
  actor: { slackUserId },
  attempt: outcome === "rejected" ? "reject" : "approve",
  outcome,
});

export function approvalStoreConformance(name: string, make: ApprovalStoreFactory): void {
  describe(`ApprovalStore conformance: ${name}`, () => {
    let harness: ApprovalStoreHarness;
    let store: ApprovalStore;

    beforeEach(async () => {
      harness = await make();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("creates once per id; a second create answers the stored approval", async () => {
      const first = await store.create(sampleApproval(1));
      assert.equal(first.created, true);
      const again = await store.create(sampleApproval(1, { summary: "different" }));
      assert.equal(again.created, false);
      assert.equal(again.approval.summary, "restart #1");
      const read = await store.get(approvalId(1));
      assert.equal(read?.summary, "restart #1");
      assert.deepEqual(read?.audit, []);
      assert.equal(await store.get(approvalId(2)), undefined);
    });

    it("find answers the approval without its audit list", async () => {
      await store.create(sampleApproval(1));
      const { audit, ...withoutAudit } = (await store.get(approvalId(1))) ?? { audit: [] };
      assert.deepEqual(audit, []);
      assert.deepEqual(await store.find(approvalId(1)), withoutAudit);
      assert.equal(await store.find(approvalId(2)), undefined);
    });

    it("round-trips every field, including the event and the origin", async () => {
      const approval = sampleApproval(3, {
        details: "pod crashloop",
        requiredApprovals: 2,
        origin: { kind: "route", destination: "restart-approval", source: "gh", eventId: "e-1" },
        thenTo: ["ops-hook"],
        event: {
          id: "e-1",
          tenant: "acme",
          source: "gh",
          type: "push",
          data: { nested: { list: [1, "two"] } },
          receivedAt: new Date(t0).toISOString(),
        },
      });
      await store.create(approval);
      const { audit: trail, ...read } = (await store.get(approval.id)) ?? { audit: [] };
      assert.deepEqual(read, approval);
      assert.deepEqual(trail, []);
    });

    it("transition is a compare-and-set on the version, atomic with its audit entry", async () => {
      await store.create(sampleApproval(1));
      const approved = await store.transition(
        approvalId(1),
        1,
        {
          status: "approved",
          approvals: [approveBy("U0A")],
          decidedBy: approveBy("U0A"),
          decidedAt: t0 + 10,
        },
        audit("U0A", "approved"),
      );
      assert.equal(approved?.status, "approved");
      assert.equal(approved?.version, 2);
      assert.equal(approved?.decidedBy?.slackUserId, "U0A");
      // A reject computed from the same (now stale) version must not apply: no approve-then-reject.
      const stale = await store.transition(
        approvalId(1),
        1,
        {
          status: "rejected",
          approvals: [],
          decidedBy: { ...approveBy("U0B"), vote: "reject" },
          decidedAt: t0 + 11,
        },
        audit("U0B", "rejected"),
      );
      assert.equal(stale, undefined);
      const read = await store.get(approvalId(1));
      assert.equal(read?.status, "approved");
      assert.equal(read?.version, 2);
      assert.deepEqual(
        read?.audit.map((a) => a.outcome),
        ["approved"],
        "the refused write left no audit entry",
      );
      assert.equal(
        await store.transition(
          approvalId(9),
          1,
          { status: "expired", approvals: [] },
          audit("U0A", "expired"),
        ),
        undefined,
        "unknown id",
      );
    });

    it("of many concurrent decisions from one version exactly one applies", async () => {
      await store.create(sampleApproval(1));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.transition(
            approvalId(1),
            1,
            {
              status: "approved",
              approvals: [approveBy(`U0USER${i}`)],
              decidedBy: approveBy(`U0USER${i}`),
              decidedAt: t0 + 10,
            },
            audit(`U0USER${i}`, "approved"),
          ),
        ),
      );
      const applied = results.filter((r) => r !== undefined);
      assert.equal(applied.length, 1);
      const read = await store.get(approvalId(1));
      assert.equal(read?.audit.length, 1);
      assert.equal(read?.decidedBy?.slackUserId, applied[0]?.decidedBy?.slackUserId);
    });

    it("appends refused attempts in order without touching the version", async () => {
      await store.create(sampleApproval(1));
      const refused: AuditEntry = { ...audit("U0X", "refused"), reason: "not_authorized" };
      assert.equal(await store.appendAudit(approvalId(1), refused), true);
      assert.equal(
        await store.appendAudit(approvalId(1), {
          ...audit("U0REQ", "refused", t0 + 20),
          reason: "self_approval",
        }),
        true,
      );
      assert.equal(await store.appendAudit(approvalId(2), refused), false, "unknown id");
      const read = await store.get(approvalId(1));
      assert.equal(read?.version, 1);
      assert.deepEqual(
        read?.audit.map((a) => [a.actor?.slackUserId, a.reason]),
        [
          ["U0X", "not_authorized"],
          ["U0REQ", "self_approval"],
        ],
      );
    });

    it("setMessage remembers the posted message and keeps the version", async () => {
      await store.create(sampleApproval(1));
      await store.setMessage(approvalId(1), { channel: "C0APPROVALS", ts: "1700000000.000100" });
      const read = await store.get(approvalId(1));
      assert.deepEqual(read?.message, { channel: "C0APPROVALS", ts: "1700000000.000100" });
      assert.equal(read?.version, 1);
      await store.setMessage(approvalId(2), { channel: "C0", ts: "1.2" });
      assert.equal(await store.get(approvalId(2)), undefined, "unknown id: nothing created");
    });

    it("lists newest first with filters and a cursor that pages without overlap", async () => {
      for (let n = 1; n <= 5; n++) {
        await store.create(sampleApproval(n, { tenant: n % 2 === 0 ? "beta" : "acme" }));
      }
      await store.transition(
        approvalId(5),
        1,
        { status: "expired", approvals: [], decidedAt: t0 + 99 },
        {
          at: t0 + 99,
          attempt: "expire",
          outcome: "expired",
        },
      );
      const acme = await store.list({ tenant: "acme" }, { limit: 10 });
      assert.deepEqual(
        acme.items.map((a) => a.id),
        [approvalId(5), approvalId(3), approvalId(1)],
      );
      assert.equal(acme.next, null);
      const pending = await store.list({ tenant: "acme", status: "pending" }, { limit: 10 });
      assert.deepEqual(
        pending.items.map((a) => a.id),
        [approvalId(3), approvalId(1)],
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({}, cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((a) => a.id));
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      assert.deepEqual(seen, [5, 4, 3, 2, 1].map(approvalId));
      await assert.rejects(
        store.list({}, { limit: 2, cursor: "not-a-cursor" }),
        (err: unknown) => err instanceof HttpError && err.code === "invalid_request",
      );
    });

    it("lists decisions whose deliveries were not marked enqueued, until they are", async () => {
      await store.create(sampleApproval(1));
      await store.create(sampleApproval(2));
      await store.create(sampleApproval(3));
      await store.transition(
        approvalId(1),
        1,
        { status: "approved", approvals: [approveBy("U0A", t0 + 50)], decidedAt: t0 + 50 },
        audit("U0A", "approved", t0 + 50),
      );
      await store.transition(
        approvalId(2),
        1,
        { status: "rejected", approvals: [], decidedAt: t0 + 20 },
        audit("U0B", "rejected", t0 + 20),
      );
      await store.transition(
        approvalId(3),
        1,
        { status: "expired", approvals: [], decidedAt: t0 + 10 },
        {
          at: t0 + 10,
          attempt: "expire",
          outcome: "expired",
        },
      );
      assert.deepEqual(
        (await store.undispatched(t0 + 100, 10)).map((a) => a.id),
        [approvalId(2), approvalId(1)],
        "oldest decision first; expiries send nothing",
      );
      assert.deepEqual(
        (await store.undispatched(t0 + 30, 10)).map((a) => a.id),
        [approvalId(2)],
        "only those decided by the cut-off",
      );
      await store.markDispatched(approvalId(2), t0 + 60);
      assert.deepEqual(
        (await store.undispatched(t0 + 100, 10)).map((a) => a.id),
        [approvalId(1)],
      );
      const marked = await store.get(approvalId(2));
      assert.equal(marked?.dispatchedAt, t0 + 60);
      assert.equal(marked?.version, 2, "marking does not bump the version");
    });

    it("finds pending approvals due for expiry, oldest expiry first", async () => {
      await store.create(sampleApproval(1, { expiresAt: t0 + 300 }));
      await store.create(sampleApproval(2, { expiresAt: t0 + 100 }));
      await store.create(sampleApproval(3, { expiresAt: t0 + 900 }));
      await store.create(sampleApproval(4, { expiresAt: t0 + 50, status: "approved", decidedAt: t0 + 10 }));
      assert.deepEqual(
        (await store.dueForExpiry(t0 + 300, 10)).map((a) => a.id),
        [approvalId(2), approvalId(1)],
      );
      assert.deepEqual(
        (await store.dueForExpiry(t0 + 300, 1)).map((a) => a.id),
        [approvalId(2)],
      );
    });

    it("prunes final approvals decided before the cut-off, with their audit; keeps pending ones", async () => {
      await store.create(sampleApproval(1));
      await store.create(sampleApproval(2));
      await store.create(sampleApproval(3));
      await store.transition(
        approvalId(1),
        1,
        { status: "rejected", approvals: [], decidedAt: t0 + 10 },
        audit("U0A", "rejected"),
      );
      await store.transition(
        approvalId(2),
        1,
        { status: "approved", approvals: [approveBy("U0A", t0 + 500)], decidedAt: t0 + 500 },
        audit("U0A", "approved", t0 + 500),
      );
      assert.equal(await store.prune(t0 + 100), 1);
      assert.equal(await store.get(approvalId(1)), undefined);
      assert.equal((await store.get(approvalId(2)))?.status, "approved");
      assert.equal((await store.get(approvalId(3)))?.status, "pending");
      // A new approval reusing a pruned id starts with an empty audit (no orphans left behind).
      await store.create(sampleApproval(1));
      assert.deepEqual((await store.get(approvalId(1)))?.audit, []);
      assert.equal(await store.ping(), true);
    });
  });
}
