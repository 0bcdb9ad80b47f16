/**
 * Backoff math for delivery retries: exponential, capped, with full jitter, plus `Retry-After`
 * parsing. Pure: time and randomness come in as arguments, so the worker and the tests decide them.
 */
import type { RetryPolicy } from "../config/config.ts";

/**
 * The seed's policy (`QUEUE_MAX_RETRIES` 3): 3 attempts, waits drawn from [0, 100 ms] then [0, 200 ms],
 * so a failing delivery reaches the DLQ within ~0.3 s of waiting plus the attempts themselves.
 */
export const genericRetryPolicy: RetryPolicy = Object.freeze({
  attempts: 3,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  factor: 2,
  jitter: true,
});

/**
 * Slack: 5 attempts, waits drawn from [0, 200 ms], [0, 400 ms], [0, 800 ms], [0, 1.6 s]: at most
 * ~3 s of waiting in total (the 10 s cap only matters if attempts are raised).
 */
export const slackRetryPolicy: RetryPolicy = Object.freeze({
  attempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: true,
});

/**
 * The un-jittered delay after failed attempt `attempt` (1-based): `initialDelayMs * factor^(attempt-1)`
 * capped at `maxDelayMs`. Non-decreasing in `attempt` for `factor >= 1`; never negative.
 */
export function backoffCeilingMs(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const raw = Math.max(0, policy.initialDelayMs) * Math.max(1, policy.factor) ** exponent;
  // `raw` may overflow to Infinity for large attempts; the cap absorbs it. NaN (bad input) → the cap.
  const capped = Math.min(raw, Math.max(0, policy.maxDelayMs));
  return Number.isNaN(capped) ? Math.max(0, policy.maxDelayMs) : capped;
}

/**
 * How long to wait (ms) before the next try after failed attempt `attempt` (1-based).
 * With `policy.jitter` ("full jitter") the result is uniform in [0, ceiling], which spreads retries of
 * many deliveries that failed together; without it, it is the ceiling itself.
 *
 * @param random returns a number in [0, 1) (`Math.random` in production, seeded in tests); values
 *   outside that range are clamped so a bad source cannot push the delay past the cap.
 * @returns whole milliseconds in [0, policy.maxDelayMs].
 */
export function computeBackoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = backoffCeilingMs(policy, attempt);
  if (!policy.jitter) return Math.floor(ceiling);
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.floor(unit * ceiling);
}

const monthIndex: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// RFC 9110 §5.6.7: senders use IMF-fixdate; recipients must also accept RFC 850 and asctime forms.
// Date.parse is not used: it accepts garbage ("foo 1" is a date in 2001) and reads asctime as local time.
const imfFixdate = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const rfc850Date = /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const asctimeDate = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

interface DateParts {
  readonly year: number;
  readonly month: string;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function toEpochMs(p: DateParts): number | undefined {
  const month = monthIndex[p.month];
  if (month === undefined) return undefined;
  if (p.day < 1 || p.day > 31 || p.hour > 23 || p.minute > 59 || p.second > 60) return undefined;
  return Date.UTC(p.year, month, p.day, p.hour, p.minute, p.second);
}

/** Milliseconds since epoch of an HTTP-date (any of the three RFC 9110 forms), else undefined. */
export function parseHttpDate(value: string, nowMs: number): number | undefined {
  let m = imfFixdate.exec(value);
  if (m) {
    const [, day, month, year, hour, minute, second] = m;
    return toEpochMs({
      year: Number(year),
      month: month ?? "",
      day: Number(day),
      hour: Number(hour),
      minute: Number(minute),
      second: Number(second),
    });
  }
  m = rfc850Date.exec(value);
  if (m) {
    const [, day, month, yy, hour, minute, second] = m;
    // RFC 9110: a two-digit year more than 50 years in the future means the most recent past such year.
    const currentYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(currentYear / 100) * 100 + Number(yy);
    if (year > currentYear + 50) year -= 100;
    return toEpochMs({
      year,
      month: month ?? "",
      day: Number(day),
      hour: Number(hour),
      minute: Number(minute),
      second: Number(second),
    });
  }
  m = asctimeDate.exec(value);
  if (m) {
    const [, month, day, hour, minute, second, year] = m;
    return toEpochMs({
      year: Number(year),
      month: month ?? "",
      day: Number(day?.trim()),
      hour: Number(hour),
      minute: Number(minute),
      second: Number(second),
    });
  }
  return undefined;
}

const delaySeconds = /^-?\d+(\.\d+)?$/;

/**
 * Parses a `Retry-After` header into a delay in ms from `nowMs`.
 * Accepts delay-seconds (`120`; fractions tolerated) or an HTTP-date. A negative number or a date in
 * the past yields 0 (come back now); a missing or unparseable value yields undefined, so the caller
 * falls back to its own backoff. The result is not capped: callers bound it (`maxRetryAfterMs`).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (delaySeconds.test(trimmed)) {
    if (trimmed.startsWith("-")) return 0;
    const ms = Math.ceil(Number(trimmed) * 1000);
    // An absurdly long number is still a valid "much later": saturate and let the caller's bound apply.
    return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
  }
  const at = parseHttpDate(trimmed, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}
