/**
 * The Queue contract (src/ports/queue.ts), as tests every adapter must pass unchanged: SQLite, memory,
 * and later Redis. Driven by a FakeClock; no sleeps; uses only the port, never adapter internals.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { DeliveryReason } from "../../src/domain/errors.ts";
import { FakeClock } from "../../src/ports/clock.ts";
import type {
  DlqEntry,
  DlqFilter,
  EnqueueResult,
  LeasedJob,
  LeaseOptions,
  Queue,
  Submission,
} from "../../src/ports/queue.ts";
import type { TrailEntry, TrailStore } from "../../src/ports/trail.ts";
import { defaultDedupeTtlMs, makeEvent, makeSubmission, type SubmissionSpec } from "./fixtures.ts";

export interface QueueHarness {
  readonly queue: Queue;
  /** The trail store the queue records submission trails into, when the adapter has one. */
  readonly trail?: TrailStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, empty queue on `clock` for one test. */
export type QueueFactory = (clock: FakeClock) => Promise<QueueHarness>;

const leaseMs = 30_000;
const defaultLease: LeaseOptions = { limit: 100, leaseMs, maxLeases: 3 };

export function queueConformance(name: string, make: QueueFactory): void {
  describe(`Queue conformance: ${name}`, () => {
    let clock: FakeClock;
    let harness: QueueHarness;
    let queue: Queue;

    beforeEach(async () => {
      clock = new FakeClock();
      harness = await make(clock);
      queue = harness.queue;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    const enqueue = (spec: SubmissionSpec): Promise<EnqueueResult> =>
      queue.enqueue(makeSubmission(spec, clock.now()));
    const lease = async (options: Partial<LeaseOptions> = {}): Promise<readonly LeasedJob[]> =>
      (await queue.lease({ ...defaultLease, ...options })).jobs;
    const leaseOne = async (options: Partial<LeaseOptions> = {}): Promise<LeasedJob> => {
      const jobs = await lease({ ...options, limit: 1 });
      assert.equal(jobs.length, 1, "expected one job to lease");
      return jobs[0] as LeasedJob;
    };
    const jobIdsOf = (result: EnqueueResult): readonly string[] => {
      assert.equal(result.status, "enqueued");
      return result.status === "enqueued" ? result.jobIds : [];
    };
    /** Enqueues one delivery of `spec`, leases it and dead-letters it; returns its DLQ entry. */
    const deadLettered = async (
      spec: SubmissionSpec,
      reason: DeliveryReason = "server_error",
      error = "boom",
    ): Promise<DlqEntry> => {
      jobIdsOf(await enqueue(spec));
      const job = await leaseOne();
      assert.equal(await queue.deadLetter(job, { reason, error, chargeAttempt: true }), true);
      const { items } = await queue.listDlq({}, { limit: 1 });
      assert.ok(items[0]);
      return items[0];
    };
    const collectDlq = async (filter: DlqFilter, limit: number): Promise<DlqEntry[]> => {
      const all: DlqEntry[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await queue.listDlq(filter, cursor === undefined ? { limit } : { limit, cursor });
        assert.ok(page.items.length <= limit);
        all.push(...page.items);
        if (page.next === null) return all;
        cursor = page.next;
      }
      assert.fail("DLQ paging did not end");
    };

    describe("enqueue and dedupe", () => {
      it("creates one ready job per delivery and stores the event once", async () => {
        const submission = makeSubmission(
          { eventId: "e1", destinations: ["hook", "slack", "jira"] },
          clock.now(),
        );
        const ids = jobIdsOf(await queue.enqueue(submission));
        assert.equal(ids.length, 3);
        assert.equal(new Set(ids).size, 3);

        assert.deepEqual(await queue.getEvent("acme", "e1"), submission.event);
        const jobs = await queue.jobsOfEvent("acme", "e1");
        assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set(ids));
        for (const job of jobs) {
          const delivery = submission.deliveries.find((d) => d.destination === job.destination);
          assert.ok(delivery);
          assert.deepEqual(job, {
            id: job.id,
            tenant: "acme",
            source: "gh",
            destination: delivery.destination,
            eventId: "e1",
            idempotencyKey: delivery.idempotencyKey,
            attempts: 0,
            leaseCount: 0,
            enqueuedAt: clock.now(),
            runAt: clock.now(),
          });
        }
        const stats = await queue.stats();
        assert.equal(stats.ready, 3);
      });

      it("answers duplicate while the dedupe key is live, and changes nothing", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", destinations: ["a", "b"] }));
        clock.advance(1_000);
        assert.deepEqual(await enqueue({ eventId: "e1", destinations: ["a", "b", "c"] }), {
          status: "duplicate",
        });
        assert.equal((await queue.jobsOfEvent("acme", "e1")).length, 2);
        assert.equal((await queue.stats()).ready, 2);
      });

      it("treats an expired dedupe key as absent", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 }));
        clock.advance(999);
        assert.deepEqual(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 }), { status: "duplicate" });
        clock.advance(1);
        assert.equal(jobIdsOf(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 })).length, 1);
        assert.equal((await queue.stats()).ready, 2);
        // The renewed key is live again for a full window.
        clock.advance(999);
        assert.deepEqual(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 }), { status: "duplicate" });
      });

      it("a re-submission under its own identity is not a duplicate of the event's, and is deduped itself", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", destinations: ["a"] }));
        const original = makeSubmission({ eventId: "e1", destinations: ["b"] }, clock.now());
        const again: Submission = {
          ...original,
          identity: { source: "approvals", id: "ap_1.then" },
        };
        const ids = jobIdsOf(await queue.enqueue(again));
        assert.equal(ids.length, 1);
        assert.deepEqual(await queue.enqueue(again), { status: "duplicate" });
        const leased = await lease({ limit: 10 });
        assert.equal(leased.length, 2);
        const then = leased.find((j) => j.destination === "b");
        assert.deepEqual(then?.event, original.event, "the stored event is the original, unchanged");
      });

      it("records and deduplicates an event that has no deliveries", async () => {
        assert.deepEqual(await enqueue({ eventId: "e1", destinations: [] }), {
          status: "enqueued",
          jobIds: [],
        });
        assert.equal((await queue.getEvent("acme", "e1"))?.id, "e1");
        assert.deepEqual(await enqueue({ eventId: "e1", destinations: ["hook"] }), { status: "duplicate" });
        assert.equal((await queue.stats()).ready, 0);
        assert.equal(await queue.nextWakeAt(), undefined);
      });

      it("keeps the same event id from two sources (and two tenants) apart", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", source: "gh", destinations: ["a"] }));
        clock.advance(1);
        jobIdsOf(await enqueue({ eventId: "e1", source: "gl", destinations: ["b"] }));
        jobIdsOf(await enqueue({ eventId: "e1", tenant: "umbrella", destinations: ["c"] }));

        assert.equal((await queue.getEvent("acme", "e1", "gh"))?.source, "gh");
        assert.equal((await queue.getEvent("acme", "e1", "gl"))?.source, "gl");
        assert.equal((await queue.getEvent("acme", "e1"))?.source, "gl", "without a source, the latest wins");
        assert.equal((await queue.getEvent("umbrella", "e1"))?.tenant, "umbrella");
        assert.deepEqual(
          (await queue.jobsOfEvent("acme", "e1", "gh")).map((j) => j.destination),
          ["a"],
        );
        assert.deepEqual((await queue.jobsOfEvent("acme", "e1")).map((j) => j.destination).sort(), [
          "a",
          "b",
        ]);
        assert.deepEqual(
          (await queue.jobsOfEvent("umbrella", "e1")).map((j) => j.destination),
          ["c"],
        );
      });

      it("answers nothing for an unknown event", async () => {
        assert.equal(await queue.getEvent("acme", "nope"), undefined);
        assert.deepEqual(await queue.jobsOfEvent("acme", "nope"), []);
      });

      it("enqueues exactly once when many submissions of one key race", async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => enqueue({ eventId: "e1", destinations: ["a", "b"] })),
        );
        assert.equal(results.filter((r) => r.status === "enqueued").length, 1);
        assert.equal(results.filter((r) => r.status === "duplicate").length, 49);
        assert.equal((await queue.stats()).ready, 2);
      });

      it("enqueues every one of many concurrent distinct submissions", async () => {
        const results = await Promise.all(
          Array.from({ length: 300 }, (_, i) => enqueue({ eventId: `e${i}` })),
        );
        const ids = results.flatMap(jobIdsOf);
        assert.equal(ids.length, 300);
        assert.equal(new Set(ids).size, 300);
        assert.equal((await queue.stats()).ready, 300);
      });

      it("is atomic: a submission that cannot be stored leaves no trace", async () => {
        // A BigInt cannot be serialized: the enqueue must fail as a whole, including the dedupe claim.
        await assert.rejects(enqueue({ eventId: "e1", destinations: ["a", "b"], data: { n: 1n } }));
        assert.equal((await queue.stats()).ready, 0);
        assert.equal(await queue.getEvent("acme", "e1"), undefined);
        assert.equal(jobIdsOf(await enqueue({ eventId: "e1", destinations: ["a", "b"] })).length, 2);
        assert.equal((await queue.stats()).ready, 2);
      });

      it("records the submission's trail with the enqueue, and not for a duplicate", async (t) => {
        const trail = harness.trail;
        if (!trail) {
          t.skip("adapter has no trail store");
          return;
        }
        const entries: TrailEntry[] = [
          { tenant: "acme", eventId: "e1", at: clock.now(), stage: "received", detail: { source: "gh" } },
          { tenant: "acme", eventId: "e1", at: clock.now(), stage: "routed", detail: { to: ["hook"] } },
        ];
        jobIdsOf(await enqueue({ eventId: "e1", trail: entries }));
        assert.deepEqual(await trail.list("acme", "e1"), entries);
        assert.deepEqual(await enqueue({ eventId: "e1", trail: entries }), { status: "duplicate" });
        assert.deepEqual(await trail.list("acme", "e1"), entries);
      });
    });

    describe("lease", () => {
      it("hands out due jobs in runAt order, up to the limit, each once", async () => {
        const start = clock.now();
        for (const id of ["e1", "e2", "e3"]) {
          jobIdsOf(await enqueue({ eventId: id }));
          clock.advance(10);
        }
        const first = await lease({ limit: 2 });
        assert.deepEqual(
          first.map((j) => j.eventId),
          ["e1", "e2"],
        );
        for (const job of first) {
          assert.equal(job.leaseCount, 1);
          assert.equal(job.attempts, 0);
          assert.equal(job.leaseUntil, clock.now() + leaseMs);
          assert.ok(job.leaseToken.length > 0);
          assert.deepEqual(
            job.event,
            makeEvent({ eventId: job.eventId }, start + (job.eventId === "e1" ? 0 : 10)),
          );
        }
        assert.notEqual(first[0]?.leaseToken, first[1]?.leaseToken);
        assert.deepEqual(
          (await lease()).map((j) => j.eventId),
          ["e3"],
        );
        assert.deepEqual(await lease(), []);
      });

      it("does not hand out a job before its runAt", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const job = await leaseOne();
        const runAt = clock.now() + 5_000;
        assert.equal(
          await queue.reschedule(job, { runAt, chargeAttempt: false, reason: "rate_limited" }),
          true,
        );
        clock.advance(4_999);
        assert.deepEqual(await lease(), []);
        clock.advance(1);
        assert.equal((await leaseOne()).runAt, runAt);
      });

      it("leases a job again, with a new token, once its lease expired", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const first = await leaseOne({ leaseMs: 1_000 });
        clock.advance(999);
        assert.deepEqual(await lease({ leaseMs: 1_000 }), []);
        clock.advance(1);
        const second = await leaseOne({ leaseMs: 1_000 });
        assert.equal(second.id, first.id);
        assert.notEqual(second.leaseToken, first.leaseToken);
        assert.equal(second.leaseCount, 2);
        assert.equal(second.attempts, 0);
      });

      it("answers an empty lease when nothing is due, and refuses a non-positive leaseMs", async () => {
        assert.deepEqual(await queue.lease(defaultLease), { jobs: [], quarantined: [] });
        await assert.rejects(queue.lease({ ...defaultLease, leaseMs: 0 }), RangeError);
      });
    });

    describe("lease tokens", () => {
      it("ignores complete, reschedule, release and deadLetter with a stale token", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const stale = await leaseOne({ leaseMs: 1_000 });
        clock.advance(1_000);
        const fresh = await leaseOne({ leaseMs: 1_000 });

        assert.equal(await queue.complete(stale), false);
        assert.equal(
          await queue.reschedule(stale, {
            runAt: clock.now() + 60_000,
            chargeAttempt: true,
            reason: "timeout",
          }),
          false,
        );
        assert.equal(await queue.release(stale), false);
        assert.equal(await queue.deadLetter(stale, { reason: "not_found", chargeAttempt: true }), false);

        const [job] = await queue.jobsOfEvent("acme", "e1");
        assert.equal(job?.attempts, 0);
        assert.equal(job?.leaseCount, 2);
        assert.equal(job?.lastError, undefined);
        const stats = await queue.stats();
        assert.deepEqual([stats.leased, stats.dlq], [1, 0]);

        assert.equal(await queue.complete(fresh), true);
        assert.deepEqual(await queue.jobsOfEvent("acme", "e1"), []);
      });

      it("spends a token: a second transition with it is a no-op", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        clock.advance(1);
        jobIdsOf(await enqueue({ eventId: "e2" }));
        const [a, b] = await lease();
        assert.ok(a && b);
        assert.deepEqual([a.eventId, b.eventId], ["e1", "e2"]);
        assert.equal(
          await queue.reschedule(a, { runAt: clock.now(), chargeAttempt: true, reason: "timeout" }),
          true,
        );
        assert.equal(
          await queue.reschedule(a, { runAt: clock.now(), chargeAttempt: true, reason: "timeout" }),
          false,
        );
        assert.equal(await queue.complete(a), false);
        assert.equal(await queue.complete(b), true);
        assert.equal(await queue.complete(b), false);
        assert.equal((await queue.jobsOfEvent("acme", "e1"))[0]?.attempts, 1);
      });

      it("lets the worker finish a job whose lease expired but was not leased again", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const job = await leaseOne({ leaseMs: 1_000 });
        clock.advance(5_000);
        assert.equal(await queue.complete(job), true);
        assert.deepEqual(await lease(), []);
      });
    });

    describe("complete, reschedule, release, deadLetter", () => {
      it("complete removes the job but keeps the event", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        assert.equal(await queue.complete(await leaseOne()), true);
        assert.deepEqual(await queue.jobsOfEvent("acme", "e1"), []);
        assert.equal(await queue.nextWakeAt(), undefined);
        const stats = await queue.stats();
        assert.deepEqual([stats.ready, stats.delayed, stats.leased, stats.dlq], [0, 0, 0, 0]);
        assert.equal((await queue.getEvent("acme", "e1"))?.id, "e1");
      });

      it("a charged reschedule counts the attempt and keeps the error", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const job = await leaseOne();
        const runAt = clock.now() + 2_000;
        assert.equal(
          await queue.reschedule(job, {
            runAt,
            chargeAttempt: true,
            reason: "server_error",
            error: "HTTP 502",
          }),
          true,
        );
        const [stored] = await queue.jobsOfEvent("acme", "e1");
        assert.deepEqual(
          [stored?.attempts, stored?.lastError, stored?.runAt, stored?.leaseCount],
          [1, "HTTP 502", runAt, 1],
        );
        clock.advance(2_000);
        const again = await leaseOne();
        assert.deepEqual([again.attempts, again.lastError, again.leaseCount], [1, "HTTP 502", 2]);
      });

      it("an uncharged reschedule counts nothing and keeps the last failure's error", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const job = await leaseOne();
        await queue.reschedule(job, {
          runAt: clock.now(),
          chargeAttempt: true,
          reason: "timeout",
          error: "timed out",
        });
        const again = await leaseOne();
        const runAt = clock.now() + 10_000;
        assert.equal(
          await queue.reschedule(again, {
            runAt,
            chargeAttempt: false,
            reason: "rate_limited",
            error: "throttled",
          }),
          true,
        );
        const [stored] = await queue.jobsOfEvent("acme", "e1");
        assert.deepEqual([stored?.attempts, stored?.lastError, stored?.runAt], [1, "timed out", runAt]);
        assert.deepEqual([(await queue.stats()).delayed, await queue.nextWakeAt()], [1, runAt]);
      });

      it("release gives the job back at once, uncharged, and never counts as an expired lease", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        // maxLeases 1: a single expired lease would quarantine the job; releases must not.
        for (let i = 1; i <= 5; i++) {
          const job = await leaseOne({ maxLeases: 1 });
          assert.equal(job.leaseCount, i);
          assert.equal(await queue.release(job), true);
          const stats = await queue.stats();
          assert.deepEqual([stats.ready, stats.leased, stats.dlq], [1, 0, 0]);
        }
        const job = await leaseOne({ maxLeases: 1 });
        assert.equal(job.attempts, 0);
      });

      it("deadLetter moves the job to the DLQ, counting the attempt when charged", async () => {
        const enqueuedAt = clock.now();
        const submission = makeSubmission({ eventId: "e1", destinations: ["hook", "slack"] }, clock.now());
        jobIdsOf(await queue.enqueue(submission));
        const leased = await lease();
        const hook = leased.find((j) => j.destination === "hook");
        const slack = leased.find((j) => j.destination === "slack");
        assert.ok(hook && slack);
        await queue.reschedule(hook, {
          runAt: clock.now(),
          chargeAttempt: true,
          reason: "timeout",
          error: "t/o",
        });
        const hookAgain = await leaseOne();
        clock.advance(5_000);
        assert.equal(
          await queue.deadLetter(hookAgain, {
            reason: "retries_exhausted",
            error: "HTTP 503",
            chargeAttempt: true,
          }),
          true,
        );
        assert.equal(await queue.deadLetter(slack, { reason: "invalid_auth", chargeAttempt: false }), true);

        const { items, next } = await queue.listDlq({}, { limit: 10 });
        assert.equal(next, null);
        const byDestination = new Map(items.map((e) => [e.destination, e]));
        assert.deepEqual(byDestination.get(hook.destination), {
          id: byDestination.get(hook.destination)?.id,
          tenant: "acme",
          source: "gh",
          destination: hook.destination,
          eventId: "e1",
          idempotencyKey: hook.idempotencyKey,
          reason: "retries_exhausted",
          attempts: 2,
          lastError: "HTTP 503",
          enqueuedAt,
          failedAt: clock.now(),
        });
        const slackEntry = byDestination.get(slack.destination);
        assert.deepEqual(
          [slackEntry?.reason, slackEntry?.attempts, slackEntry?.lastError],
          ["invalid_auth", 0, null],
        );

        assert.deepEqual(await queue.jobsOfEvent("acme", "e1"), []);
        const stats = await queue.stats();
        assert.deepEqual([stats.ready, stats.leased, stats.dlq], [0, 0, 2]);
        const shown = await queue.getDlq(slackEntry?.id ?? "");
        assert.deepEqual(shown?.event, submission.event);
      });

      it("deadLetter without an error keeps the last failure's error", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        await queue.reschedule(await leaseOne(), {
          runAt: clock.now(),
          chargeAttempt: true,
          reason: "server_error",
          error: "HTTP 500",
        });
        await queue.deadLetter(await leaseOne(), { reason: "retries_exhausted", chargeAttempt: false });
        const { items } = await queue.listDlq({}, { limit: 1 });
        assert.deepEqual([items[0]?.attempts, items[0]?.lastError], [1, "HTTP 500"]);
      });
    });

    describe("poison pills", () => {
      it("quarantines a job whose lease expired maxLeases times", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const options = { leaseMs: 1_000, maxLeases: 3 };
        const first = await leaseOne(options);
        await queue.reschedule(first, {
          runAt: clock.now(),
          chargeAttempt: true,
          reason: "timeout",
          error: "t/o",
        });
        for (let leaseCount = 2; leaseCount <= 3; leaseCount++) {
          const job = await leaseOne(options);
          assert.equal(job.leaseCount, leaseCount);
          clock.advance(1_000);
        }
        // Two expiries so far: the job is still handed out.
        const third = await leaseOne(options);
        assert.equal(third.leaseCount, 4);
        clock.advance(1_000);

        const result = await queue.lease({ ...defaultLease, ...options });
        assert.deepEqual(result.jobs, []);
        assert.equal(result.quarantined.length, 1);
        const entry = result.quarantined[0];
        assert.deepEqual(
          [
            entry?.reason,
            entry?.eventId,
            entry?.destination,
            entry?.attempts,
            entry?.lastError,
            entry?.failedAt,
          ],
          ["poison_pill", "e1", "hook", 1, "t/o", clock.now()],
        );
        const { items } = await queue.listDlq({ reason: "poison_pill" }, { limit: 10 });
        assert.deepEqual(items, result.quarantined);
        const stats = await queue.stats();
        assert.deepEqual([stats.ready, stats.leased, stats.dlq], [0, 0, 1]);
        assert.equal(await queue.nextWakeAt(), undefined);
      });

      it("does not count quarantined jobs toward the limit", async () => {
        jobIdsOf(await enqueue({ eventId: "poison" }));
        await leaseOne({ leaseMs: 500, maxLeases: 1 });
        clock.advance(1_000);
        jobIdsOf(await enqueue({ eventId: "healthy" }));
        const result = await queue.lease({ limit: 1, leaseMs: 1_000, maxLeases: 1 });
        assert.deepEqual(
          result.quarantined.map((e) => e.eventId),
          ["poison"],
        );
        assert.deepEqual(
          result.jobs.map((j) => j.eventId),
          ["healthy"],
        );
      });
    });

    describe("dead-letter queue", () => {
      it("lists newest first with an opaque cursor, each entry exactly once", async () => {
        for (let i = 1; i <= 5; i++) {
          await deadLettered({ eventId: `e${i}` });
          clock.advance(1_000);
        }
        const first = await queue.listDlq({}, { limit: 2 });
        assert.deepEqual(
          first.items.map((e) => e.eventId),
          ["e5", "e4"],
        );
        assert.equal(typeof first.next, "string");
        // An entry added while paging shows up on top, not in later pages.
        await deadLettered({ eventId: "e6" });
        const second = await queue.listDlq({}, { limit: 2, cursor: first.next ?? "" });
        assert.deepEqual(
          second.items.map((e) => e.eventId),
          ["e3", "e2"],
        );
        const third = await queue.listDlq({}, { limit: 2, cursor: second.next ?? "" });
        assert.deepEqual(
          third.items.map((e) => e.eventId),
          ["e1"],
        );
        assert.equal(third.next, null);
      });

      it("pages through entries that failed at the same instant", async () => {
        for (let i = 1; i <= 7; i++) await deadLettered({ eventId: `e${i}` });
        const all = await collectDlq({}, 3);
        assert.equal(all.length, 7);
        assert.equal(new Set(all.map((e) => e.id)).size, 7);
        assert.equal(new Set(all.map((e) => e.eventId)).size, 7);
      });

      it("filters by tenant, destination, source and reason", async () => {
        await deadLettered(
          { eventId: "a", tenant: "acme", source: "gh", destinations: ["hook"] },
          "server_error",
        );
        await deadLettered(
          { eventId: "b", tenant: "acme", source: "gl", destinations: ["slack"] },
          "invalid_auth",
        );
        await deadLettered(
          { eventId: "c", tenant: "umbrella", source: "gh", destinations: ["hook"] },
          "invalid_auth",
        );
        const ids = async (filter: DlqFilter) => (await collectDlq(filter, 10)).map((e) => e.eventId).sort();
        assert.deepEqual(await ids({}), ["a", "b", "c"]);
        assert.deepEqual(await ids({ tenant: "acme" }), ["a", "b"]);
        assert.deepEqual(await ids({ destination: "hook" }), ["a", "c"]);
        assert.deepEqual(await ids({ source: "gl" }), ["b"]);
        assert.deepEqual(await ids({ reason: "invalid_auth" }), ["b", "c"]);
        assert.deepEqual(await ids({ tenant: "acme", reason: "invalid_auth" }), ["b"]);
        assert.deepEqual(
          await ids({ tenant: "acme", destination: "hook", source: "gh", reason: "server_error" }),
          ["a"],
        );
        assert.deepEqual(await ids({ tenant: "nobody" }), []);
        assert.deepEqual(await queue.listDlq({ tenant: "nobody" }, { limit: 5 }), { items: [], next: null });
      });

      it("refuses a cursor it did not issue", async () => {
        await assert.rejects(queue.listDlq({}, { limit: 5, cursor: "not-a-cursor" }), {
          code: "invalid_request",
        });
      });

      it("shows one entry with its event, and nothing for unknown ids", async () => {
        const entry = await deadLettered({ eventId: "e1" });
        const shown = await queue.getDlq(entry.id);
        assert.deepEqual(shown, { ...entry, event: makeEvent({ eventId: "e1" }, shown?.enqueuedAt ?? 0) });
        assert.equal(await queue.getDlq("no-such-id"), undefined);
        assert.equal(await queue.getDlq("987654321"), undefined);
      });

      it("replays one entry as a fresh job with the same idempotency key", async () => {
        jobIdsOf(await enqueue({ eventId: "e1" }));
        const original = await leaseOne({ leaseMs: 1_000, maxLeases: 2 });
        await queue.reschedule(original, { runAt: clock.now(), chargeAttempt: true, reason: "timeout" });
        await leaseOne({ leaseMs: 1_000, maxLeases: 2 });
        clock.advance(1_000);
        await leaseOne({ leaseMs: 1_000, maxLeases: 2 });
        clock.advance(1_000);
        const { quarantined } = await queue.lease({ limit: 1, leaseMs: 1_000, maxLeases: 2 });
        const entry = quarantined[0];
        assert.ok(entry);
        await deadLettered({ eventId: "other" });

        let wakes = 0;
        queue.onEnqueued(() => wakes++);
        clock.advance(10_000);
        assert.equal(await queue.replayDlq({ id: entry.id }), 1);
        assert.equal(wakes, 1);
        assert.equal(await queue.getDlq(entry.id), undefined);
        assert.equal((await queue.stats()).dlq, 1);

        const replayed = await leaseOne({ leaseMs: 1_000, maxLeases: 2 });
        assert.deepEqual(
          [replayed.eventId, replayed.idempotencyKey, replayed.attempts, replayed.leaseCount, replayed.runAt],
          ["e1", original.idempotencyKey, 0, 1, clock.now()],
        );
        assert.deepEqual(replayed.event, original.event);
        // Lease expiries start over too: one expiry does not quarantine it (maxLeases 2).
        clock.advance(1_000);
        assert.equal((await leaseOne({ leaseMs: 1_000, maxLeases: 2 })).leaseCount, 2);
      });

      it("records a replayed trail entry in the replay's commit", async (t) => {
        const trail = harness.trail;
        if (!trail) {
          t.skip("adapter has no trail store");
          return;
        }
        const entry = await deadLettered({ eventId: "e-replay" });
        clock.advance(5_000);
        assert.equal(await queue.replayDlq({ id: entry.id }), 1);
        const replayed = (await trail.list(entry.tenant, "e-replay")).filter((e) => e.stage === "replayed");
        assert.deepEqual(replayed, [
          {
            tenant: entry.tenant,
            eventId: "e-replay",
            at: clock.now(),
            stage: "replayed",
            destination: entry.destination,
            detail: { previousReason: entry.reason },
          },
        ]);
      });

      it("replays and purges by filter, answering how many", async () => {
        await deadLettered({ eventId: "a", tenant: "acme" });
        await deadLettered({ eventId: "b", tenant: "acme" });
        await deadLettered({ eventId: "c", tenant: "umbrella" });
        await deadLettered({ eventId: "d", tenant: "umbrella", destinations: ["slack"] });
        assert.equal(await queue.replayDlq({ filter: { tenant: "acme" } }), 2);
        assert.deepEqual((await lease()).map((j) => j.eventId).sort(), ["a", "b"]);
        assert.equal(await queue.replayDlq({ filter: { tenant: "nobody" } }), 0);
        assert.equal(await queue.purgeDlq({ filter: { destination: "slack" } }), 1);
        assert.deepEqual(
          (await collectDlq({}, 10)).map((e) => e.eventId),
          ["c"],
        );
        assert.equal(await queue.purgeDlq({ filter: {} }), 1);
        assert.equal((await queue.stats()).dlq, 0);
      });

      it("purges one entry by id; unknown ids replay and purge nothing", async () => {
        const entry = await deadLettered({ eventId: "e1" });
        assert.equal(await queue.replayDlq({ id: "987654321" }), 0);
        assert.equal(await queue.purgeDlq({ id: "not-an-id" }), 0);
        assert.equal(await queue.purgeDlq({ id: entry.id }), 1);
        assert.equal(await queue.purgeDlq({ id: entry.id }), 0);
        assert.equal(await queue.getDlq(entry.id), undefined);
        assert.equal((await queue.stats()).ready, 0);
      });
    });

    describe("prune", () => {
      it("drops expired dedupe keys only", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 }));
        jobIdsOf(await enqueue({ eventId: "e2", dedupeTtlMs: 5_000 }));
        assert.deepEqual(await queue.prune({ dlqRetentionMs: 1_000 }), { dedupeKeys: 0, dlq: 0, events: 0 });
        clock.advance(1_000);
        assert.deepEqual(await queue.prune({ dlqRetentionMs: 1_000 }), { dedupeKeys: 1, dlq: 0, events: 0 });
        assert.deepEqual(await enqueue({ eventId: "e2", dedupeTtlMs: 5_000 }), { status: "duplicate" });
        assert.equal(jobIdsOf(await enqueue({ eventId: "e1", dedupeTtlMs: 1_000 })).length, 1);
      });

      it("drops DLQ entries older than the retention", async () => {
        await deadLettered({ eventId: "old" });
        clock.advance(1_000);
        await deadLettered({ eventId: "new" });
        clock.advance(9_000);
        // "old" is exactly 10 s old: not older than the retention yet.
        assert.equal((await queue.prune({ dlqRetentionMs: 10_000 })).dlq, 0);
        clock.advance(1);
        assert.equal((await queue.prune({ dlqRetentionMs: 10_000 })).dlq, 1);
        assert.deepEqual(
          (await collectDlq({}, 10)).map((e) => e.eventId),
          ["new"],
        );
      });

      it("keeps an event while a job or DLQ entry needs it or its dedupe window lasts", async () => {
        const ttl = 1_000;
        jobIdsOf(await enqueue({ eventId: "done", dedupeTtlMs: ttl }));
        assert.equal(await queue.complete(await leaseOne()), true);
        const dead = await deadLettered({ eventId: "dead", dedupeTtlMs: ttl });
        jobIdsOf(await enqueue({ eventId: "pending", dedupeTtlMs: ttl }));
        jobIdsOf(await enqueue({ eventId: "unrouted", dedupeTtlMs: ttl, destinations: [] }));

        assert.equal((await queue.prune({ dlqRetentionMs: defaultDedupeTtlMs })).events, 0);
        assert.equal((await queue.getEvent("acme", "done"))?.id, "done", "kept for the dedupe window");

        clock.advance(ttl);
        const pruned = await queue.prune({ dlqRetentionMs: defaultDedupeTtlMs });
        assert.deepEqual(pruned, { dedupeKeys: 4, dlq: 0, events: 2 });
        assert.equal(await queue.getEvent("acme", "done"), undefined);
        assert.equal(await queue.getEvent("acme", "unrouted"), undefined);
        assert.equal((await queue.getEvent("acme", "pending"))?.id, "pending");
        assert.equal((await queue.getDlq(dead.id))?.event?.id, "dead");
        assert.equal((await leaseOne()).event.id, "pending");

        assert.equal(await queue.purgeDlq({ id: dead.id }), 1);
        assert.equal((await queue.prune({ dlqRetentionMs: defaultDedupeTtlMs })).events, 1);
        assert.equal(await queue.getEvent("acme", "dead"), undefined);
      });

      it("keeps the event of a replayed entry", async () => {
        const entry = await deadLettered({ eventId: "e1", dedupeTtlMs: 1_000 });
        clock.advance(5_000);
        assert.equal(await queue.replayDlq({ id: entry.id }), 1);
        assert.equal((await queue.prune({ dlqRetentionMs: defaultDedupeTtlMs })).events, 0);
        assert.equal((await leaseOne()).event.id, "e1");
      });
    });

    describe("stats and nextWakeAt", () => {
      it("answers zeros and no wake time when empty", async () => {
        assert.deepEqual(await queue.stats(), { ready: 0, delayed: 0, leased: 0, byDestination: {}, dlq: 0 });
        assert.equal(await queue.nextWakeAt(), undefined);
      });

      it("counts ready, delayed and leased jobs per destination, and the DLQ", async () => {
        jobIdsOf(await enqueue({ eventId: "e1", destinations: ["slack"] }));
        const slackJob = await leaseOne();
        await queue.deadLetter(slackJob, { reason: "not_found", chargeAttempt: true });
        jobIdsOf(await enqueue({ eventId: "e2", destinations: ["hook", "slack", "jira"] }));
        const leased = await lease({ leaseMs: 1_000 });
        assert.equal(leased.length, 3);
        const slack = leased.find((j) => j.destination === "slack");
        assert.ok(slack);
        await queue.reschedule(slack, {
          runAt: clock.now() + 60_000,
          chargeAttempt: false,
          reason: "rate_limited",
        });
        jobIdsOf(await enqueue({ eventId: "e3", destinations: ["hook", "jira"] }));

        // hook and jira: 1 leased (e2) + 1 ready (e3); slack: 1 delayed (e2), its e1 job dead-lettered.
        assert.deepEqual(await queue.stats(), {
          ready: 2,
          delayed: 1,
          leased: 2,
          byDestination: {
            hook: { ready: 1, delayed: 0, leased: 1 },
            slack: { ready: 0, delayed: 1, leased: 0 },
            jira: { ready: 1, delayed: 0, leased: 1 },
          },
          dlq: 1,
        });
        // An expired lease counts as ready again.
        clock.advance(1_000);
        const stats = await queue.stats();
        assert.deepEqual([stats.ready, stats.delayed, stats.leased], [4, 1, 0]);
      });

      it("wakes at the earliest runAt or lease expiry", async () => {
        const t0 = clock.now();
        jobIdsOf(await enqueue({ eventId: "e1" }));
        clock.advance(100);
        jobIdsOf(await enqueue({ eventId: "e2" }));
        assert.equal(await queue.nextWakeAt(), t0);
        const [first, second] = await lease({ leaseMs: 30_000 });
        assert.ok(first && second);
        assert.equal(await queue.nextWakeAt(), t0 + 100 + 30_000);
        await queue.reschedule(first, { runAt: t0 + 5_000, chargeAttempt: true, reason: "timeout" });
        assert.equal(await queue.nextWakeAt(), t0 + 5_000);
        await queue.complete(second);
        assert.equal(await queue.nextWakeAt(), t0 + 5_000);
      });
    });

    describe("onEnqueued", () => {
      it("wakes listeners after a commit that added jobs, and stops after unsubscribe", async () => {
        const leases: Promise<readonly LeasedJob[]>[] = [];
        let wakes = 0;
        const unsubscribe = queue.onEnqueued(() => {
          wakes++;
          leases.push(lease());
        });
        jobIdsOf(await enqueue({ eventId: "e1" }));
        assert.equal(wakes, 1);
        // When woken, the job is already there to lease.
        assert.equal((await leases[0])?.length, 1);

        assert.deepEqual(await enqueue({ eventId: "e1" }), { status: "duplicate" });
        jobIdsOf(await enqueue({ eventId: "unrouted", destinations: [] }));
        assert.equal(wakes, 1, "no wake for a duplicate or a submission without jobs");

        unsubscribe();
        jobIdsOf(await enqueue({ eventId: "e2" }));
        assert.equal(wakes, 1);
      });

      it("wakes on release, and a throwing listener harms neither the caller nor other listeners", async () => {
        let wakes = 0;
        queue.onEnqueued(() => {
          throw new Error("listener bug");
        });
        queue.onEnqueued(() => wakes++);
        jobIdsOf(await enqueue({ eventId: "e1" }));
        assert.equal(wakes, 1);
        assert.equal(await queue.release(await leaseOne()), true);
        assert.equal(wakes, 2);
      });
    });

    it("answers ping", async () => {
      assert.equal(await queue.ping(), true);
    });
  });
}
