/**
 * The replay window. Threat: a captured, correctly signed request re-sent later. A signed timestamp
 * bounds how long a capture is usable; the window is two-sided so a sender with a skewed (or forged
 * future) clock cannot stretch it. The nonce cache covers replays inside the window.
 */
import { HttpError } from "../../domain/errors.ts";
import type { TimestampSpec } from "./spec.ts";

export type TimestampUnit = TimestampSpec["unit"];

/** A plain non-negative integer: no sign, no exponent, no fraction, at most 16 digits (safe integer). */
const integerPattern = /^\d{1,16}$/;

/** The integer in `text`, or `undefined` when it is not a plain non-negative decimal integer. */
export function parseTimestampText(text: string): number | undefined {
  return integerPattern.test(text) ? Number(text) : undefined;
}

/** The integer timestamp in a JSON value (a number, or a string of digits), or `undefined`. */
export function parseTimestampValue(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  return typeof value === "string" ? parseTimestampText(value) : undefined;
}

/**
 * Checks `timestamp` (in `unit`) against `nowMs` and returns it in milliseconds. Seconds are compared
 * at whole-second resolution (as the Standard Webhooks and Stripe SDKs do), so `toleranceSeconds` is exact.
 *
 * @param where names the timestamp's location in messages (`header x-slack-request-timestamp`).
 * @throws HttpError `timestamp_stale` when older than the tolerance, `timestamp_future` when newer.
 */
export function checkTimestamp(
  timestamp: number,
  unit: TimestampUnit,
  toleranceSeconds: number,
  nowMs: number,
  where: string,
): number {
  const now = unit === "s" ? Math.floor(nowMs / 1000) : nowMs;
  const tolerance = unit === "s" ? toleranceSeconds : toleranceSeconds * 1000;
  const age = now - timestamp;
  if (age > tolerance) {
    throw new HttpError(
      "timestamp_stale",
      `${where} is ${age} ${unit} old; requests older than ${toleranceSeconds} s are refused (replayed or delayed request?)`,
    );
  }
  if (-age > tolerance) {
    throw new HttpError(
      "timestamp_future",
      `${where} is ${-age} ${unit} in the future; more than ${toleranceSeconds} s ahead is refused (check the sender's clock)`,
    );
  }
  return unit === "s" ? timestamp * 1000 : timestamp;
}
