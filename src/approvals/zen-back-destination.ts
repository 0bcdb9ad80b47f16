/**
 * zen-back: where final approval decisions go (`ZEN_BACK_URL`, `ZEN_BACK_APIKEY`). A destination like
 * any other, so a decision gets the queue's guarantees: retries with backoff, `Retry-After`, the
 * breaker, the rate limit, the egress guard and the DLQ.
 *
 * Request: `POST ${ZEN_BACK_URL}` exactly as configured (no path is appended), JSON body = the decision
 * (`ZenBackDecision`, built by the click handler and carried as the event's `data`), headers
 * `Authorization: Bearer <ZEN_BACK_APIKEY>` (when set) and `Idempotency-Key: <delivery key>`: the same
 * on every attempt of one decision, so zen-back can accept it exactly once although we deliver at
 * least once.
 *
 * Not redacted: the body is built by us from the approval record (ids, action, risk, who decided),
 * contains no event payload, and the approver's e-mail is what zen-back needs. The API key never
 * appears in errors or logs.
 */
import type { Dispatcher } from "undici";
import type { ZenBackDestinationConfig } from "../config/config.ts";
import { attemptSignal } from "../destinations/attempt-signal.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destinations/destination.ts";
import { zenUserAgent } from "../destinations/user-agent.ts";
import {
  agentOptions,
  type ConnectorFactory,
  type DispatcherFactory,
  defaultDispatcherFactory,
  webhookEgressPolicy,
} from "../destinations/webhook/egress-policy.ts";
import { postForOutcome } from "../destinations/webhook/post-for-outcome.ts";
import { ConfigError, PermanentError } from "../domain/errors.ts";
import { type Clock, systemClock } from "../ports/clock.ts";

/** The JSON zen-back receives for each final decision. */
export interface ZenBackDecision {
  readonly approvalId: string;
  readonly tenant: string;
  readonly action: string;
  readonly risk: string;
  readonly decision: "approved" | "rejected";
  readonly approver: { readonly slackUserId: string; readonly email?: string };
  /** ISO-8601. */
  readonly decidedAt: string;
  readonly requester: string;
  /** Every approver, in order (two for two-approver requests); the rejecter alone on reject. */
  readonly approvers: readonly { readonly slackUserId: string; readonly email?: string }[];
}

export interface ZenBackDestinationOptions {
  readonly config: ZenBackDestinationConfig;
  readonly maxRetryAfterMs: number;
  /** The egress-guarded connector (create-destination.ts). */
  readonly connectorFactory: ConnectorFactory;
  readonly dispatcherFactory?: DispatcherFactory;
  readonly clock?: Clock;
}

export class ZenBackDestination implements Destination {
  readonly type = "zen-back";
  readonly id: string;
  readonly tenant: string;
  private readonly url: URL;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private closing: Promise<void> | undefined;

  /** @throws ConfigError when the URL is not http(s) (config compiles it, so only a hand-built config). */
  constructor(options: ZenBackDestinationOptions) {
    const { config } = options;
    this.id = config.id;
    this.tenant = config.tenant;
    const url = URL.canParse(config.url) ? new URL(config.url) : undefined;
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw new ConfigError(["env ZEN_BACK_URL: expected an http(s) URL"]);
    }
    this.url = url;
    this.apiKey = config.apiKey;
    this.timeoutMs = config.timeoutMs;
    this.maxRetryAfterMs = options.maxRetryAfterMs;
    this.clock = options.clock ?? systemClock;
    const dispatcherFactory = options.dispatcherFactory ?? defaultDispatcherFactory;
    this.dispatcher = dispatcherFactory(agentOptions(webhookEgressPolicy, options.connectorFactory));
  }

  /**
   * POSTs the decision carried by the event.
   * @throws PermanentError `validation_failed` when the event carries no decision; otherwise what
   *   `classifyHttpStatus` / `classifyNetworkError` make of the answer (401 → `invalid_auth`, 503 +
   *   Retry-After → `RetryAfterError`, …).
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const decision = delivery.event.data as Partial<ZenBackDecision> | null;
    if (typeof decision !== "object" || decision === null || typeof decision.approvalId !== "string") {
      throw new PermanentError("validation_failed", "the event carries no approval decision");
    }
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": zenUserAgent,
      "idempotency-key": delivery.idempotencyKey,
    };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    const startedAt = this.clock.now();
    const attempt = attemptSignal(signal, this.timeoutMs);
    try {
      return await postForOutcome(this.url, {
        dispatcher: this.dispatcher,
        headers,
        body: JSON.stringify(decision),
        signal: attempt.signal,
        maxResponseBodyBytes: webhookEgressPolicy.maxResponseBodyBytes,
        errorSnippetBytes: webhookEgressPolicy.errorSnippetBytes,
        maxRetryAfterMs: this.maxRetryAfterMs,
        clock: this.clock,
        startedAt,
      });
    } finally {
      attempt.dispose();
    }
  }

  close(): Promise<void> {
    this.closing ??= this.dispatcher.close();
    return this.closing;
  }
}
