/**
 * The delivery error matrix, in one place: what an HTTP status or a transport error means for a
 * delivery (delivered, retry with backoff, retry at a time the destination chose, or dead-letter at
 * once). Destinations map their results through here; the worker only sees the typed outcome.
 * Pure: the current time and the Retry-After bound come in as arguments.
 */
import { parseRetryAfter } from "./backoff.ts";
import { type DeliveryReason, PermanentError, RetryAfterError, RetryableError } from "./errors.ts";

/** Response headers as undici and node:http give them (lower-case names; repeated headers as arrays). */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What a failed delivery attempt throws: retry (maybe at a given time) or give up. */
export type DeliveryFailure = RetryableError | PermanentError;

export type HttpClassification =
  | { readonly kind: "delivered"; readonly statusCode: number }
  | { readonly kind: "failed"; readonly error: DeliveryFailure };

/** Upper bound on the error text kept from a response body or a transport error (for `lastError`). */
export const maxErrorDetailChars = 200;

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    // Callers other than undici may not lower-case header names.
    value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  }
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[0];
}

/** One line, bounded, printable: safe to store as `lastError` and to log. */
export function errorDetail(text: string | undefined): string {
  if (!text) return "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const oneLine = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return oneLine.length > maxErrorDetailChars ? `${oneLine.slice(0, maxErrorDetailChars)}…` : oneLine;
}

function httpMessage(status: number, detail: string | undefined): string {
  const d = errorDetail(detail);
  return d === "" ? `HTTP ${status}` : `HTTP ${status}: ${d}`;
}

/** Statuses whose `Retry-After` we honour besides 429: the ones RFC 9110 pairs it with for outages. */
const retryAfterServerStatuses: ReadonlySet<number> = new Set([502, 503, 504]);

function retryAfterMs(headers: ResponseHeaders, nowMs: number, maxRetryAfterMs: number): number | undefined {
  const parsed = parseRetryAfter(headerValue(headers, "retry-after"), nowMs);
  return parsed === undefined ? undefined : Math.min(parsed, Math.max(0, maxRetryAfterMs));
}

function permanent(reason: DeliveryReason, status: number, message: string): HttpClassification {
  return { kind: "failed", error: new PermanentError(reason, message, { statusCode: status }) };
}

function retryable(reason: DeliveryReason, status: number, message: string): HttpClassification {
  return { kind: "failed", error: new RetryableError(reason, message, { statusCode: status }) };
}

/**
 * Classifies an HTTP response status.
 *
 * | status | outcome |
 * |---|---|
 * | 2xx | delivered |
 * | 3xx | permanent `validation_failed` (redirects are not followed: Standard Webhooks counts them as failure) |
 * | 401 | permanent `invalid_auth` |
 * | 403 | permanent `permission_denied` |
 * | 404, 410 | permanent `not_found` |
 * | 408 | retry `timeout` |
 * | 429 | `RetryAfterError` `rate_limited` when Retry-After parses, else retry `rate_limited` |
 * | other 4xx (400, 422, …) | permanent `validation_failed` |
 * | 502, 503, 504 + Retry-After | `RetryAfterError` `retry_after` |
 * | 5xx | retry `server_error` |
 * | anything else | retry `unknown` |
 *
 * @param nowMs the current time, to turn an HTTP-date Retry-After into a delay.
 * @param maxRetryAfterMs Retry-After values above this are clamped to it (a destination cannot park a
 *   delivery for a week).
 * @param bodySnippet a short piece of the response body, appended (one line, ≤ 200 chars) to the message.
 */
export function classifyHttpStatus(
  status: number,
  headers: ResponseHeaders,
  nowMs: number,
  maxRetryAfterMs: number,
  bodySnippet?: string,
): HttpClassification {
  const message = httpMessage(status, bodySnippet);
  if (status >= 200 && status <= 299) return { kind: "delivered", statusCode: status };
  if (status >= 300 && status <= 399) {
    return permanent("validation_failed", status, `${message} (redirects are not followed)`);
  }
  if (status === 401) return permanent("invalid_auth", status, message);
  if (status === 403) return permanent("permission_denied", status, message);
  if (status === 404 || status === 410) return permanent("not_found", status, message);
  if (status === 408) return retryable("timeout", status, message);
  if (status === 429) {
    const delayMs = retryAfterMs(headers, nowMs, maxRetryAfterMs);
    if (delayMs === undefined) return retryable("rate_limited", status, message);
    return {
      kind: "failed",
      error: new RetryAfterError("rate_limited", delayMs, message, { statusCode: status }),
    };
  }
  if (status >= 400 && status <= 499) return permanent("validation_failed", status, message);
  if (status >= 500 && status <= 599) {
    const delayMs = retryAfterServerStatuses.has(status)
      ? retryAfterMs(headers, nowMs, maxRetryAfterMs)
      : undefined;
    if (delayMs === undefined) return retryable("server_error", status, message);
    return {
      kind: "failed",
      error: new RetryAfterError("retry_after", delayMs, message, { statusCode: status }),
    };
  }
  return retryable("unknown", status, `${message} (unexpected status)`);
}

/** Error names (undici classes, DOM abort/timeout) that mean the attempt ran out of time. */
const timeoutNames: ReadonlySet<string> = new Set([
  "HeadersTimeoutError",
  "BodyTimeoutError",
  "ConnectTimeoutError",
  "AbortError",
  "TimeoutError",
]);

const timeoutCodes: ReadonlySet<string> = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_ABORTED",
  "ABORT_ERR",
  "ETIMEDOUT",
]);

/** Connection-level failures: the request may never have arrived, so retrying is safe and useful. */
const networkCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
]);

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error, its `cause` chain and AggregateError members (Happy Eyeballs tries several addresses). */
function* errorChain(err: unknown, depth = 0): Generator<ErrorLike> {
  if (depth > 5 || typeof err !== "object" || err === null) return;
  const e = err as ErrorLike;
  yield e;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) yield* errorChain(inner, depth + 1);
  }
  yield* errorChain(e.cause, depth + 1);
}

function describe(e: ErrorLike): string {
  const label = typeof e.code === "string" ? e.code : typeof e.name === "string" ? e.name : "Error";
  const message = typeof e.message === "string" ? e.message : "";
  return errorDetail(message === "" ? label : `${label}: ${message}`);
}

/** True for the errors a destination's `send` is allowed to throw. */
export function isDeliveryFailure(err: unknown): err is DeliveryFailure {
  return err instanceof RetryableError || err instanceof PermanentError;
}

/**
 * Classifies a thrown transport error (undici, node:net, DNS, AbortSignal). Already-typed delivery
 * errors pass through unchanged. Timeouts and aborts → retry `timeout`; refused/reset/DNS/socket
 * failures → retry `network_error`; anything else → retry `unknown` (retrying an unknown failure is
 * safer than dropping the event; the attempt budget still ends it). Never throws.
 */
export function classifyNetworkError(err: unknown): DeliveryFailure {
  if (isDeliveryFailure(err)) return err;
  for (const e of errorChain(err)) {
    const code = typeof e.code === "string" ? e.code : undefined;
    const name = typeof e.name === "string" ? e.name : undefined;
    if ((code !== undefined && timeoutCodes.has(code)) || (name !== undefined && timeoutNames.has(name))) {
      return new RetryableError("timeout", `timed out (${describe(e)})`, { cause: err });
    }
    if (code !== undefined && networkCodes.has(code)) {
      return new RetryableError("network_error", `network error (${describe(e)})`, { cause: err });
    }
  }
  const top = typeof err === "object" && err !== null ? describe(err as ErrorLike) : errorDetail(String(err));
  return new RetryableError("unknown", `unclassified error (${top})`, { cause: err });
}
