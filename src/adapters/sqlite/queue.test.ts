/**
 * SQLite-specific queue behaviour: durability across reopen and group commit. The port semantics
 * are covered by test/conformance/sqlite.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeSubmission } from "../../../test/conformance/fixtures.ts";
import { FakeClock } from "../../ports/clock.ts";
import type { LeasedJob } from "../../ports/queue.ts";
import type { TrailEntry } from "../../ports/trail.ts";
import { openSqliteStores, type SqliteStores } from "./stores.ts";

describe("SqliteQueue on a real file", () => {
  let dir: string;
  let clock: FakeClock;
  let commits: number[];
  let open: SqliteStores[];

  const openStores = (): SqliteStores => {
    const stores = openSqliteStores({ dir, clock, onCommit: (n) => commits.push(n) });
    open.push(stores);
    return stores;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zen-sqlite-queue-"));
    clock = new FakeClock();
    commits = [];
    open = [];
  });
  afterEach(async () => {
    for (const stores of open) await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps jobs, leases, DLQ entries, keys and trail across close and reopen", async () => {
    const first = openStores();
    await first.queue.enqueue(
      makeSubmission({ eventId: "e1", destinations: ["hook", "slack"] }, clock.now()),
    );
    await first.queue.enqueue(makeSubmission({ eventId: "e2", destinations: ["jira"] }, clock.now()));
    const { jobs } = await first.queue.lease({ limit: 10, leaseMs: 60_000, maxLeases: 3 });
    const jira = jobs.find((j) => j.destination === "jira") as LeasedJob;
    const slack = jobs.find((j) => j.destination === "slack") as LeasedJob;
    await first.queue.deadLetter(jira, { reason: "not_found", error: "HTTP 404", chargeAttempt: true });
    await first.queue.reschedule(slack, {
      runAt: clock.now() + 5_000,
      chargeAttempt: true,
      reason: "timeout",
    });
    await first.keyStore.claim("nonce:abc", 60_000, "seen");
    await first.trail.append([{ tenant: "acme", eventId: "e1", at: clock.now(), stage: "received" }]);
    await first.close();

    const second = openStores();
    const stats = await second.queue.stats();
    assert.deepEqual([stats.ready, stats.delayed, stats.leased, stats.dlq], [0, 1, 1, 1]);
    assert.equal((await second.queue.jobsOfEvent("acme", "e1")).length, 2);
    const { items } = await second.queue.listDlq({}, { limit: 10 });
    assert.deepEqual(
      items.map((e) => [e.eventId, e.reason, e.attempts, e.lastError]),
      [["e2", "not_found", 1, "HTTP 404"]],
    );
    assert.equal((await second.queue.getDlq(items[0]?.id ?? ""))?.event?.id, "e2");
    assert.equal(await second.keyStore.get("nonce:abc"), "seen");
    assert.equal((await second.trail.list("acme", "e1")).length, 1);
    // The lease taken before the restart still holds its token.
    const hook = jobs.find((j) => j.destination === "hook") as LeasedJob;
    assert.equal(await second.queue.complete(hook), true);
    assert.deepEqual(await second.queue.enqueue(makeSubmission({ eventId: "e1" }, clock.now())), {
      status: "duplicate",
    });
  });

  it("group-commits 500 concurrent enqueues in a handful of transactions", async () => {
    const { queue } = openStores();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        queue.enqueue(
          makeSubmission(
            {
              eventId: `e${i}`,
              destinations: ["hook", "slack"],
              trail: [{ tenant: "acme", eventId: `e${i}`, at: clock.now(), stage: "received" }],
            },
            clock.now(),
          ),
        ),
      ),
    );
    assert.ok(results.every((r) => r.status === "enqueued"));
    assert.equal(
      commits.reduce((a, b) => a + b, 0),
      500,
    );
    assert.ok(commits.length <= 3, `expected at most 3 commits, got ${commits.length}`);
    assert.equal((await queue.stats()).ready, 1_000);
  });

  it("rejects only the bad enqueue of a batch; its neighbours commit together", async () => {
    const { queue } = openStores();
    const submissions = Array.from({ length: 20 }, (_, i) =>
      makeSubmission({ eventId: `e${i}`, ...(i === 7 ? { data: { n: 7n } } : {}) }, clock.now()),
    );
    const outcomes = await Promise.allSettled(submissions.map((s) => queue.enqueue(s)));
    assert.deepEqual(
      outcomes.map((o, i) => [i, o.status]).filter(([, status]) => status === "rejected"),
      [[7, "rejected"]],
    );
    assert.deepEqual(commits, [19]);
    assert.equal((await queue.stats()).ready, 19);
    assert.equal(await queue.getEvent("acme", "e7"), undefined);
  });

  it("orders a lease after the enqueue queued before it, in the same commit", async () => {
    const { queue } = openStores();
    const enqueued = queue.enqueue(makeSubmission({ eventId: "e1" }, clock.now()));
    const leased = queue.lease({ limit: 10, leaseMs: 1_000, maxLeases: 3 });
    const [result, { jobs }] = await Promise.all([enqueued, leased]);
    assert.equal(result.status, "enqueued");
    assert.deepEqual(
      jobs.map((j) => j.eventId),
      ["e1"],
    );
    assert.deepEqual(commits, [2]);
  });

  it("keeps an event's trail after its body is pruned, until the trail itself is pruned", async () => {
    const { queue, trail, database } = openStores();
    const received: TrailEntry = { tenant: "acme", eventId: "e1", at: clock.now(), stage: "received" };
    await queue.enqueue(
      makeSubmission({ eventId: "e1", dedupeTtlMs: 1_000, trail: [received] }, clock.now()),
    );
    const job = (await queue.lease({ limit: 1, leaseMs: 1_000, maxLeases: 3 })).jobs[0] as LeasedJob;
    assert.equal(await queue.complete(job), true);
    const delivered: TrailEntry = { tenant: "acme", eventId: "e1", at: clock.now() + 10, stage: "delivered" };
    await trail.append([delivered]);

    clock.advance(1_000);
    assert.deepEqual(await queue.prune({ dlqRetentionMs: 60_000 }), { dedupeKeys: 1, dlq: 0, events: 1 });
    assert.equal(await queue.getEvent("acme", "e1"), undefined, "the body is gone");
    assert.deepEqual(await trail.list("acme", "e1"), [received, delivered], "the trail is not");
    // A new submission of the same id is a new event; its trail joins the old one.
    const again: TrailEntry = { tenant: "acme", eventId: "e1", at: clock.now(), stage: "received" };
    const result = await queue.enqueue(makeSubmission({ eventId: "e1", trail: [again] }, clock.now()));
    assert.equal(result.status, "enqueued");
    assert.deepEqual(await trail.list("acme", "e1"), [received, delivered, again]);

    assert.equal(await trail.prune(clock.now()), 2);
    assert.deepEqual(await trail.list("acme", "e1"), [again]);
    const bodiless = database.handle.prepare("SELECT COUNT(*) FROM events WHERE body IS NULL").pluck();
    assert.equal(bodiless.get(), 0, "the old row went with its trail");
  });

  it("does not take a trail-only entry for a dedupe key", async () => {
    const { queue, trail } = openStores();
    const early: TrailEntry = { tenant: "acme", eventId: "e1", at: clock.now(), stage: "duplicate" };
    await trail.append([early]);
    assert.equal(await queue.getEvent("acme", "e1"), undefined);
    const result = await queue.enqueue(makeSubmission({ eventId: "e1" }, clock.now()));
    assert.equal(result.status, "enqueued");
    assert.equal((await queue.getEvent("acme", "e1"))?.id, "e1");
    assert.deepEqual(await trail.list("acme", "e1"), [early]);
  });

  it("answers ping false once the file is closed", async () => {
    const stores = openStores();
    assert.equal(await stores.queue.ping(), true);
    await stores.close();
    assert.equal(await stores.queue.ping(), false);
  });
});
