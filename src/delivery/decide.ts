/**
 * What happens to a delivery after a failed attempt: retry later (and when), or dead-letter (and why).
 * Pure, so every branch of the retry contract (DESIGN §6) is a table test.
 */
import type { RetryPolicy } from "../config/config.ts";
import { computeBackoffMs } from "../domain/backoff.ts";
import type { DeliveryFailure } from "../domain/classify.ts";
import { type DeliveryReason, PermanentError, RetryAfterError } from "../domain/errors.ts";

export type FailureDecision =
  | {
      readonly kind: "retry";
      /** Why it failed (`server_error`, `rate_limited`, `retry_after`, …): the retry metric's label. */
      readonly reason: DeliveryReason;
      /** From now until the next try, ms. */
      readonly delayMs: number;
      /** `lastError` stored on the job. */
      readonly error: string;
    }
  | {
      readonly kind: "dead_letter";
      /** The failure's own reason when permanent, `retries_exhausted` when the budget ran out. */
      readonly reason: DeliveryReason;
      /** For `retries_exhausted`, why the last attempt failed. */
      readonly failureReason: DeliveryReason;
      readonly error: string;
    };

export interface DecideOptions {
  /** The effective policy (the destination's own, else `Config.queue.retry`). */
  readonly policy: RetryPolicy;
  /** Clamp for a destination-supplied delay, even if the destination did not clamp it. */
  readonly maxRetryAfterMs: number;
  readonly random: () => number;
}

/** `lastError` text: `<reason>: <message>` (messages are already bounded and secret-free). */
export function lastErrorText(error: DeliveryFailure): string {
  return `${error.reason}: ${error.message}`;
}

/**
 * Decides after failed attempt number `attempt` (1-based; every failure is charged).
 * - PermanentError → dead-letter at once with its reason.
 * - Retryable, and `attempt >= policy.attempts` → dead-letter `retries_exhausted`.
 * - RetryAfterError → retry after its delay, clamped to [0, maxRetryAfterMs].
 * - RetryableError → retry after `computeBackoffMs(policy, attempt, random)`.
 */
export function decideAfterFailure(
  error: DeliveryFailure,
  attempt: number,
  options: DecideOptions,
): FailureDecision {
  const text = lastErrorText(error);
  if (error instanceof PermanentError) {
    return { kind: "dead_letter", reason: error.reason, failureReason: error.reason, error: text };
  }
  if (attempt >= Math.max(1, options.policy.attempts)) {
    return { kind: "dead_letter", reason: "retries_exhausted", failureReason: error.reason, error: text };
  }
  const delayMs =
    error instanceof RetryAfterError
      ? Math.min(Math.max(0, error.retryAfterMs), Math.max(0, options.maxRetryAfterMs))
      : computeBackoffMs(options.policy, attempt, options.random);
  return { kind: "retry", reason: error.reason, delayMs, error: text };
}
