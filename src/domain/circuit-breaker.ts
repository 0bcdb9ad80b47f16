/**
 * The circuit breaker state machine, per destination, as in the seed:
 *
 * ```
 *            maxFailures consecutive breaker failures
 *   closed ────────────────────────────────────────────► open
 *     ▲                                                  │  ▲
 *     │ a probe succeeds                resetTimeoutMs   │  │ a probe fails
 *     │                                 elapsed          ▼  │
 *     └──────────────────────────────────────────────── half_open (at most halfOpenProbes probes)
 * ```
 *
 * Only failures that signal provider trouble count (`countsAsBreakerFailure`): 429, 5xx, timeouts,
 * connection errors. A client error (4xx) means the destination is up and answering, so for the
 * breaker it counts as a success. While open, deliveries are refused with the time left; the worker
 * reschedules them without charging an attempt.
 *
 * Pure: the current time comes in as an argument and states go in and out as plain data. The
 * stateful holder with transition callbacks is src/delivery/circuit-breakers.ts.
 *
 * Results that arrive late are ignored rather than guessed at: while open, nothing is recorded (the
 * deliveries finishing now were admitted before the breaker opened); while half-open, only the
 * current period's probes count. Time never runs backwards for a breaker: a `nowMs` before
 * `openedAtMs` counts as no time elapsed.
 */
import type { DeliveryReason } from "./errors.ts";

/** When a breaker opens and how it recovers. Extends `Config.guards.circuitBreaker`. */
export interface BreakerPolicy {
  /** Consecutive breaker failures (while closed) that open the breaker. ≥ 1. */
  readonly maxFailures: number;
  /** How long the breaker stays open before letting probes through, ms. ≥ 0. */
  readonly resetTimeoutMs: number;
  /** Probe deliveries let through at once while half-open. ≥ 1. */
  readonly halfOpenProbes: number;
  /** While half-open with every probe slot taken, how long other deliveries wait before asking again, ms. ≥ 1. */
  readonly halfOpenRetryMs: number;
}

/**
 * The seed's breaker (`CIRCUIT_BREAKER_MAX_FAILURES` 5, `CIRCUIT_BREAKER_TIMEOUT` 60 s): 5 failures in
 * a row stop deliveries to the destination for a minute; then 3 probe deliveries go through and the
 * first answer decides: closed again, or another minute open. Deliveries that find all 3 probe slots
 * taken ask again after 1 s, by which time a probe has usually answered.
 */
export const defaultBreakerPolicy: BreakerPolicy = Object.freeze({
  maxFailures: 5,
  resetTimeoutMs: 60_000,
  halfOpenProbes: 3,
  halfOpenRetryMs: 1_000,
});

/** One destination's breaker. */
export type BreakerState =
  | {
      readonly kind: "closed";
      /** Breaker failures since the last success; opens at `maxFailures`. */
      readonly consecutiveFailures: number;
    }
  | {
      readonly kind: "open";
      /** When it opened, ms since epoch; probes are let through from `openedAtMs + resetTimeoutMs`. */
      readonly openedAtMs: number;
    }
  | {
      readonly kind: "half_open";
      /** Probes admitted in this half-open period and not yet answered or released. ≤ `halfOpenProbes`. */
      readonly probesInFlight: number;
    };

export type BreakerKind = BreakerState["kind"];

/** A breaker that has seen nothing yet. */
export const closedBreaker: BreakerState = Object.freeze({ kind: "closed", consecutiveFailures: 0 });

export type Admission =
  | {
      readonly allowed: true;
      readonly state: BreakerState;
      /** True when this delivery is a half-open probe: report its outcome or release it. */
      readonly probe: boolean;
    }
  | {
      readonly allowed: false;
      readonly state: BreakerState;
      /** Whole ms until asking again is worthwhile. ≥ 1. */
      readonly retryAfterMs: number;
    };

/** Which delivery failures count towards opening the breaker: the ones that mean provider trouble. */
const breakerFailureByReason: Readonly<Record<DeliveryReason, boolean>> = {
  // the provider is struggling, overloaded or unreachable
  rate_limited: true,
  server_error: true,
  timeout: true,
  network_error: true,
  retry_after: true,
  unknown: true, // unclassified transport trouble: counted, like it is retried
  // the provider answered: the request (or our config) is at fault, not the provider's health
  invalid_auth: false,
  permission_denied: false,
  not_found: false,
  validation_failed: false,
  // decided on our side before or without talking to the provider
  egress_denied: false,
  redaction_failed: false,
  template_render_failed: false,
  circuit_open: false,
  lock_busy: false,
  destination_unknown: false,
  event_missing: false,
  retries_exhausted: false,
  poison_pill: false,
};

/** Failures decided on our side, before or without the provider answering. */
const ownRefusals: ReadonlySet<DeliveryReason> = new Set([
  "egress_denied",
  "redaction_failed",
  "template_render_failed",
  "destination_unknown",
  "event_missing",
]);

/** True when we refused the delivery ourselves: it tells nothing about the provider's health. */
export function isOwnRefusal(reason: DeliveryReason): boolean {
  return ownRefusals.has(reason);
}

/** True when a delivery that failed for `reason` counts as a breaker failure (provider trouble). */
export function countsAsBreakerFailure(reason: DeliveryReason): boolean {
  return breakerFailureByReason[reason];
}

/**
 * The state after time alone has acted: an open breaker whose `resetTimeoutMs` has elapsed is
 * half-open with no probes yet. Every other state is returned as is.
 */
export function settle(state: BreakerState, policy: BreakerPolicy, nowMs: number): BreakerState {
  if (state.kind !== "open") return state;
  return openElapsedMs(state, nowMs) >= policy.resetTimeoutMs
    ? { kind: "half_open", probesInFlight: 0 }
    : state;
}

function openElapsedMs(state: { readonly openedAtMs: number }, nowMs: number): number {
  return Math.max(0, nowMs - state.openedAtMs);
}

/**
 * May a delivery go to the destination now?
 * - closed: yes.
 * - open, before `resetTimeoutMs`: no, retry when it ends.
 * - open after it, or half-open: yes as a probe while fewer than `halfOpenProbes` are in flight;
 *   otherwise no, retry after `halfOpenRetryMs`.
 */
export function admit(state: BreakerState, policy: BreakerPolicy, nowMs: number): Admission {
  const current = settle(state, policy, nowMs);
  switch (current.kind) {
    case "closed":
      return { allowed: true, state: current, probe: false };
    case "open":
      return {
        allowed: false,
        state: current,
        retryAfterMs: Math.max(1, Math.ceil(policy.resetTimeoutMs - openElapsedMs(current, nowMs))),
      };
    case "half_open":
      if (current.probesInFlight >= policy.halfOpenProbes) {
        return {
          allowed: false,
          state: current,
          retryAfterMs: Math.max(1, Math.ceil(policy.halfOpenRetryMs)),
        };
      }
      return {
        allowed: true,
        state: { kind: "half_open", probesInFlight: current.probesInFlight + 1 },
        probe: true,
      };
    default: {
      const _exhaustive: never = current;
      return _exhaustive;
    }
  }
}

/** True when a reported probe belongs to the current half-open period (it holds a slot). */
function isCurrentProbe(state: BreakerState, wasProbe: boolean): boolean {
  return wasProbe && state.kind === "half_open" && state.probesInFlight > 0;
}

/**
 * A delivery reached the destination and it answered well (or with a client error: see
 * `countsAsBreakerFailure`). Closed: the failure count restarts. Half-open: a current probe closes
 * the breaker; a non-probe result is stale and ignored. Open: ignored.
 *
 * @param wasProbe what `admit` said (`probe`) for this delivery; must be false for a probe of an
 *   earlier half-open period (src/delivery/circuit-breakers.ts tracks periods).
 */
export function recordSuccess(state: BreakerState, wasProbe: boolean): BreakerState {
  switch (state.kind) {
    case "closed":
      return state.consecutiveFailures === 0 ? state : closedBreaker;
    case "open":
      return state;
    case "half_open":
      return isCurrentProbe(state, wasProbe) ? closedBreaker : state;
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

/**
 * A delivery failed in a way that counts as a breaker failure (`countsAsBreakerFailure`). Closed: one
 * more consecutive failure; at `maxFailures` the breaker opens at `nowMs`. Half-open: a current probe
 * reopens it at `nowMs`; a non-probe result is stale and ignored. Open: ignored (the open period is
 * not extended by results of deliveries admitted before it began).
 *
 * @param wasProbe as for `recordSuccess`.
 */
export function recordFailure(
  state: BreakerState,
  policy: BreakerPolicy,
  nowMs: number,
  wasProbe: boolean,
): BreakerState {
  switch (state.kind) {
    case "closed": {
      const consecutiveFailures = state.consecutiveFailures + 1;
      return consecutiveFailures >= policy.maxFailures
        ? { kind: "open", openedAtMs: nowMs }
        : { kind: "closed", consecutiveFailures };
    }
    case "open":
      return state;
    case "half_open":
      return isCurrentProbe(state, wasProbe) ? { kind: "open", openedAtMs: nowMs } : state;
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

/**
 * An admitted delivery was not attempted after all (e.g. the rate limiter rescheduled it): a probe
 * gives its slot back so another delivery can probe; anything else changes nothing.
 *
 * @param wasProbe as for `recordSuccess`.
 */
export function releaseProbe(state: BreakerState, wasProbe: boolean): BreakerState {
  if (!isCurrentProbe(state, wasProbe) || state.kind !== "half_open") return state;
  return { kind: "half_open", probesInFlight: state.probesInFlight - 1 };
}

/** Throws RangeError unless every field of `policy` is in range. Call once where policies are built. */
export function assertBreakerPolicy(policy: BreakerPolicy): void {
  const problems: string[] = [];
  if (!(Number.isInteger(policy.maxFailures) && policy.maxFailures >= 1)) problems.push("maxFailures ≥ 1");
  if (!(Number.isFinite(policy.resetTimeoutMs) && policy.resetTimeoutMs >= 0))
    problems.push("resetTimeoutMs ≥ 0");
  if (!(Number.isInteger(policy.halfOpenProbes) && policy.halfOpenProbes >= 1)) {
    problems.push("halfOpenProbes ≥ 1");
  }
  if (!(Number.isFinite(policy.halfOpenRetryMs) && policy.halfOpenRetryMs >= 1)) {
    problems.push("halfOpenRetryMs ≥ 1");
  }
  if (problems.length > 0) {
    throw new RangeError(`invalid breaker policy (${problems.join(", ")}): ${JSON.stringify(policy)}`);
  }
}
