/**
 * Slack destination (`type: slack`): one Block Kit message with a plain-text fallback per event, via
 * `chat.postMessage`; events that repeat an incident update, thread under or follow its first message.
 *
 *   render (templates `text` + `blocks`, from the event after redaction layer 1) → layer 2 on the
 *   message JSON → already posted by an earlier attempt? done
 *     ├─ onRepeat post, or no identity: post
 *     └─ under the incident's lock: first message remembered? ─┬─ no: post, remember it
 *                                                              ├─ update: chat.update it (gone: post anew)
 *                                                              └─ thread: reply under it
 *
 * Identity (`slackRepeatKey`): the event's own `fingerprint`, else its type + resource; an event with
 * neither is its own incident (a stream of `push` events must not collapse into one thread). It is
 * computed from the event as received and only its hash is stored.
 *
 * Idempotency: right after Slack accepts a post, the delivery's idempotency key is stored with the
 * message's `channel ts` (`slack-posted:`), so an attempt that runs again after that point (the worker
 * died before acking, a later step failed) finds it and posts nothing. Slack's `chat.postMessage` has
 * no idempotency key of its own: when Slack accepted a post but its answer never reached us (a timeout
 * after Slack committed), the retry posts again. That duplicate is the at-least-once cost we accept;
 * see docs/slack.md.
 *
 * Guards: the worker applies the delivery bucket and breaker (delivery/guards.ts) before `send`; this
 * class maps Slack's answers (slack-errors.ts) and nothing else waits or retries here.
 */
import { createHash } from "node:crypto";
import type { RouteConfig, SlackDestinationConfig } from "../../config/config.ts";
import { slackRetryPolicy } from "../../domain/backoff.ts";
import { PermanentError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import type { Clock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import type { CompiledRedactionPolicy } from "../../redaction/policy.ts";
import { AttemptRedaction, type RedactionObserver } from "../../redaction/redact-delivery.ts";
import { RedactionError } from "../../redaction/redaction-error.ts";
import { templateContext } from "../../templates/template-context.ts";
import type { CompiledTemplateSet } from "../../templates/template-set.ts";
import { TicketLocks } from "../../tickets/ticket-lock.ts";
import { attemptSignal } from "../attempt-signal.ts";
import type { ProviderDestinationDeps } from "../create-destination.ts";
import { deliveryRef } from "../delivery-ref.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destination.ts";
import { renderTemplatePart } from "../render-template.ts";
import { createTemplateChooser, type TemplateChooser } from "../route-templates.ts";
import type { PostedMessage, SlackApi, SlackBlock, SlackMessage } from "./slack-api.ts";
import { SlackClient, slackEgressPolicy, slackRequestTimeoutMs } from "./slack-client.ts";

/**
 * How long the first message of an incident is remembered (`firstMessageTtlMs`: repeats within a day
 * update or thread under it; after a quiet day the incident starts a fresh message, where a reply
 * would no longer be seen) and how long a posted delivery is remembered (`postedTtlMs`: longer than
 * any retry of it can come: attempts, Retry-After bounded by ZEN_MAX_RETRY_AFTER, breaker periods).
 */
export const slackRepeatPolicy = Object.freeze({
  firstMessageTtlMs: 24 * 60 * 60_000,
  postedTtlMs: 24 * 60 * 60_000,
});

/** What one delivery did in Slack. */
export type SlackAction =
  | { readonly kind: "posted"; readonly message: PostedMessage }
  | { readonly kind: "threaded"; readonly message: PostedMessage }
  | { readonly kind: "updated"; readonly message: PostedMessage }
  | { readonly kind: "already_posted"; readonly message: PostedMessage };

export interface SlackDestinationOptions {
  readonly config: SlackDestinationConfig;
  readonly api: SlackApi;
  /** Shared keys for the first-message and posted memos; undefined: no repeat handling across attempts. */
  readonly keys: KeyStore | undefined;
  readonly locks: TicketLocks;
  readonly clock: Clock;
  /** Hard deadline of one send (its Slack calls and lock waits), ms. */
  readonly attemptDeadlineMs: number;
  /** Both redaction layers' policy; undefined only when the config says `redact: false`. */
  readonly redaction: CompiledRedactionPolicy | undefined;
  readonly onRedactions?: RedactionObserver;
  /** The tenant's routes: one may give this destination its own `text`/`blocks` (route-templates.ts). */
  readonly routes?: readonly RouteConfig[];
}

/**
 * Builds the destination from its config (the entry `createDestination` calls).
 * @throws ConfigError for an unusable API URL.
 */
export function createSlackDestination(
  config: SlackDestinationConfig,
  deps: ProviderDestinationDeps,
): SlackDestination {
  // The destination's timeout may shorten the attempt, never lengthen it past the egress policy.
  const attemptDeadlineMs = Math.min(config.timeoutMs, slackEgressPolicy.attemptDeadlineMs);
  const api = new SlackClient({
    token: config.token,
    apiUrl: config.apiUrl,
    connectorFactory: deps.connectorFactory,
    maxRetryAfterMs: deps.maxRetryAfterMs,
    timeoutMs: Math.min(attemptDeadlineMs, slackRequestTimeoutMs),
    clock: deps.clock,
    ...(deps.dispatcherFactory && { dispatcherFactory: deps.dispatcherFactory }),
  });
  return new SlackDestination({
    config,
    api,
    keys: deps.keys,
    locks: new TicketLocks(deps.keys),
    clock: deps.clock,
    attemptDeadlineMs,
    redaction: deps.redaction,
    ...(deps.onRedactions && { onRedactions: deps.onRedactions }),
    ...(deps.routes && { routes: deps.routes }),
  });
}

/**
 * The incident identity of an event for repeat handling: sha256 over tenant, source and the event's
 * `fingerprint`, else its type and resource (apiVersion, kind, namespace, name); undefined when the
 * event has neither (each such event is its own message).
 */
export function slackRepeatKey(event: ZenEvent): string | undefined {
  let basis: string;
  if (event.fingerprint !== undefined && event.fingerprint !== "") {
    basis = `fingerprint=${event.fingerprint}`;
  } else if (event.resource !== undefined) {
    const r = event.resource;
    basis = ["type", event.type, r.apiVersion ?? "", r.kind, r.namespace ?? "", r.name].join("\u0000");
  } else {
    return undefined;
  }
  return createHash("sha256").update([event.tenant, event.source, basis].join("\u0000")).digest("hex");
}

export class SlackDestination implements Destination {
  readonly type = "slack";
  readonly id: string;
  readonly tenant: string;
  readonly retryPolicy = slackRetryPolicy;
  private readonly config: SlackDestinationConfig;
  private readonly api: SlackApi;
  private readonly keys: KeyStore | undefined;
  private readonly locks: TicketLocks;
  private readonly clock: Clock;
  private readonly attemptDeadlineMs: number;
  private readonly redaction: CompiledRedactionPolicy | undefined;
  private readonly onRedactions: RedactionObserver | undefined;
  private readonly templates: TemplateChooser<"slack">;

  constructor(options: SlackDestinationOptions) {
    this.config = options.config;
    this.id = options.config.id;
    this.tenant = options.config.tenant;
    this.api = options.api;
    this.keys = options.keys;
    this.locks = options.locks;
    this.clock = options.clock;
    this.attemptDeadlineMs = options.attemptDeadlineMs;
    this.redaction = options.redaction;
    this.onRedactions = options.onRedactions;
    this.templates = createTemplateChooser(options.config, options.routes);
  }

  /**
   * Posts, threads or updates (see the module header).
   * @throws RetryableError / RetryAfterError / PermanentError from the Slack client (slack-errors.ts),
   *   `DeferredError` (`lock_busy`, uncharged) when another worker holds the incident's lock,
   *   `redaction_failed` (nothing sent), `template_render_failed`.
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const startedAt = this.clock.now();
    const redaction = new AttemptRedaction(delivery.event, this.redaction, this.onRedactions);
    const attempt = attemptSignal(signal, this.attemptDeadlineMs);
    try {
      // The route is chosen on the event as received; templates render the redacted one.
      const templates = this.templates(delivery.event);
      const message = this.render(templates, redaction, deliveryRef(delivery.idempotencyKey));
      const action = await this.deliver(delivery, message, attempt.signal);
      return {
        statusCode: action.kind === "already_posted" ? 208 : 200,
        durationMs: this.clock.now() - startedAt,
      };
    } finally {
      attempt.dispose();
      redaction.report(this.tenant);
    }
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /**
   * `text` and `blocks` from the templates with the event after layer 1, then layer 2 over the
   * message as JSON: the SDK form-encodes exactly these values, so what leaves is what layer 2 saw.
   */
  private render(
    templates: CompiledTemplateSet<"slack">,
    redaction: AttemptRedaction,
    ref: string,
  ): SlackMessage {
    const context = templateContext(redaction.event, { ref });
    const text = renderTemplatePart(templates.text, context);
    const blocksJson = renderTemplatePart(templates.blocks, context);
    const json = redaction.body(`{"text":${JSON.stringify(text)},"blocks":${blocksJson}}`);
    let message: { text?: unknown; blocks?: unknown };
    try {
      message = JSON.parse(json) as { text?: unknown; blocks?: unknown };
    } catch {
      throw new RedactionError("the redacted Slack message is not JSON any more");
    }
    if (typeof message.text !== "string" || !Array.isArray(message.blocks)) {
      throw new PermanentError("template_render_failed", "slack: the message needs text and a blocks array");
    }
    return {
      text: message.text,
      ...(message.blocks.length > 0 && { blocks: message.blocks as SlackBlock[] }),
    };
  }

  private async deliver(
    delivery: DeliveryRequest,
    message: SlackMessage,
    signal: AbortSignal,
  ): Promise<SlackAction> {
    const scope = `${this.tenant}:${this.id}`;
    const postedKey = `slack-posted:${scope}:${delivery.idempotencyKey}`;
    const earlier = await this.recall(postedKey);
    if (earlier) return { kind: "already_posted", message: earlier };

    const identity = this.config.onRepeat === "post" ? undefined : slackRepeatKey(delivery.event);
    if (identity === undefined) {
      const posted = await this.post(message, undefined, signal);
      await this.remember(postedKey, posted, slackRepeatPolicy.postedTtlMs);
      return { kind: "posted", message: posted };
    }
    // The channel is part of the incident's key: after a channel change, repeats start afresh there.
    const incident = `${scope}:${this.config.channel}:${identity}`;
    return this.locks.withLock(`slack-lock:${incident}`, signal, async () => {
      const firstKey = `slack-first:${incident}`;
      const first = await this.recall(firstKey);
      const action = first
        ? await this.repeat(first, message, firstKey, signal)
        : await this.postFirst(message, firstKey, signal);
      await this.remember(postedKey, action.message, slackRepeatPolicy.postedTtlMs);
      return action;
    });
  }

  private async postFirst(
    message: SlackMessage,
    firstKey: string,
    signal: AbortSignal,
  ): Promise<SlackAction> {
    const posted = await this.post(message, undefined, signal);
    await this.remember(firstKey, posted, slackRepeatPolicy.firstMessageTtlMs);
    return { kind: "posted", message: posted };
  }

  private async repeat(
    first: PostedMessage,
    message: SlackMessage,
    firstKey: string,
    signal: AbortSignal,
  ): Promise<SlackAction> {
    if (this.config.onRepeat === "thread") {
      return { kind: "threaded", message: await this.post(message, first.ts, signal) };
    }
    try {
      const updated = await this.api.updateMessage(
        { channel: first.channel, ts: first.ts, ...message },
        signal,
      );
      return { kind: "updated", message: updated };
    } catch (err) {
      // Someone deleted the first message: this event starts the incident's message again.
      if (
        err instanceof PermanentError &&
        err.reason === "not_found" &&
        /message_not_found/.test(err.message)
      ) {
        return this.postFirst(message, firstKey, signal);
      }
      throw err;
    }
  }

  private post(
    message: SlackMessage,
    threadTs: string | undefined,
    signal: AbortSignal,
  ): Promise<PostedMessage> {
    return this.api.postMessage(
      { channel: this.config.channel, ...message, ...(threadTs !== undefined && { threadTs }) },
      signal,
    );
  }

  /** A remembered `channel ts`, if any. */
  private async recall(key: string): Promise<PostedMessage | undefined> {
    const value = await this.keys?.get(key);
    const [channel, ts] = (value ?? "").split(" ");
    return channel && ts ? { channel, ts } : undefined;
  }

  /** Best effort: the message is in Slack either way; failing now would only post it again. */
  private async remember(key: string, message: PostedMessage, ttlMs: number): Promise<void> {
    try {
      await this.keys?.set(key, `${message.channel} ${message.ts}`, ttlMs);
    } catch {
      // A failing store costs repeat handling for this incident, never a duplicate post.
    }
  }
}
