import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { GuardsConfig } from "../config/config.ts";
import {
  type Admission,
  admit,
  assertBreakerPolicy,
  type BreakerKind,
  type BreakerPolicy,
  type BreakerState,
  closedBreaker,
  countsAsBreakerFailure,
  defaultBreakerPolicy,
  recordFailure,
  recordSuccess,
  releaseProbe,
  settle,
} from "./circuit-breaker.ts";
import type { DeliveryReason } from "./errors.ts";

const t0 = Date.UTC(2026, 0, 1);
const policy = defaultBreakerPolicy;

/**
 * The seed's breaker, written as plainly as possible, as the reference the pure functions must match:
 * closed counts consecutive failures and opens at maxFailures; open refuses until resetTimeoutMs has
 * passed, then half-open lets halfOpenProbes probes out; the first probe answer closes or reopens.
 * Results other than the current period's probes change nothing while open or half-open.
 */
class ReferenceBreaker {
  mode: BreakerKind = "closed";
  failures = 0;
  openedAt = 0;
  probes = 0;

  constructor(private readonly p: BreakerPolicy) {}

  admit(now: number): { allowed: boolean; probe?: boolean; retryAfterMs?: number } {
    // A clock that went backwards counts as no time waited.
    const waited = now < this.openedAt ? 0 : now - this.openedAt;
    if (this.mode === "open" && waited >= this.p.resetTimeoutMs) {
      this.mode = "half_open";
      this.probes = 0;
    }
    if (this.mode === "closed") return { allowed: true, probe: false };
    if (this.mode === "open") return { allowed: false, retryAfterMs: this.p.resetTimeoutMs - waited };
    if (this.probes < this.p.halfOpenProbes) {
      this.probes++;
      return { allowed: true, probe: true };
    }
    return { allowed: false, retryAfterMs: this.p.halfOpenRetryMs };
  }

  success(probe: boolean): void {
    if (this.mode === "closed") this.failures = 0;
    else if (this.mode === "half_open" && probe) this.close();
  }

  failure(probe: boolean, now: number): void {
    if (this.mode === "closed") {
      this.failures++;
      if (this.failures >= this.p.maxFailures) this.open(now);
    } else if (this.mode === "half_open" && probe) {
      this.open(now);
    }
  }

  release(probe: boolean): void {
    if (this.mode === "half_open" && probe) this.probes--;
  }

  asState(): BreakerState {
    if (this.mode === "closed") return { kind: "closed", consecutiveFailures: this.failures };
    if (this.mode === "open") return { kind: "open", openedAtMs: this.openedAt };
    return { kind: "half_open", probesInFlight: this.probes };
  }

  private open(now: number): void {
    this.mode = "open";
    this.openedAt = now;
  }

  private close(): void {
    this.mode = "closed";
    this.failures = 0;
  }
}

type Outcome = "succeed" | "fail" | "release";

type Op =
  | { readonly kind: "advance"; readonly ms: number }
  /** Admit a delivery and keep it out (in flight) for a later `finish`. */
  | { readonly kind: "admit" }
  /** Admit a delivery and, if allowed, finish it at once: the common path. */
  | { readonly kind: "deliver"; readonly outcome: Outcome }
  /** Finish one of the deliveries still out. */
  | { readonly kind: "finish"; readonly pick: number; readonly outcome: Outcome };

const outcomeArb = fc.constantFrom<Outcome>("succeed", "fail", "fail", "release");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: -5_000, max: -1 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("admit" as const) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("deliver" as const), outcome: outcomeArb }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("finish" as const), pick: fc.nat(), outcome: outcomeArb }),
  },
);

const policyArb: fc.Arbitrary<BreakerPolicy> = fc.oneof(
  fc.constant(defaultBreakerPolicy),
  fc.record({
    maxFailures: fc.integer({ min: 1, max: 6 }),
    resetTimeoutMs: fc.integer({ min: 0, max: 60_000 }),
    halfOpenProbes: fc.integer({ min: 1, max: 4 }),
    halfOpenRetryMs: fc.integer({ min: 1, max: 5_000 }),
  }),
);

const allowedTransitions: ReadonlySet<string> = new Set([
  "closed->open",
  "open->half_open",
  "half_open->closed",
  "half_open->open",
]);

function checkTransition(from: BreakerState, to: BreakerState): void {
  if (from.kind === to.kind) return;
  const edge = `${from.kind}->${to.kind}`;
  assert.ok(allowedTransitions.has(edge), `transition ${edge}`);
}

interface Outstanding {
  readonly probe: boolean;
  /** Half-open period the delivery was admitted in (what CircuitBreakers tracks with passes). */
  readonly period: number;
}

describe("circuit breaker: model-based", () => {
  test("matches the reference model; only legal transitions; ≤ halfOpenProbes probes per half-open period", () => {
    fc.assert(
      fc.property(policyArb, fc.array(opArb, { minLength: 10, maxLength: 150, size: "max" }), (p, ops) => {
        const model = new ReferenceBreaker(p);
        let state: BreakerState = closedBreaker;
        let now = t0;
        let period = 0;
        const outstanding: Outstanding[] = [];

        /** Moves to `next`, checking the edge and counting half-open periods. */
        const step = (next: BreakerState): void => {
          checkTransition(state, next);
          if (next.kind === "half_open" && state.kind !== "half_open") period++;
          state = next;
        };
        const take = (pick: number): Outstanding | undefined => {
          if (outstanding.length === 0) return undefined;
          return outstanding.splice(pick % outstanding.length, 1)[0];
        };
        const isCurrentProbe = (o: Outstanding): boolean => o.probe && o.period === period;

        const admitOne = (): Outstanding | undefined => {
          const before = state;
          const expected = model.admit(now);
          const got: Admission = admit(state, p, now);
          if (before.kind === "open" && Math.max(0, now - before.openedAtMs) < p.resetTimeoutMs) {
            assert.equal(got.allowed, false, "no admission while open before the timeout");
          }
          step(settle(state, p, now));
          step(got.state);
          assert.equal(got.allowed, expected.allowed);
          if (!got.allowed) {
            assert.equal(got.retryAfterMs, expected.retryAfterMs);
            assert.ok(got.retryAfterMs >= 1);
            return undefined;
          }
          assert.equal(got.probe, expected.probe);
          return { probe: got.probe, period };
        };
        const finish = (o: Outstanding, outcome: Outcome): void => {
          const wasProbe = isCurrentProbe(o);
          if (outcome === "succeed") {
            model.success(wasProbe);
            step(recordSuccess(state, wasProbe));
          } else if (outcome === "fail") {
            model.failure(wasProbe, now);
            step(recordFailure(state, p, now, wasProbe));
          } else {
            model.release(wasProbe);
            step(releaseProbe(state, wasProbe));
          }
        };

        for (const op of ops) {
          switch (op.kind) {
            case "advance":
              now += op.ms;
              break;
            case "admit": {
              const o = admitOne();
              if (o !== undefined) outstanding.push(o);
              break;
            }
            case "deliver": {
              const o = admitOne();
              if (o !== undefined) finish(o, op.outcome);
              break;
            }
            case "finish": {
              const o = take(op.pick);
              if (o !== undefined) finish(o, op.outcome);
              break;
            }
            default: {
              const _exhaustive: never = op;
              throw new Error(`unexpected op ${JSON.stringify(_exhaustive)}`);
            }
          }
          assert.deepEqual(state, model.asState());
          if (state.kind === "half_open") {
            const probesOut = outstanding.filter(isCurrentProbe).length;
            assert.equal(state.probesInFlight, probesOut);
            assert.ok(probesOut <= p.halfOpenProbes, `${probesOut} probes in flight`);
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("circuit breaker: named policy and failure classes", () => {
  test("defaults are the seed's: 5 failures, 60 s open, 3 probes", () => {
    assert.deepEqual(defaultBreakerPolicy, {
      maxFailures: 5,
      resetTimeoutMs: 60_000,
      halfOpenProbes: 3,
      halfOpenRetryMs: 1_000,
    });
    assert.ok(Object.isFrozen(defaultBreakerPolicy));
    assert.doesNotThrow(() => assertBreakerPolicy(defaultBreakerPolicy));
  });

  test("the config's breaker settings complete a BreakerPolicy", () => {
    const fromConfig: GuardsConfig["circuitBreaker"] = { maxFailures: 2, resetTimeoutMs: 5_000 };
    const p: BreakerPolicy = { ...defaultBreakerPolicy, ...fromConfig };
    assert.equal(recordFailure(recordFailure(closedBreaker, p, t0, false), p, t0, false).kind, "open");
  });

  test("assertBreakerPolicy rejects out-of-range fields", () => {
    for (const bad of [
      { maxFailures: 0 },
      { maxFailures: 1.5 },
      { resetTimeoutMs: -1 },
      { resetTimeoutMs: Number.NaN },
      { halfOpenProbes: 0 },
      { halfOpenRetryMs: 0 },
    ]) {
      assert.throws(() => assertBreakerPolicy({ ...defaultBreakerPolicy, ...bad }), RangeError);
    }
  });

  test("provider trouble counts; client errors and our own refusals do not", () => {
    const table: ReadonlyArray<[DeliveryReason, boolean]> = [
      ["rate_limited", true],
      ["server_error", true],
      ["timeout", true],
      ["network_error", true],
      ["retry_after", true],
      ["unknown", true],
      ["invalid_auth", false],
      ["permission_denied", false],
      ["not_found", false],
      ["validation_failed", false],
      ["egress_denied", false],
      ["redaction_failed", false],
      ["destination_unknown", false],
      ["event_missing", false],
      ["retries_exhausted", false],
      ["poison_pill", false],
    ];
    for (const [reason, counts] of table) assert.equal(countsAsBreakerFailure(reason), counts, reason);
  });
});

function failTimes(state: BreakerState, n: number, nowMs: number): BreakerState {
  let s = state;
  for (let i = 0; i < n; i++) s = recordFailure(s, policy, nowMs, false);
  return s;
}

describe("circuit breaker: transitions", () => {
  test("closed admits; opens on the 5th consecutive failure, not before", () => {
    const four = failTimes(closedBreaker, 4, t0);
    assert.deepEqual(four, { kind: "closed", consecutiveFailures: 4 });
    assert.equal(admit(four, policy, t0).allowed, true);
    assert.deepEqual(recordFailure(four, policy, t0 + 7, false), { kind: "open", openedAtMs: t0 + 7 });
  });

  test("a success resets the count: failures must be consecutive", () => {
    const four = failTimes(closedBreaker, 4, t0);
    const reset = recordSuccess(four, false);
    assert.deepEqual(reset, closedBreaker);
    assert.equal(failTimes(reset, 4, t0).kind, "closed");
  });

  test("open refuses with the time left, then lets a probe through at exactly resetTimeoutMs", () => {
    const open = failTimes(closedBreaker, 5, t0);
    const early = admit(open, policy, t0 + 59_999);
    assert.equal(early.allowed, false);
    assert.equal(early.allowed ? 0 : early.retryAfterMs, 1);
    assert.equal(admit(open, policy, t0).allowed ? 0 : 60_000, 60_000);
    const probe = admit(open, policy, t0 + 60_000);
    assert.deepEqual(probe, { allowed: true, state: { kind: "half_open", probesInFlight: 1 }, probe: true });
  });

  test("half-open lets 3 probes out, then refuses for halfOpenRetryMs; a release frees a slot", () => {
    let state: BreakerState = settle(failTimes(closedBreaker, 5, t0), policy, t0 + 60_000);
    assert.deepEqual(state, { kind: "half_open", probesInFlight: 0 });
    for (let i = 0; i < 3; i++) {
      const a = admit(state, policy, t0 + 60_000);
      assert.equal(a.allowed && a.probe, true);
      state = a.state;
    }
    const fourth = admit(state, policy, t0 + 60_000);
    assert.deepEqual(fourth, { allowed: false, state, retryAfterMs: 1_000 });
    state = releaseProbe(state, true);
    assert.equal(admit(state, policy, t0 + 60_000).allowed, true);
  });

  test("a probe success closes; a probe failure reopens from now", () => {
    const halfOpen: BreakerState = { kind: "half_open", probesInFlight: 2 };
    assert.deepEqual(recordSuccess(halfOpen, true), closedBreaker);
    assert.deepEqual(recordFailure(halfOpen, policy, t0 + 5, true), { kind: "open", openedAtMs: t0 + 5 });
  });

  test("late results change nothing while open or half-open", () => {
    const open: BreakerState = { kind: "open", openedAtMs: t0 };
    assert.equal(recordSuccess(open, false), open);
    assert.equal(recordFailure(open, policy, t0 + 1, false), open, "the open period is not extended");
    assert.equal(recordSuccess(open, true), open);
    const halfOpen: BreakerState = { kind: "half_open", probesInFlight: 1 };
    assert.equal(recordSuccess(halfOpen, false), halfOpen);
    assert.equal(recordFailure(halfOpen, policy, t0, false), halfOpen);
    assert.equal(releaseProbe(halfOpen, false), halfOpen);
    const idle: BreakerState = { kind: "half_open", probesInFlight: 0 };
    assert.equal(recordSuccess(idle, true), idle, "no probe is out, so this one is not of this period");
    assert.equal(releaseProbe(idle, true), idle);
  });

  test("the clock going backwards keeps it open for the full timeout", () => {
    const open: BreakerState = { kind: "open", openedAtMs: t0 };
    const back = admit(open, policy, t0 - 10_000);
    assert.deepEqual(back, { allowed: false, state: open, retryAfterMs: 60_000 });
  });

  test("resetTimeoutMs 0 goes straight to half-open", () => {
    const p: BreakerPolicy = { ...policy, resetTimeoutMs: 0 };
    const open = recordFailure(closedBreaker, { ...p, maxFailures: 1 }, t0, false);
    assert.equal(admit(open, p, t0).allowed, true);
  });
});
