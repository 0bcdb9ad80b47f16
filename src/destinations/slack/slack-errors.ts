/**
 * Slack's answers mapped into our delivery vocabulary, in one table (reference: providers.md §1.5,
 * §1.6, §1.8). Slack reports almost every failure as HTTP 200 `{ok:false,error:"<code>"}`; throttling
 * is HTTP 429 + `Retry-After` (`ratelimited`), server trouble is 5xx. Every message starts with
 * `slack: <code>`, so the DLQ's `lastError` says what Slack said; the token never appears (Slack
 * does not echo it, and `secrets` are scrubbed from anything that could).
 */
import { parseRetryAfter } from "../../domain/backoff.ts";
import { type DeliveryFailure, errorDetail } from "../../domain/classify.ts";
import { type DeliveryReason, PermanentError, RetryAfterError, RetryableError } from "../../domain/errors.ts";

/**
 * How long to wait on a rate limit that came without a usable `Retry-After` (Slack's chat-specific
 * `rate_limited` is a 200 without one; a 429 always should carry it). Slack's limits are counted per
 * minute ("Tier 2: 20+ per minute"), so a minute always lands past the window that refused us.
 * Bounded by `maxRetryAfterMs` like any Retry-After.
 */
export const slackDefaultRetryAfterMs = 60_000;

/** What a Slack error code means for a delivery. */
export type SlackErrorClass =
  | { readonly kind: "rate_limited" }
  | { readonly kind: "permanent"; readonly reason: DeliveryReason }
  | { readonly kind: "retry"; readonly reason: DeliveryReason };

const permanent = (reason: DeliveryReason): SlackErrorClass => ({ kind: "permanent", reason });
const retry = (reason: DeliveryReason): SlackErrorClass => ({ kind: "retry", reason });

/**
 * Slack error code → class. Codes not listed are retried as `unknown` (the attempt budget ends them):
 * Slack adds codes over time, and dropping an event on a code we do not know is worse than a retry.
 */
export const slackErrorClasses: Readonly<Record<string, SlackErrorClass>> = Object.freeze({
  // throttling
  ratelimited: { kind: "rate_limited" },
  rate_limited: { kind: "rate_limited" },
  // the token: no retry can fix it
  invalid_auth: permanent("invalid_auth"),
  not_authed: permanent("invalid_auth"),
  account_inactive: permanent("invalid_auth"),
  token_revoked: permanent("invalid_auth"),
  token_expired: permanent("invalid_auth"),
  not_allowed_token_type: permanent("invalid_auth"),
  two_factor_setup_required: permanent("invalid_auth"),
  // the token works but may not do this
  missing_scope: permanent("permission_denied"),
  not_in_channel: permanent("permission_denied"),
  restricted_action: permanent("permission_denied"),
  restricted_action_read_only_channel: permanent("permission_denied"),
  restricted_action_thread_only_channel: permanent("permission_denied"),
  restricted_action_non_threadable_channel: permanent("permission_denied"),
  cant_update_message: permanent("permission_denied"),
  ekm_access_denied: permanent("permission_denied"),
  access_denied: permanent("permission_denied"),
  team_access_not_granted: permanent("permission_denied"),
  no_permission: permanent("permission_denied"),
  // what we point at does not exist (any more)
  channel_not_found: permanent("not_found"),
  is_archived: permanent("not_found"),
  message_not_found: permanent("not_found"),
  thread_not_found: permanent("not_found"),
  user_not_found: permanent("not_found"),
  users_not_found: permanent("not_found"),
  no_such_subteam: permanent("not_found"),
  unknown_method: permanent("not_found"),
  // a response_url that is spent (5 posts), expired (30 min) or unknown
  used_url: permanent("not_found"),
  expired_url: permanent("not_found"),
  no_service: permanent("not_found"),
  // the payload: the same message fails the same way every time
  invalid_blocks: permanent("validation_failed"),
  invalid_blocks_format: permanent("validation_failed"),
  msg_too_long: permanent("validation_failed"),
  no_text: permanent("validation_failed"),
  too_many_attachments: permanent("validation_failed"),
  invalid_attachments: permanent("validation_failed"),
  invalid_metadata_format: permanent("validation_failed"),
  invalid_metadata_schema: permanent("validation_failed"),
  metadata_too_large: permanent("validation_failed"),
  markdown_text_conflict: permanent("validation_failed"),
  edit_window_closed: permanent("validation_failed"),
  invalid_arguments: permanent("validation_failed"),
  invalid_array_arg: permanent("validation_failed"),
  invalid_form_data: permanent("validation_failed"),
  invalid_json: permanent("validation_failed"),
  json_not_object: permanent("validation_failed"),
  invalid_post_type: permanent("validation_failed"),
  missing_post_type: permanent("validation_failed"),
  invalid_charset: permanent("validation_failed"),
  // Slack's side: come back later
  fatal_error: retry("server_error"),
  internal_error: retry("server_error"),
  service_unavailable: retry("server_error"),
  request_timeout: retry("timeout"),
});

/** The class of a Slack error code (unknown codes: retry `unknown`). */
export function classifySlackError(code: string): SlackErrorClass {
  return Object.hasOwn(slackErrorClasses, code)
    ? (slackErrorClasses[code] as SlackErrorClass)
    : retry("unknown");
}

/** What the client knows about one failed call. */
export interface SlackFailureFacts {
  /** `chat.postMessage`, `response_url`, … (named in the message). */
  readonly method: string;
  /** Slack's `error` code, when the answer carried one. */
  readonly code?: string;
  /** The HTTP status, when an answer arrived. */
  readonly status?: number;
  /** The raw `Retry-After` header, when present. */
  readonly retryAfter?: string;
  /** `missing_scope`'s `needed` field (a scope name, safe to show). */
  readonly needed?: string;
  readonly nowMs: number;
  /** Retry-After values above this are clamped to it. */
  readonly maxRetryAfterMs: number;
  /** Values that must never appear in a message (the token). */
  readonly secrets?: readonly string[];
}

/**
 * Maps a failed Slack call.
 *
 * | answer | error |
 * |---|---|
 * | HTTP 429, or `ratelimited` / `rate_limited` | `RetryAfterError` `rate_limited` after `Retry-After` (else {@link slackDefaultRetryAfterMs}), bounded by `maxRetryAfterMs` |
 * | HTTP 5xx | `RetryableError` `server_error` (`RetryAfterError` `retry_after` for 502–504 with Retry-After) |
 * | a code in {@link slackErrorClasses} | its class: `invalid_auth`, `permission_denied`, `not_found`, `validation_failed`, or a retry |
 * | any other code, or another status | `RetryableError` `unknown` |
 */
export function slackFailure(facts: SlackFailureFacts): DeliveryFailure {
  const { status, code } = facts;
  const statusCode = status;
  const options = statusCode === undefined ? {} : { statusCode };
  const message = slackMessage(facts);
  if (status === 429 || (code !== undefined && classifySlackError(code).kind === "rate_limited")) {
    const parsed = parseRetryAfter(facts.retryAfter, facts.nowMs);
    const delayMs = Math.min(parsed ?? slackDefaultRetryAfterMs, Math.max(0, facts.maxRetryAfterMs));
    return new RetryAfterError("rate_limited", delayMs, message, options);
  }
  if (status !== undefined && status >= 500 && status <= 599) {
    const parsed =
      status >= 502 && status <= 504 ? parseRetryAfter(facts.retryAfter, facts.nowMs) : undefined;
    if (parsed !== undefined) {
      return new RetryAfterError(
        "retry_after",
        Math.min(parsed, Math.max(0, facts.maxRetryAfterMs)),
        message,
        options,
      );
    }
    return new RetryableError("server_error", message, options);
  }
  if (code !== undefined) {
    const cls = classifySlackError(code);
    switch (cls.kind) {
      case "permanent":
        return new PermanentError(cls.reason, message, options);
      case "retry":
        return new RetryableError(cls.reason, message, options);
      case "rate_limited":
        break; // handled above
      default: {
        const _exhaustive: never = cls;
        return _exhaustive;
      }
    }
  }
  return new RetryableError("unknown", message, options);
}

/** `slack: <code> (<method>[, HTTP <status>][; needs <scope>])`, one bounded line, secrets scrubbed. */
function slackMessage(facts: SlackFailureFacts): string {
  const what = facts.code ?? (facts.status === undefined ? "error" : `HTTP ${facts.status}`);
  const details = [facts.method];
  if (facts.code !== undefined && facts.status !== undefined && facts.status !== 200) {
    details.push(`HTTP ${facts.status}`);
  }
  let text = `slack: ${what} (${details.join(", ")}${facts.needed ? `; needs ${facts.needed}` : ""})`;
  for (const secret of facts.secrets ?? []) {
    if (secret.length >= 4) text = text.split(secret).join("[redacted]");
  }
  return errorDetail(text);
}

/**
 * A transport failure (network, timeout, abort) as `slack: <what> (<method>)`: the class from
 * `classified` (classifyNetworkError), the message prefixed so `lastError` names Slack.
 */
export function slackTransportFailure(method: string, classified: DeliveryFailure): DeliveryFailure {
  const message = errorDetail(`slack: ${classified.message} (${method})`);
  const options = {
    cause: classified,
    ...(classified.statusCode !== undefined && { statusCode: classified.statusCode }),
  };
  if (classified instanceof RetryAfterError) {
    return new RetryAfterError(classified.reason, classified.retryAfterMs, message, options);
  }
  if (classified instanceof PermanentError) return new PermanentError(classified.reason, message, options);
  return new RetryableError(classified.reason, message, options);
}
