/**
 * The error vocabulary. Every error that leaves the service (HTTP response, DLQ reason, log line,
 * metric label) carries one of these stable snake_case codes. Never reuse or rename a code: users
 * script against them. Provider errors are mapped into this vocabulary at the adapter edge.
 */

/** Codes answered to HTTP callers, with the status each maps to. */
export const httpErrorStatus = {
  // 400: the request is malformed
  malformed_body: 400,
  malformed_header: 400,
  missing_header: 400,
  invalid_request: 400,
  // 401: authentication of the request failed
  signature_missing: 401,
  signature_invalid: 401,
  timestamp_missing: 401,
  timestamp_stale: 401,
  timestamp_future: 401,
  unauthorized: 401,
  // 404
  not_found: 404,
  unknown_tenant: 404,
  unknown_source: 404,
  // 405
  method_not_allowed: 405,
  // 408, 409
  request_timeout: 408,
  replayed: 409,
  idempotency_in_progress: 409,
  // 413, 415, 429, 431
  body_too_large: 413,
  unsupported_content_type: 415,
  rate_limited: 429,
  expectation_failed: 417,
  idempotency_key_reused: 422,
  headers_too_large: 431,
  // 5xx
  internal_error: 500,
  // 502/503: a provider behind a synchronous API (ServiceNow, Jira) refused or failed the call
  provider_error: 502,
  provider_unavailable: 503,
  not_ready: 503,
  store_unavailable: 503,
} as const;

export type HttpErrorCode = keyof typeof httpErrorStatus;

/** Reasons a delivery is retried, dead-lettered or delayed. Used as DLQ reasons and metric labels. */
export type DeliveryReason =
  // retryable
  | "rate_limited" // the destination answered 429
  | "server_error" // 5xx
  | "timeout"
  | "network_error" // connection refused/reset, DNS failure
  | "unknown" // anything we cannot classify: retried to be safe
  | "retry_after" // the destination asked us to come back later (Retry-After)
  // permanent
  | "invalid_auth" // 401
  | "permission_denied" // 403
  | "not_found" // 404, 410
  | "validation_failed" // 400, 422 and other client errors
  | "egress_denied" // the destination resolves to a forbidden address
  | "redaction_failed"
  // a template of the destination failed to render (retried only when its render time ran out)
  | "template_render_failed"
  | "destination_unknown" // config no longer has the destination
  | "event_missing" // the stored event is gone (should not happen)
  // delays by our own guards (never failures, never charged)
  | "circuit_open" // the destination's breaker is open
  | "lock_busy" // another delivery holds the lock of the same ticket/message (DeferredError)
  // queue-level
  | "retries_exhausted"
  | "poison_pill"; // the job's lease expired too many times: it keeps killing workers

/** Base of every error we raise on purpose. `code` is stable; `message` is for humans and never holds secrets. */
export class ZenError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ZenError";
    this.code = code;
  }
}

/** A `Retry-After` header for a wait of `ms`: whole seconds, rounded up, at least 1. */
export function retryAfterHeader(ms: number): { "retry-after": string } {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}

/** An error answered to an HTTP caller as `{"error":{"code","message"}}` with the code's status. */
export class HttpError extends ZenError {
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After` for 429. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(code, message, options);
    this.name = "HttpError";
    this.status = httpErrorStatus[code];
    this.headers = options?.headers ?? {};
  }
}

/** A delivery failure worth retrying with the retry policy's backoff. */
export class RetryableError extends ZenError {
  readonly reason: DeliveryReason;
  readonly statusCode: number | undefined;
  constructor(reason: DeliveryReason, message: string, options?: { cause?: unknown; statusCode?: number }) {
    super(reason, message, options);
    this.name = "RetryableError";
    this.reason = reason;
    this.statusCode = options?.statusCode;
  }
}

/** A delivery failure where the destination told us when to come back; wins over computed backoff. */
export class RetryAfterError extends RetryableError {
  readonly retryAfterMs: number;
  constructor(
    reason: DeliveryReason,
    retryAfterMs: number,
    message: string,
    options?: { cause?: unknown; statusCode?: number },
  ) {
    super(reason, message, options);
    this.name = "RetryAfterError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** A delivery failure that no retry can fix: the job goes to the DLQ at once with this reason. */
export class PermanentError extends ZenError {
  readonly reason: DeliveryReason;
  readonly statusCode: number | undefined;
  constructor(reason: DeliveryReason, message: string, options?: { cause?: unknown; statusCode?: number }) {
    super(reason, message, options);
    this.name = "PermanentError";
    this.reason = reason;
    this.statusCode = options?.statusCode;
  }
}

/**
 * Not a failure: the attempt could not start its work because another delivery of ours holds what it
 * needs (the lock of the same ticket). The job comes back after `delayMs` without being charged an
 * attempt, as a guard's delay would: our own coordination must not push a healthy delivery towards
 * the DLQ. Progress is bounded by the holder: a lock's TTL outlives any attempt.
 */
export class DeferredError extends ZenError {
  readonly reason: "lock_busy";
  readonly delayMs: number;
  constructor(delayMs: number, message: string) {
    super("lock_busy", message);
    this.name = "DeferredError";
    this.reason = "lock_busy";
    this.delayMs = delayMs;
  }
}

/** Config problems: one `path: message` line per problem; the process exits with code 2. */
export class ConfigError extends ZenError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super("config_invalid", `invalid configuration:\n${problems.join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
