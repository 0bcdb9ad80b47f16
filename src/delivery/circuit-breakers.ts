/**
 * One circuit breaker per destination (`tenant/destination`), held in process: the stateful shell
 * around the pure state machine in src/domain/circuit-breaker.ts. It adds the clock, the transition
 * callback (one log line and the `zen_circuit_state` metric per transition) and passes, which tie a
 * delivery's outcome to the half-open period that admitted it so a late probe of an earlier period
 * can neither close the breaker nor free a slot in the current one.
 *
 * Use per delivery:
 * ```ts
 * const decision = breakers.admit(key);
 * if (!decision.allowed) return reschedule(decision.retryAfterMs, "circuit_open"); // not charged
 * if (!(await rateLimits.take(...)).granted) { breakers.release(decision.pass); return reschedule(...); }
 * try { await send(); breakers.record(decision.pass, { kind: "success" }); }
 * catch (e) { breakers.record(decision.pass, { kind: "failure", reason: e.reason }); throw e; }
 * ```
 */
import {
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
} from "../domain/circuit-breaker.ts";
import type { DeliveryReason } from "../domain/errors.ts";
import { type Clock, systemClock } from "../ports/clock.ts";

/** `tenant/destination`. Tenant and destination ids are slugs, so the first `/` separates them. */
export type BreakerKey = `${string}/${string}`;

export function breakerKey(tenant: string, destination: string): BreakerKey {
  return `${tenant}/${destination}`;
}

/** Proof of admission, handed back with the delivery's outcome (`record`) or when it did not run (`release`). */
export interface BreakerPass {
  readonly key: BreakerKey;
  /** True when the delivery is a half-open probe. */
  readonly probe: boolean;
  /** The half-open period that admitted it (counts up per key); meaningful for probes only. */
  readonly period: number;
}

export type BreakerDecision =
  | { readonly allowed: true; readonly pass: BreakerPass }
  | {
      readonly allowed: false;
      /** `open`, or `half_open` with every probe slot taken. */
      readonly state: BreakerKind;
      /** Whole ms until asking again is worthwhile; reschedule without charging an attempt. */
      readonly retryAfterMs: number;
    };

/** How an admitted delivery ended. Failures that are not provider trouble count as success for the breaker. */
export type BreakerOutcome =
  | { readonly kind: "success" }
  | { readonly kind: "failure"; readonly reason: DeliveryReason };

/** One row of `/admin/breakers` and `/ready`. Times are ms since epoch. */
export interface BreakerSnapshot {
  readonly tenant: string;
  readonly destination: string;
  readonly state: BreakerKind;
  /** While closed: breaker failures since the last success; null otherwise. */
  readonly consecutiveFailures: number | null;
  /** While half-open: probes out; null otherwise. */
  readonly probesInFlight: number | null;
  /** While open: when it opened; null otherwise. */
  readonly openedAt: number | null;
  /** While open: when probes will be let through; null otherwise. */
  readonly retryAt: number | null;
}

/** Called synchronously after each change of kind (closed → open → half_open → closed | open). */
export type BreakerTransitionListener = (key: BreakerKey, from: BreakerState, to: BreakerState) => void;

export interface CircuitBreakersOptions {
  /** Default `defaultBreakerPolicy`; build it as `{ ...defaultBreakerPolicy, ...config.guards.circuitBreaker }`. */
  readonly policy?: BreakerPolicy;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** For the transition log line and metric. Errors it throws reach the caller; the state has changed by then. */
  readonly onTransition?: BreakerTransitionListener;
}

interface Entry {
  state: BreakerState;
  /** Incremented on every entry into half_open. */
  period: number;
}

export class CircuitBreakers {
  readonly policy: BreakerPolicy;
  private readonly clock: Clock;
  private readonly onTransition: BreakerTransitionListener | undefined;
  private readonly entries = new Map<BreakerKey, Entry>();

  /** @throws RangeError for a policy out of range (see `assertBreakerPolicy`). */
  constructor(options: CircuitBreakersOptions = {}) {
    this.policy = Object.freeze({ ...(options.policy ?? defaultBreakerPolicy) });
    assertBreakerPolicy(this.policy);
    this.clock = options.clock ?? systemClock;
    this.onTransition = options.onTransition;
  }

  /** May a delivery to `key` go now? When allowed, hand the pass back to `record` or `release`. */
  admit(key: BreakerKey): BreakerDecision {
    const entry = this.entry(key);
    const now = this.clock.now();
    // Settle first so an open → half_open caused by time alone gets its own period number.
    this.apply(key, entry, settle(entry.state, this.policy, now));
    const decision = admit(entry.state, this.policy, now);
    this.apply(key, entry, decision.state);
    if (!decision.allowed) {
      return { allowed: false, state: decision.state.kind, retryAfterMs: decision.retryAfterMs };
    }
    return { allowed: true, pass: { key, probe: decision.probe, period: entry.period } };
  }

  /** Records how an admitted delivery ended. */
  record(pass: BreakerPass, outcome: BreakerOutcome): void {
    const entry = this.entry(pass.key);
    const wasProbe = this.isCurrentProbe(entry, pass);
    const next =
      outcome.kind === "failure" && countsAsBreakerFailure(outcome.reason)
        ? recordFailure(entry.state, this.policy, this.clock.now(), wasProbe)
        : recordSuccess(entry.state, wasProbe);
    this.apply(pass.key, entry, next);
  }

  /** An admitted delivery was not attempted (e.g. rescheduled by the rate limiter): a probe frees its slot. */
  release(pass: BreakerPass): void {
    const entry = this.entry(pass.key);
    this.apply(pass.key, entry, releaseProbe(entry.state, this.isCurrentProbe(entry, pass)));
  }

  /** The breaker of `key` now (closed if never used). */
  state(key: BreakerKey): BreakerState {
    const entry = this.entries.get(key);
    if (entry === undefined) return closedBreaker;
    this.apply(key, entry, settle(entry.state, this.policy, this.clock.now()));
    return entry.state;
  }

  /**
   * Every breaker used so far plus `known` ones (e.g. every configured destination, closed until
   * used), sorted by key, as of now (an elapsed open period shows as half_open).
   */
  snapshot(known: readonly BreakerKey[] = []): BreakerSnapshot[] {
    const keys = [...new Set([...this.entries.keys(), ...known])].sort();
    return keys.map((key) => {
      const state = this.state(key);
      const slash = key.indexOf("/");
      return {
        tenant: key.slice(0, slash),
        destination: key.slice(slash + 1),
        state: state.kind,
        consecutiveFailures: state.kind === "closed" ? state.consecutiveFailures : null,
        probesInFlight: state.kind === "half_open" ? state.probesInFlight : null,
        openedAt: state.kind === "open" ? state.openedAtMs : null,
        retryAt: state.kind === "open" ? state.openedAtMs + this.policy.resetTimeoutMs : null,
      };
    });
  }

  private entry(key: BreakerKey): Entry {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { state: closedBreaker, period: 0 };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private isCurrentProbe(entry: Entry, pass: BreakerPass): boolean {
    return pass.probe && pass.period === entry.period;
  }

  private apply(key: BreakerKey, entry: Entry, next: BreakerState): void {
    const from = entry.state;
    entry.state = next;
    if (from.kind === next.kind) return;
    if (next.kind === "half_open") entry.period++;
    this.onTransition?.(key, from, next);
  }
}
