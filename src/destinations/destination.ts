/**
 * The destination port: something a delivery can be sent to (webhook, Slack, Jira, …). The worker
 * only knows this interface; each type lives in its own folder under `src/destinations/`.
 */
import type { RetryPolicy } from "../config/config.ts";
import type { ZenEvent } from "../domain/event.ts";

/** One delivery attempt of one event to one destination. */
export interface DeliveryRequest {
  readonly event: ZenEvent;
  /** `sha256(tenant:destination:eventId)`: the same on every attempt, so receivers can dedupe. */
  readonly idempotencyKey: string;
  /** 1-based number of this attempt (charged attempts so far + 1). */
  readonly attempt: number;
}

/** A successful attempt. */
export interface SendResult {
  readonly statusCode: number;
  readonly durationMs: number;
}

export interface Destination {
  /** The destination id from config, unique within its tenant. */
  readonly id: string;
  readonly tenant: string;
  /** `webhook`, `slack`, … (the config `type`). */
  readonly type: string;
  /**
   * This destination's retry policy when it differs from the queue's (e.g. `slackRetryPolicy`);
   * absent: the worker uses `Config.queue.retry`.
   */
  readonly retryPolicy?: RetryPolicy;
  /**
   * Performs one attempt. Resolves only when the destination accepted the delivery.
   * @throws RetryableError (retry with backoff), RetryAfterError (retry after the given delay) or
   *   PermanentError (dead-letter at once), each with a `DeliveryReason`. Must honour `signal`.
   */
  send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult>;
  /** Releases connections; called once at shutdown, after in-flight sends settled or were aborted. */
  close(): Promise<void>;
}

/** What the worker needs from the registry. */
export interface DestinationLookup {
  get(tenant: string, id: string): Destination | undefined;
}
