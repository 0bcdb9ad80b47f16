/**
 * Outbound webhooks: POST the event as JSON, signed per Standard Webhooks, through one hardened
 * undici `Agent` per destination (limits in `webhookEgressPolicy`). Every failure leaves as a typed
 * delivery error via `domain/classify.ts`; the queue decides what happens next.
 *
 * Per attempt: redaction layer 1 on the event, the body (built-in JSON, or the `body` template),
 * redaction layer 2 on that body, then the signature over the redacted bytes, so receivers verify
 * exactly what they got (redaction/redact-delivery.ts).
 *
 * Security notes: the URL and the secret never appear in errors or logs (webhook URLs often embed a
 * token). Redirects are not followed. Blocking private addresses belongs to the `connectorFactory`
 * seam (see egress-policy.ts), added by the egress-guard issue.
 */
import type { Dispatcher } from "undici";
import type { RouteConfig, WebhookDestinationConfig } from "../../config/config.ts";
import { ConfigError, PermanentError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { CompiledRedactionPolicy } from "../../redaction/policy.ts";
import { AttemptRedaction, type RedactionObserver } from "../../redaction/redact-delivery.ts";
import { templateContext } from "../../templates/template-context.ts";
import type { CompiledTemplate } from "../../templates/template-engine.ts";
import { attemptSignal } from "../attempt-signal.ts";
import { deliveryRef } from "../delivery-ref.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destination.ts";
import { renderTemplatePart } from "../render-template.ts";
import { createTemplateChooser, type TemplateChooser } from "../route-templates.ts";
import { zenUserAgent } from "../user-agent.ts";
import {
  agentOptions,
  type ConnectorFactory,
  type DispatcherFactory,
  defaultConnectorFactory,
  defaultDispatcherFactory,
  type WebhookEgressPolicy,
  webhookEgressPolicy,
} from "./egress-policy.ts";
import { postForOutcome } from "./post-for-outcome.ts";
import { renderBody } from "./render-body.ts";
import { signingKey, signStandardWebhook } from "./standard-webhooks.ts";

export interface WebhookDestinationOptions {
  readonly config: WebhookDestinationConfig;
  /** Upper bound on a receiver's Retry-After (`Config.queue.maxRetryAfterMs`). */
  readonly maxRetryAfterMs: number;
  /** For `webhook-timestamp`, Retry-After dates and durations. Default: the system clock. */
  readonly clock?: Clock;
  /** Overrides of `webhookEgressPolicy` (tests shorten timeouts). Default: none. */
  readonly egress?: Partial<WebhookEgressPolicy>;
  /** Default: `zen-integrations/<package version>`. */
  readonly userAgent?: string;
  /** Default: `new Agent(options)`. */
  readonly dispatcherFactory?: DispatcherFactory;
  /** Default: undici's `buildConnector`; the egress guard wraps this. */
  readonly connectorFactory?: ConnectorFactory;
  /** The tenant's policy for both redaction layers; undefined only when the config says `redact: false`. */
  readonly redaction: CompiledRedactionPolicy | undefined;
  /** Told each attempt's redaction counts. */
  readonly onRedactions?: RedactionObserver;
  /** The tenant's routes: one may give this destination its own `body` template (route-templates.ts). */
  readonly routes?: readonly RouteConfig[];
}

/** Headers we set; configured static headers cannot override them. */
const reservedHeaders: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "transfer-encoding",
  "host",
  "connection",
  "user-agent",
  "idempotency-key",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

export class WebhookDestination implements Destination {
  readonly type = "webhook";
  readonly id: string;
  readonly tenant: string;
  /** The effective egress limits (policy with overrides). */
  readonly egress: WebhookEgressPolicy;
  private readonly url: URL;
  private readonly key: Buffer | undefined;
  private readonly staticHeaders: Readonly<Record<string, string>>;
  private readonly attemptDeadlineMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly userAgent: string;
  private readonly dispatcher: Dispatcher;
  private readonly redaction: CompiledRedactionPolicy | undefined;
  private readonly onRedactions: RedactionObserver | undefined;
  /** The templates of a delivery (a route's, the destination's, the defaults); no `body`: built-in JSON. */
  private readonly templates: TemplateChooser<"webhook">;
  private closing: Promise<void> | undefined;

  /** @throws ConfigError (`config_invalid`) for a non-http(s) URL or an unusable secret. */
  constructor(options: WebhookDestinationOptions) {
    const { config } = options;
    this.id = config.id;
    this.tenant = config.tenant;
    const field = `tenants.${config.tenant}.destinations.${config.id}`;

    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new ConfigError([`${field}.url: not a valid URL`]);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new ConfigError([`${field}.url: must be http(s), got ${url.protocol}`]);
    }
    this.url = url;
    try {
      this.key = config.secret === undefined ? undefined : signingKey(config.secret);
    } catch (err) {
      throw new ConfigError([`${field}.secret: ${(err as Error).message}`]);
    }

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(config.headers)) {
      const lower = name.toLowerCase();
      if (!reservedHeaders.has(lower)) headers[lower] = value;
    }
    this.staticHeaders = headers;

    this.egress = Object.freeze({ ...webhookEgressPolicy, ...options.egress });
    // The destination's own timeout may shorten the attempt, never lengthen it past the policy.
    this.attemptDeadlineMs =
      config.timeoutMs > 0
        ? Math.min(config.timeoutMs, this.egress.attemptDeadlineMs)
        : this.egress.attemptDeadlineMs;
    this.maxRetryAfterMs = options.maxRetryAfterMs;
    this.clock = options.clock ?? systemClock;
    this.userAgent = options.userAgent ?? zenUserAgent;
    const connectorFactory = options.connectorFactory ?? defaultConnectorFactory;
    const dispatcherFactory = options.dispatcherFactory ?? defaultDispatcherFactory;
    this.dispatcher = dispatcherFactory(agentOptions(this.egress, connectorFactory));
    this.redaction = options.redaction;
    this.onRedactions = options.onRedactions;
    this.templates = createTemplateChooser(config, options.routes);
  }

  /**
   * POSTs the rendered event. Headers: `content-type: application/json`, `user-agent`,
   * `idempotency-key` and `webhook-id` (both the delivery's idempotency key, identical on every
   * attempt), `webhook-timestamp` (seconds), `webhook-signature` (when a secret is configured), plus the
   * configured static headers, which cannot override any of these. The response body is read up to
   * `maxResponseBodyBytes` and discarded.
   *
   * @throws RetryableError / RetryAfterError / PermanentError per `classifyHttpStatus` and
   *   `classifyNetworkError`; PermanentError `validation_failed` when the event cannot be serialized,
   *   `redaction_failed` when redaction fails (nothing is sent), `template_render_failed` when the
   *   `body` template fails (retryable only when its render time ran out).
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const redaction = new AttemptRedaction(delivery.event, this.redaction, this.onRedactions);
    try {
      const template = this.templates(delivery.event).body;
      const body = redaction.body(this.render(template, redaction.event, delivery));
      return await this.signAndPost(delivery, body, signal);
    } finally {
      redaction.report(this.tenant);
    }
  }

  /** The body before layer 2: the `body` template's output, else the canonical event as JSON. */
  private render(template: CompiledTemplate | undefined, event: ZenEvent, delivery: DeliveryRequest): string {
    if (template !== undefined) {
      const context = templateContext(event, { ref: deliveryRef(delivery.idempotencyKey) });
      return renderTemplatePart(template, context);
    }
    try {
      return renderBody(event);
    } catch (err) {
      throw new PermanentError("validation_failed", "event could not be serialized as JSON", { cause: err });
    }
  }

  /** Headers and signature over `body` (already redacted), then the POST under the attempt deadline. */
  private async signAndPost(
    delivery: DeliveryRequest,
    body: string,
    signal: AbortSignal,
  ): Promise<SendResult> {
    const startedAt = this.clock.now();
    const timestampSeconds = Math.floor(startedAt / 1000);
    const headers: Record<string, string> = {
      ...this.staticHeaders,
      "content-type": "application/json",
      "user-agent": this.userAgent,
      "idempotency-key": delivery.idempotencyKey,
      "webhook-id": delivery.idempotencyKey,
      "webhook-timestamp": String(timestampSeconds),
    };
    if (this.key !== undefined) {
      headers["webhook-signature"] = signStandardWebhook(
        this.key,
        delivery.idempotencyKey,
        timestampSeconds,
        body,
      );
    }

    const attempt = attemptSignal(signal, this.attemptDeadlineMs);
    try {
      return await postForOutcome(this.url, {
        dispatcher: this.dispatcher,
        headers,
        body,
        signal: attempt.signal,
        maxResponseBodyBytes: this.egress.maxResponseBodyBytes,
        errorSnippetBytes: this.egress.errorSnippetBytes,
        maxRetryAfterMs: this.maxRetryAfterMs,
        clock: this.clock,
        startedAt,
      });
    } finally {
      attempt.dispose();
    }
  }

  /** Closes the connection pool (idempotent); waits for requests still running on it. */
  close(): Promise<void> {
    this.closing ??= this.dispatcher.close();
    return this.closing;
  }
}
