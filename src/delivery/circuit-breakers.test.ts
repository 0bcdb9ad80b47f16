import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type BreakerKind, type BreakerState, defaultBreakerPolicy } from "../domain/circuit-breaker.ts";
import type { DeliveryReason } from "../domain/errors.ts";
import { FakeClock } from "../ports/clock.ts";
import {
  type BreakerDecision,
  type BreakerKey,
  type BreakerOutcome,
  type BreakerPass,
  breakerKey,
  CircuitBreakers,
} from "./circuit-breakers.ts";

interface Transition {
  readonly key: BreakerKey;
  readonly from: BreakerKind;
  readonly to: BreakerKind;
}

function setup(policy = defaultBreakerPolicy) {
  const clock = new FakeClock();
  const transitions: Transition[] = [];
  const breakers = new CircuitBreakers({
    policy,
    clock,
    onTransition: (key, from, to) => transitions.push({ key, from: from.kind, to: to.kind }),
  });
  return { clock, transitions, breakers };
}

const slack = breakerKey("acme", "slack");
const jira = breakerKey("acme", "jira");
const serverError: BreakerOutcome = { kind: "failure", reason: "server_error" };
const success: BreakerOutcome = { kind: "success" };

function passOf(decision: BreakerDecision): BreakerPass {
  assert.equal(decision.allowed, true, "expected admission");
  if (!decision.allowed) throw new Error("unreachable");
  return decision.pass;
}

/** Admits and fails `n` deliveries to `key`. */
function failN(breakers: CircuitBreakers, key: BreakerKey, n: number, outcome = serverError): void {
  for (let i = 0; i < n; i++) breakers.record(passOf(breakers.admit(key)), outcome);
}

describe("CircuitBreakers", () => {
  test("opens after 5 consecutive provider failures, with one transition", () => {
    const { clock, transitions, breakers } = setup();
    failN(breakers, slack, 4);
    assert.deepEqual(breakers.state(slack), { kind: "closed", consecutiveFailures: 4 });
    assert.deepEqual(transitions, []);
    failN(breakers, slack, 1);
    assert.deepEqual(transitions, [{ key: slack, from: "closed", to: "open" }]);
    const refused = breakers.admit(slack);
    assert.deepEqual(refused, { allowed: false, state: "open", retryAfterMs: 60_000 });
    clock.advance(45_000);
    assert.deepEqual(breakers.admit(slack), { allowed: false, state: "open", retryAfterMs: 15_000 });
    assert.equal(breakers.admit(jira).allowed, true, "other destinations are unaffected");
  });

  test("client errors do not count and break the run of failures", () => {
    const { breakers } = setup();
    const clientErrors: DeliveryReason[] = [
      "invalid_auth",
      "permission_denied",
      "not_found",
      "validation_failed",
    ];
    for (const reason of clientErrors) failN(breakers, slack, 10, { kind: "failure", reason });
    assert.deepEqual(breakers.state(slack), { kind: "closed", consecutiveFailures: 0 });
    failN(breakers, slack, 4, { kind: "failure", reason: "timeout" });
    failN(breakers, slack, 1, { kind: "failure", reason: "validation_failed" });
    failN(breakers, slack, 4, { kind: "failure", reason: "network_error" });
    assert.equal(breakers.state(slack).kind, "closed");
    failN(breakers, slack, 1, { kind: "failure", reason: "rate_limited" });
    assert.equal(breakers.state(slack).kind, "open");
  });

  test("after the timeout: 3 probes, a 4th waits; a probe success closes", () => {
    const { clock, transitions, breakers } = setup();
    failN(breakers, slack, 5);
    clock.advance(60_000);
    const probes = [breakers.admit(slack), breakers.admit(slack), breakers.admit(slack)].map(passOf);
    assert.ok(probes.every((p) => p.probe));
    assert.deepEqual(breakers.admit(slack), { allowed: false, state: "half_open", retryAfterMs: 1_000 });
    const [first, second, third] = probes as [BreakerPass, BreakerPass, BreakerPass];
    breakers.record(first, success);
    assert.deepEqual(breakers.state(slack), { kind: "closed", consecutiveFailures: 0 });
    // The other probes answer later, as ordinary deliveries of a closed breaker.
    breakers.record(second, serverError);
    breakers.record(third, serverError);
    assert.deepEqual(breakers.state(slack), { kind: "closed", consecutiveFailures: 2 });
    assert.deepEqual(
      transitions.map((t) => `${t.from}->${t.to}`),
      ["closed->open", "open->half_open", "half_open->closed"],
    );
  });

  test("a probe failure reopens for another full timeout", () => {
    const { clock, transitions, breakers } = setup();
    failN(breakers, slack, 5);
    clock.advance(70_000);
    const probe = passOf(breakers.admit(slack));
    clock.advance(2_000);
    breakers.record(probe, { kind: "failure", reason: "timeout" });
    assert.deepEqual(breakers.admit(slack), { allowed: false, state: "open", retryAfterMs: 60_000 });
    assert.deepEqual(
      transitions.map((t) => t.to),
      ["open", "half_open", "open"],
    );
  });

  test("release gives a probe slot back; releasing a non-probe changes nothing", () => {
    const { clock, breakers } = setup();
    const early = passOf(breakers.admit(slack)); // admitted while closed
    failN(breakers, slack, 5);
    clock.advance(60_000);
    const probes = [1, 2, 3].map(() => passOf(breakers.admit(slack)));
    assert.equal(breakers.admit(slack).allowed, false);
    breakers.release(early);
    assert.equal(breakers.admit(slack).allowed, false, "a non-probe frees no slot");
    breakers.release(probes[0] as BreakerPass);
    const again = passOf(breakers.admit(slack));
    assert.equal(again.probe, true);
    assert.equal(breakers.admit(slack).allowed, false);
  });

  test("results of deliveries admitted before the breaker opened change nothing", () => {
    const { clock, breakers } = setup();
    const early = [1, 2].map(() => passOf(breakers.admit(slack)));
    failN(breakers, slack, 5);
    breakers.record(early[0] as BreakerPass, success);
    assert.equal(breakers.state(slack).kind, "open", "a late success does not close an open breaker");
    clock.advance(60_000);
    passOf(breakers.admit(slack));
    breakers.record(early[1] as BreakerPass, success);
    assert.deepEqual(breakers.state(slack), { kind: "half_open", probesInFlight: 1 });
  });

  test("a probe of an earlier half-open period cannot free a slot or close the breaker", () => {
    const { clock, breakers } = setup();
    failN(breakers, slack, 5);
    clock.advance(60_000);
    const stale = passOf(breakers.admit(slack));
    const failing = passOf(breakers.admit(slack));
    breakers.record(failing, serverError); // reopens; `stale` is still out
    clock.advance(60_000);
    const current = [1, 2, 3].map(() => passOf(breakers.admit(slack)));
    assert.equal(current.length, 3);
    breakers.release(stale);
    assert.equal(breakers.admit(slack).allowed, false, "still 3 probes out");
    breakers.record(stale, success);
    assert.equal(breakers.state(slack).kind, "half_open", "a stale probe does not close it");
    breakers.record(current[1] as BreakerPass, success);
    assert.equal(breakers.state(slack).kind, "closed");
  });

  test("snapshot lists every breaker used, sorted, as of now", () => {
    const { clock, transitions, breakers } = setup();
    const start = clock.now();
    failN(breakers, breakerKey("zeta", "hook"), 2);
    failN(breakers, slack, 5);
    breakers.admit(jira);
    assert.deepEqual(breakers.snapshot(), [
      {
        tenant: "acme",
        destination: "jira",
        state: "closed",
        consecutiveFailures: 0,
        probesInFlight: null,
        openedAt: null,
        retryAt: null,
      },
      {
        tenant: "acme",
        destination: "slack",
        state: "open",
        consecutiveFailures: null,
        probesInFlight: null,
        openedAt: start,
        retryAt: start + 60_000,
      },
      {
        tenant: "zeta",
        destination: "hook",
        state: "closed",
        consecutiveFailures: 2,
        probesInFlight: null,
        openedAt: null,
        retryAt: null,
      },
    ]);
    clock.advance(60_000);
    const row = breakers.snapshot().find((r) => r.destination === "slack");
    assert.equal(row?.state, "half_open", "an elapsed open period shows as half-open");
    assert.equal(row?.probesInFlight, 0);
    assert.equal(transitions.filter((t) => t.to === "half_open").length, 1, "and is logged once");
  });

  test("an unused key is closed and not listed", () => {
    const { breakers } = setup();
    assert.deepEqual(breakers.state(slack), { kind: "closed", consecutiveFailures: 0 });
    assert.deepEqual(breakers.snapshot(), []);
  });

  test("rejects an invalid policy", () => {
    assert.throws(
      () => new CircuitBreakers({ policy: { ...defaultBreakerPolicy, maxFailures: 0 } }),
      RangeError,
    );
    assert.throws(
      () => new CircuitBreakers({ policy: { ...defaultBreakerPolicy, halfOpenProbes: 0 } }),
      RangeError,
    );
  });
});

type Op =
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "admit"; readonly key: BreakerKey }
  | {
      readonly kind: "finish";
      readonly pick: number;
      readonly outcome: "success" | "failure" | "client_error" | "release";
    };

const keys: readonly BreakerKey[] = [slack, jira];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("admit" as const), key: fc.constantFrom(...keys) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("finish" as const),
      pick: fc.nat(),
      outcome: fc.constantFrom(
        "success" as const,
        "failure" as const,
        "failure" as const,
        "client_error" as const,
        "release" as const,
      ),
    }),
  },
);

describe("CircuitBreakers: properties", () => {
  test("transitions chain legally, one callback each; ≤ 3 probes per period; nothing admitted while open", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 150, size: "max" }), (ops) => {
        const { clock, transitions, breakers } = setup();
        const legal = new Set(["closed->open", "open->half_open", "half_open->closed", "half_open->open"]);
        const last = new Map<BreakerKey, BreakerKind>(keys.map((k) => [k, "closed"]));
        const period = new Map<BreakerKey, number>(keys.map((k) => [k, 0]));
        const out: BreakerPass[] = [];
        let seen = 0;

        for (const op of ops) {
          if (op.kind === "advance") {
            clock.advance(op.ms);
          } else if (op.kind === "admit") {
            const before: BreakerState = breakers.state(op.key);
            const decision = breakers.admit(op.key);
            if (
              before.kind === "open" &&
              clock.now() - before.openedAtMs < defaultBreakerPolicy.resetTimeoutMs
            ) {
              assert.equal(decision.allowed, false, "admitted while open");
            }
            if (decision.allowed) out.push(decision.pass);
          } else if (out.length > 0) {
            const pass = out.splice(op.pick % out.length, 1)[0] as BreakerPass;
            if (op.outcome === "release") breakers.release(pass);
            else if (op.outcome === "success") breakers.record(pass, success);
            else if (op.outcome === "failure") breakers.record(pass, serverError);
            else breakers.record(pass, { kind: "failure", reason: "not_found" });
          }
          // Reading the state may itself move an elapsed open breaker to half-open (and report it).
          const states = new Map(keys.map((key) => [key, breakers.state(key)]));
          for (const t of transitions.slice(seen)) {
            assert.ok(legal.has(`${t.from}->${t.to}`), `${t.from}->${t.to}`);
            assert.equal(t.from, last.get(t.key), "each transition starts where the last one ended");
            last.set(t.key, t.to);
            if (t.to === "half_open") period.set(t.key, (period.get(t.key) ?? 0) + 1);
          }
          seen = transitions.length;
          for (const key of keys) {
            const state = states.get(key) as BreakerState;
            assert.equal(state.kind, last.get(key), "every change of state was reported");
            if (state.kind !== "half_open") continue;
            const probesOut = out.filter(
              (p) => p.key === key && p.probe && p.period === period.get(key),
            ).length;
            assert.equal(state.probesInFlight, probesOut);
            assert.ok(probesOut <= defaultBreakerPolicy.halfOpenProbes, `${probesOut} probes out`);
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
