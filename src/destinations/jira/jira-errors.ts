/**
 * Jira's answers mapped into our delivery vocabulary, in one function (reference: providers.md §2.4,
 * §2.5). Field-level messages from Jira's `ErrorCollection` are kept (they say what to fix); the
 * credentials never are: a 401 names the settings to check, not their values, and `secrets` are
 * scrubbed from any text Jira echoes back.
 */
import { parseRetryAfter } from "../../domain/backoff.ts";
import type { DeliveryFailure, ResponseHeaders } from "../../domain/classify.ts";
import { PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";

/** Jira's error body: `{"errorMessages":[...],"errors":{"<field>":"<message>"},"status"?:n}`. */
export interface JiraErrorCollection {
  readonly errorMessages?: readonly string[];
  readonly errors?: Readonly<Record<string, string>>;
}

/** Upper bound on the Jira text kept in an error message (DLQ `lastError`, logs, API answers). */
export const maxJiraErrorChars = 500;

/** What a 401 means, without the secret: which settings to check. */
export const jiraInvalidAuthMessage =
  "Jira rejected the credentials (check JIRA_EMAIL/JIRA_TOKEN or the tenant's providers.jira)";

export interface JiraResponseFacts {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The (capped) response body as text; may be empty or not JSON. */
  readonly body: string;
  readonly nowMs: number;
  /** Retry-After values above this are clamped to it. */
  readonly maxRetryAfterMs: number;
  /** Values that must never appear in a message (the token, the Authorization header). */
  readonly secrets?: readonly string[];
}

/**
 * Maps a non-2xx Jira response.
 *
 * | status | error |
 * |---|---|
 * | 400 and other 4xx not below | `PermanentError` `validation_failed`, with Jira's field messages |
 * | 3xx | `PermanentError` `validation_failed` (redirects are not followed: check JIRA_URL) |
 * | 401 | `PermanentError` `invalid_auth` ({@link jiraInvalidAuthMessage}) |
 * | 403 | `PermanentError` `permission_denied` |
 * | 404, 410 | `PermanentError` `not_found` |
 * | 408 | `RetryableError` `timeout` |
 * | 429 | `RetryAfterError` `rate_limited` (Retry-After seconds or date, else X-RateLimit-Reset), else `RetryableError` `rate_limited` |
 * | 502–504 with Retry-After | `RetryAfterError` `retry_after` |
 * | other 5xx | `RetryableError` `server_error` |
 */
export function jiraFailure(facts: JiraResponseFacts): DeliveryFailure {
  const { status } = facts;
  const detail = scrub(jiraErrorText(facts.body), facts.secrets);
  const withDetail = (text: string) => bounded(detail === "" ? text : `${text}: ${detail}`);
  const statusCode = status;

  if (status === 401)
    return new PermanentError("invalid_auth", `${jiraInvalidAuthMessage} (HTTP 401)`, { statusCode });
  if (status === 403) {
    return new PermanentError(
      "permission_denied",
      withDetail("Jira denied permission to the configured account (HTTP 403)"),
      { statusCode },
    );
  }
  if (status === 404 || status === 410) {
    return new PermanentError("not_found", withDetail(`Jira: not found (HTTP ${status})`), { statusCode });
  }
  if (status === 408)
    return new RetryableError("timeout", withDetail("Jira timed out (HTTP 408)"), { statusCode });
  if (status === 429) {
    const reason = header(facts.headers, "ratelimit-reason");
    const message = bounded(`Jira rate limit (HTTP 429${reason ? `, ${reason}` : ""})`);
    const delayMs = rateLimitDelayMs(facts);
    return delayMs === undefined
      ? new RetryableError("rate_limited", message, { statusCode })
      : new RetryAfterError("rate_limited", delayMs, message, { statusCode });
  }
  if (status >= 300 && status <= 399) {
    return new PermanentError(
      "validation_failed",
      `Jira answered a redirect (HTTP ${status}); redirects are not followed: check the Jira URL`,
      { statusCode },
    );
  }
  if (status >= 400 && status <= 499) {
    return new PermanentError("validation_failed", withDetail(`Jira refused the request (HTTP ${status})`), {
      statusCode,
    });
  }
  if (status >= 500 && status <= 599) {
    const delayMs = status >= 502 && status <= 504 ? retryAfterMs(facts) : undefined;
    const message = withDetail(`Jira server error (HTTP ${status})`);
    return delayMs === undefined
      ? new RetryableError("server_error", message, { statusCode })
      : new RetryAfterError("retry_after", delayMs, message, { statusCode });
  }
  return new RetryableError("unknown", withDetail(`Jira answered an unexpected HTTP ${status}`), {
    statusCode,
  });
}

/**
 * The human part of a Jira error body: `field: message` pairs then `errorMessages`, joined by `; `.
 * Other JSON shapes (`{"message"}`, gateway `{"code","message"}`) give their `message`; non-JSON gives
 * the text itself. One line, not yet bounded.
 */
export function jiraErrorText(body: string): string {
  const trimmed = body.trim();
  if (trimmed === "") return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return oneLine(trimmed);
  }
  if (parsed === null || typeof parsed !== "object") return oneLine(trimmed);
  const record = parsed as { errorMessages?: unknown; errors?: unknown; message?: unknown };
  const parts: string[] = [];
  if (record.errors !== null && typeof record.errors === "object" && !Array.isArray(record.errors)) {
    for (const [field, message] of Object.entries(record.errors as Record<string, unknown>)) {
      parts.push(`${field}: ${typeof message === "string" ? message : JSON.stringify(message)}`);
    }
  }
  if (Array.isArray(record.errorMessages)) {
    for (const message of record.errorMessages) if (typeof message === "string") parts.push(message);
  }
  if (parts.length === 0 && typeof record.message === "string") parts.push(record.message);
  return oneLine(parts.length > 0 ? parts.join("; ") : trimmed);
}

function rateLimitDelayMs(facts: JiraResponseFacts): number | undefined {
  const fromRetryAfter = retryAfterMs(facts);
  if (fromRetryAfter !== undefined) return fromRetryAfter;
  // Jira also sends `X-RateLimit-Reset: 2026-01-01T10:00Z` (ISO 8601) when the window reopens.
  const reset = header(facts.headers, "x-ratelimit-reset");
  if (reset === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(reset)) return undefined;
  const at = Date.parse(reset);
  if (Number.isNaN(at)) return undefined;
  return clamp(Math.max(0, at - facts.nowMs), facts.maxRetryAfterMs);
}

function retryAfterMs(facts: JiraResponseFacts): number | undefined {
  const parsed = parseRetryAfter(header(facts.headers, "retry-after"), facts.nowMs);
  return parsed === undefined ? undefined : clamp(parsed, facts.maxRetryAfterMs);
}

function clamp(ms: number, max: number): number {
  return Math.min(ms, Math.max(0, max));
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value =
    headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[0];
}

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

function bounded(text: string): string {
  return text.length > maxJiraErrorChars ? `${text.slice(0, maxJiraErrorChars)}…` : text;
}

/** Replaces every occurrence of a secret (non-empty) with `[redacted]`. */
export function scrub(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const secret of secrets ?? []) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}
