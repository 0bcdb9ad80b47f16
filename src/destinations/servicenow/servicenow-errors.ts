/**
 * ServiceNow's answers mapped into our delivery vocabulary, in one function. The Table API reports
 * failures as `{"error":{"message","detail"},"status":"failure"}` (providers.md §3.5); its message
 * and detail are kept (one bounded line) so a DLQ entry says what ServiceNow objected to.
 *
 * Never in a message: the password, the Authorization header, the instance URL's credentials.
 */
import { parseRetryAfter } from "../../domain/backoff.ts";
import {
  classifyHttpStatus,
  type DeliveryFailure,
  errorDetail,
  type ResponseHeaders,
} from "../../domain/classify.ts";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";

/** The Table API's error envelope. `detail` is often null on a real instance. */
export interface ServiceNowErrorEnvelope {
  readonly message: string;
  readonly detail: string;
}

/** What a failed Table API call answered. */
export interface ServiceNowErrorResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The body as read (capped); may be empty, HTML from a proxy, or the envelope. */
  readonly body: string;
}

/** The DLQ text of a 401: names the credential problem and where to fix it, never the secret. */
export const invalidCredentialsMessage =
  "ServiceNow rejected the credentials (check SERVICENOW_USERNAME/PASSWORD or the tenant's providers.servicenow)";

/** The envelope in `body`, or undefined when the body is something else. Never throws. */
export function parseErrorEnvelope(body: string): ServiceNowErrorEnvelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object") return undefined;
  const error = (parsed as { error?: unknown }).error;
  if (error === null || typeof error !== "object") return undefined;
  const { message, detail } = error as { message?: unknown; detail?: unknown };
  if (typeof message !== "string") return undefined;
  return { message, detail: typeof detail === "string" ? detail : "" };
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof value === "string" ? value : value?.[0];
}

/**
 * When a 429 says to come back: `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset` (Unix
 * seconds, sent by rate-limit rules), clamped to `maxRetryAfterMs`. Undefined when neither parses.
 */
function rateLimitDelayMs(
  headers: ResponseHeaders,
  nowMs: number,
  maxRetryAfterMs: number,
): number | undefined {
  let delayMs = parseRetryAfter(header(headers, "retry-after"), nowMs);
  if (delayMs === undefined) {
    const reset = Number(header(headers, "x-ratelimit-reset"));
    if (Number.isFinite(reset) && reset > 0) delayMs = Math.max(0, Math.ceil(reset * 1000 - nowMs));
  }
  return delayMs === undefined ? undefined : Math.min(delayMs, Math.max(0, maxRetryAfterMs));
}

/** ServiceNow's own words: `message: detail` from the envelope, else a snippet of the body. */
function providerText(envelope: ServiceNowErrorEnvelope | undefined, body: string): string {
  if (envelope)
    return errorDetail(envelope.detail ? `${envelope.message}: ${envelope.detail}` : envelope.message);
  return errorDetail(body);
}

/**
 * Maps one failed Table API answer to the error a delivery (or the ticket API) throws.
 *
 * | status | outcome |
 * |---|---|
 * | 400 | permanent `validation_failed` with ServiceNow's message and detail |
 * | 401 | permanent `invalid_auth`: {@link invalidCredentialsMessage} |
 * | 403 | permanent `permission_denied` (ACL, business rule or data policy) with the detail |
 * | 404 | permanent `not_found`; "no such record or hidden by an ACL" when ServiceNow says "No Record found", else "not a ServiceNow endpoint" (wrong instance URL) |
 * | 429 | `RetryAfterError` `rate_limited` after `Retry-After` (else `X-RateLimit-Reset`), else retry `rate_limited` |
 * | other | as `classifyHttpStatus` (5xx retry, 502/503/504 + Retry-After honoured, other 4xx permanent) |
 *
 * @param nowMs the current time (HTTP-date `Retry-After`, `X-RateLimit-Reset`).
 * @param maxRetryAfterMs upper bound on a server-chosen delay.
 */
export function serviceNowFailure(
  response: ServiceNowErrorResponse,
  nowMs: number,
  maxRetryAfterMs: number,
): DeliveryFailure {
  const { status, headers, body } = response;
  const envelope = parseErrorEnvelope(body);
  const text = providerText(envelope, body);
  const said = text === "" ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
  const statusCode = status;
  switch (status) {
    case 400:
      return new PermanentError("validation_failed", `ServiceNow rejected the request (${said})`, {
        statusCode,
      });
    case 401:
      return new PermanentError("invalid_auth", `${invalidCredentialsMessage} (${said})`, { statusCode });
    case 403:
      return new PermanentError(
        "permission_denied",
        `ServiceNow refused the operation: an ACL, business rule or data policy (${said})`,
        { statusCode },
      );
    case 404:
      return new PermanentError(
        "not_found",
        envelope?.message.toLowerCase().startsWith("no record found")
          ? `ServiceNow has no such record, or an ACL hides it from the API user (${said})`
          : envelope
            ? `ServiceNow: not found (${said})`
            : `ServiceNow answered 404 without its error envelope: is the instance URL right? (${said})`,
        { statusCode },
      );
    case 429: {
      const message = `ServiceNow rate limit exceeded (${said})`;
      const delayMs = rateLimitDelayMs(headers, nowMs, maxRetryAfterMs);
      return delayMs === undefined
        ? new RetryableError("rate_limited", message, { statusCode })
        : new RetryAfterError("rate_limited", delayMs, message, { statusCode });
    }
    default: {
      const outcome = classifyHttpStatus(status, headers, nowMs, maxRetryAfterMs, text);
      if (outcome.kind === "failed") return prefixed(outcome.error);
      // A 2xx reaching here means the caller could not use the answer (unreadable body).
      return new RetryableError("unknown", `ServiceNow answered ${said} but the answer was unusable`, {
        statusCode,
      });
    }
  }
}

/** The same failure with "ServiceNow " in front of its message, so a DLQ entry names the provider. */
function prefixed(error: DeliveryFailure): DeliveryFailure {
  const message = `ServiceNow ${error.message}`;
  const options = { statusCode: error.statusCode };
  if (error instanceof RetryAfterError)
    return new RetryAfterError(error.reason, error.retryAfterMs, message, options);
  if (error instanceof RetryableError) return new RetryableError(error.reason, message, options);
  return new PermanentError(error.reason, message, options);
}
