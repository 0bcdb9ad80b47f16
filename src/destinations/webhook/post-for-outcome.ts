/**
 * One HTTP POST of an attempt and what its answer means: undici `request` on the destination's
 * dispatcher, the response body read up to a cap (only an error's snippet is kept), and the status
 * classified (classify.ts: 2xx delivered; 429/5xx/Retry-After retried; 4xx permanent). Shared by the
 * webhook destination and the approvals' zen-back destination.
 */
import { type Dispatcher, request } from "undici";
import { classifyHttpStatus, classifyNetworkError } from "../../domain/classify.ts";
import type { Clock } from "../../ports/clock.ts";
import type { SendResult } from "../destination.ts";
import { readCappedBody } from "./read-capped-body.ts";

export interface PostOptions {
  readonly dispatcher: Dispatcher;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Bounds the exchange from request start to the last body byte read. */
  readonly signal: AbortSignal;
  /** Bytes read from any answer before the connection is dropped. */
  readonly maxResponseBodyBytes: number;
  /** Bytes of a failed answer kept for the error text. */
  readonly errorSnippetBytes: number;
  /** Upper bound on a `Retry-After` the destination asks for. */
  readonly maxRetryAfterMs: number;
  readonly clock: Clock;
  /** When the attempt started (`clock.now()`), for `durationMs`. */
  readonly startedAt: number;
}

/**
 * POSTs `body` to `url`.
 * @returns the status and duration of a 2xx.
 * @throws RetryableError / RetryAfterError / PermanentError per classify.ts (network errors included).
 */
export async function postForOutcome(url: string | URL, options: PostOptions): Promise<SendResult> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      dispatcher: options.dispatcher,
      method: "POST",
      headers: options.headers,
      body: options.body,
      signal: options.signal,
    });
  } catch (err) {
    throw classifyNetworkError(err);
  }

  const ok = response.statusCode >= 200 && response.statusCode <= 299;
  let snippet = "";
  try {
    const read = await readCappedBody(
      response.body,
      options.maxResponseBodyBytes,
      ok ? 0 : options.errorSnippetBytes,
    );
    snippet = read.snippet;
  } catch (err) {
    // The status line already decided the outcome; a body that fails midway only matters when we
    // wanted it for the error text. A 2xx stays delivered: the receiver has accepted the event.
    if (!ok) snippet = `(response body unreadable: ${classifyNetworkError(err).reason})`;
  }

  const now = options.clock.now();
  const outcome = classifyHttpStatus(
    response.statusCode,
    response.headers,
    now,
    options.maxRetryAfterMs,
    snippet,
  );
  if (outcome.kind === "failed") throw outcome.error;
  return { statusCode: outcome.statusCode, durationMs: Math.max(0, now - options.startedAt) };
}
