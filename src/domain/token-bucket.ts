/**
 * Token bucket math for rate limiting per `tenant:destination` (delivery) and per tenant (intake).
 * A true token bucket, not a fixed window: a bucket holds up to `capacity` tokens, gains
 * `refillPerSecond` tokens per second continuously, and each request takes `cost` tokens or is told
 * exactly how long until it could. Pure: the current time comes in as an argument and the state goes
 * in and out as plain data, so a store (memory, Redis/Lua) owns the atomic read-modify-write.
 *
 * Arithmetic is in integer micro-tokens (1 token = 1 000 000 µtok), never fractional tokens: a float
 * token count that is refilled and decremented thousands of times drifts, and drift upwards would
 * grant a token the bucket has not earned. With integers, the only rounding is in three places and
 * each one errs towards refusing:
 * - refill is floored: an interval earns `floor(elapsedMs × refillPerSecond × 1000)` µtok, so at most
 *   one µtok (a millionth of a token) per refill is lost, never gained;
 * - capacity is floored and cost is ceiled to whole µtok;
 * - `retryAfterMs` is the smallest whole number of ms after which the same floored refill covers the
 *   deficit, so taking at `now + retryAfterMs` succeeds and one ms earlier fails.
 * Hence, from a full bucket, the tokens granted over any interval never exceed
 * `capacity + refillPerSecond × elapsedSeconds`.
 *
 * Time never runs backwards for a bucket: if `nowMs` is before the bucket's `updatedAtMs` (a clock
 * step back, or another process's clock slightly behind), the elapsed time counts as 0 and the
 * bucket keeps its later `updatedAtMs`. That can delay refill by the size of the step but never
 * grants extra tokens (re-anchoring to the earlier time would re-earn the same interval twice).
 */

/** Size and speed of one bucket. Structurally the same as `Config.guards.rateLimit`. */
export interface BucketPolicy {
  /** Most tokens the bucket holds: the burst allowed after a quiet period. > 0. */
  readonly capacity: number;
  /** Tokens added per second, continuously; may be fractional (0.5 = one token every 2 s). > 0. */
  readonly refillPerSecond: number;
}

/** One bucket as a store keeps it. Plain data: serializable as two numbers (e.g. a Redis hash). */
export interface BucketState {
  /** Tokens held at `updatedAtMs`, in integer micro-tokens (1 token = 1 000 000). */
  readonly microTokens: number;
  /** When the bucket was last looked at (taken from or refused), ms since epoch. Never moves backwards. */
  readonly updatedAtMs: number;
}

/** The answer to one take. `state` is what the store must write back, granted or not. */
export type TakeResult =
  | { readonly granted: true; readonly state: BucketState }
  | {
      readonly granted: false;
      readonly state: BucketState;
      /** Whole ms from now until the bucket holds `cost` tokens (if nothing else takes first). ≥ 1. */
      readonly retryAfterMs: number;
    };

/** Micro-tokens per token: bucket arithmetic is done in these integer units. */
export const microTokensPerToken = 1_000_000;

/**
 * The seed's limits (`RATE_LIMIT_CAPACITY` 100, `RATE_LIMIT_REFILL_RATE` 10): a burst of 100
 * deliveries, then a sustained 10 per second; an emptied bucket is full again after 10 s of quiet.
 */
export const defaultBucketPolicy: BucketPolicy = Object.freeze({ capacity: 100, refillPerSecond: 10 });

/** How stores forget buckets nobody uses. */
export interface BucketCleanupPolicy {
  /** How often the sweep runs. */
  readonly intervalMs: number;
  /** A bucket that is full and has not been taken from for this long is dropped. */
  readonly idleMs: number;
}

/**
 * Every 5 minutes, drop buckets that are full and have been idle for 30 minutes or more. Dropping a
 * full bucket is invisible to callers (an absent bucket starts full), so this only bounds memory:
 * a tenant that stopped sending half an hour ago costs nothing.
 */
export const bucketCleanupPolicy: BucketCleanupPolicy = Object.freeze({
  intervalMs: 5 * 60_000,
  idleMs: 30 * 60_000,
});

function capacityMicro(policy: BucketPolicy): number {
  return Math.floor(policy.capacity * microTokensPerToken);
}

/** µtok earned per ms: tokens/s × 1 000 000 µtok/token ÷ 1 000 ms/s. */
function microPerMs(policy: BucketPolicy): number {
  return policy.refillPerSecond * (microTokensPerToken / 1_000);
}

function assertPolicy(policy: BucketPolicy): void {
  const cap = capacityMicro(policy);
  if (!(cap >= 1 && cap <= Number.MAX_SAFE_INTEGER)) {
    // The upper bound keeps every µtok count an exact integer (capacity up to ~9 billion tokens).
    throw new RangeError(`bucket capacity must be a positive number of safe size, got ${policy.capacity}`);
  }
  if (!(Number.isFinite(policy.refillPerSecond) && policy.refillPerSecond > 0)) {
    throw new RangeError(
      `bucket refillPerSecond must be a positive finite number, got ${policy.refillPerSecond}`,
    );
  }
}

/**
 * The bucket as of `nowMs`: refilled by the (floored) tokens earned since `updatedAtMs`, capped at
 * capacity. An absent bucket is full. A `nowMs` before `updatedAtMs` earns nothing and keeps the
 * later timestamp. A bucket holding more than a (lowered) capacity is cut down to it.
 */
export function refill(state: BucketState | undefined, policy: BucketPolicy, nowMs: number): BucketState {
  const cap = capacityMicro(policy);
  if (state === undefined) return { microTokens: cap, updatedAtMs: nowMs };
  const elapsedMs = nowMs - state.updatedAtMs;
  if (!(elapsedMs > 0)) {
    return { microTokens: Math.min(cap, state.microTokens), updatedAtMs: state.updatedAtMs };
  }
  // A product beyond 2^53 is imprecise but far above any capacity, so the cap absorbs it.
  const earned = Math.floor(elapsedMs * microPerMs(policy));
  return { microTokens: Math.min(cap, state.microTokens + earned), updatedAtMs: nowMs };
}

/** The smallest whole number of ms whose floored refill covers `deficit` µtok (deficit ≥ 1). */
function msToEarn(deficit: number, perMs: number): number {
  // floor(d × perMs) ≥ deficit ⟺ d × perMs ≥ deficit, as deficit is an integer. The division
  // may be off by one ulp, so the estimate is nudged until the same product used by `refill` agrees.
  let ms = Math.max(1, Math.ceil(deficit / perMs));
  while (ms * perMs < deficit) ms++;
  while (ms > 1 && (ms - 1) * perMs >= deficit) ms--;
  return ms;
}

/**
 * Takes `cost` tokens from the bucket if it holds them at `nowMs`.
 *
 * @param state the stored bucket, or undefined for a new one (which starts full).
 * @param cost tokens to take; default 1. Must be > 0 and ≤ `policy.capacity` (more could never be granted).
 * @returns granted with the bucket after the take, or refused with the refilled bucket and the exact
 *   wait: whole ms until `cost` tokens exist, ≥ 1 (taking at `nowMs + retryAfterMs` from the returned
 *   state succeeds; at `nowMs + retryAfterMs - 1` it fails).
 * @throws RangeError for a policy with a non-positive capacity or refill rate, or a cost out of range.
 */
export function takeToken(
  state: BucketState | undefined,
  policy: BucketPolicy,
  nowMs: number,
  cost = 1,
): TakeResult {
  assertPolicy(policy);
  const costMicro = Math.ceil(cost * microTokensPerToken);
  if (!(Number.isFinite(cost) && costMicro >= 1 && costMicro <= capacityMicro(policy))) {
    throw new RangeError(`bucket cost must be > 0 and <= capacity ${policy.capacity}, got ${cost}`);
  }
  const current = refill(state, policy, nowMs);
  if (current.microTokens >= costMicro) {
    return {
      granted: true,
      state: { microTokens: current.microTokens - costMicro, updatedAtMs: current.updatedAtMs },
    };
  }
  const deficit = costMicro - current.microTokens;
  // `current.updatedAtMs` is after `nowMs` only when the clock stepped back: refill resumes from there.
  const anchorGapMs = Math.max(0, current.updatedAtMs - nowMs);
  return {
    granted: false,
    state: current,
    retryAfterMs: Math.ceil(anchorGapMs) + msToEarn(deficit, microPerMs(policy)),
  };
}

/** Whole tokens the bucket holds at `nowMs` (for `X-RateLimit-Remaining`-style hints). */
export function remainingTokens(state: BucketState | undefined, policy: BucketPolicy, nowMs: number): number {
  return Math.floor(refill(state, policy, nowMs).microTokens / microTokensPerToken);
}

/**
 * True when the bucket may be dropped by cleanup: full at `nowMs` (so dropping it changes nothing,
 * since an absent bucket starts full) and untouched for at least `idleMs`.
 */
export function isIdleAndFull(
  state: BucketState,
  policy: BucketPolicy,
  nowMs: number,
  idleMs: number,
): boolean {
  if (!(nowMs - state.updatedAtMs >= idleMs)) return false;
  return refill(state, policy, nowMs).microTokens >= capacityMicro(policy);
}
