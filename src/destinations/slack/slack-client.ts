/**
 * The `SlackApi` port on `@slack/web-api`'s `WebClient` (reference: providers.md §1.5–§1.8).
 *
 * - Retries off (`retries: 0`) and `rejectRateLimitedCalls: true`: our queue owns retries, backoff and
 *   Retry-After; the SDK must neither retry nor sleep on a 429 (it would pause its whole queue).
 * - `slackApiUrl` is `SLACK_API_URL` (`providers.slack.apiUrl`), so tests point it at the fake.
 * - Every socket goes through the egress guard: the SDK's `fetch` is undici's `fetch` on an `Agent`
 *   built from the guarded connector, with the egress policy's connect/headers/body timeouts, plus a
 *   per-request `timeout` and the caller's abort signal. Answers are read up to
 *   `maxResponseBodyBytes`.
 * - Failures leave as typed delivery errors (slack-errors.ts) whose message starts `slack: <code>`;
 *   the token is only ever in the Authorization header the SDK sets.
 *
 * The per-call abort signal and the HTTP facts of the answer (status, Retry-After) travel through an
 * `AsyncLocalStorage`: `WebClient.apiCall` takes no signal and hides the status of a 429 it rejects
 * for lack of a Retry-After. The SDK starts a request synchronously inside `apiCall` as long as its
 * request queue has room, so the context is the caller's; the queue is sized so it always has room.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCode, type WebAPICallResult, WebClient } from "@slack/web-api";
import { type Dispatcher, request, Response as UndiciResponse, fetch as undiciFetch } from "undici";
import {
  classifyHttpStatus,
  classifyNetworkError,
  type DeliveryFailure,
  isDeliveryFailure,
} from "../../domain/classify.ts";
import { ConfigError, PermanentError, RetryableError } from "../../domain/errors.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import { zenUserAgent } from "../user-agent.ts";
import {
  agentOptions,
  type ConnectorFactory,
  type DispatcherFactory,
  defaultDispatcherFactory,
  type WebhookEgressPolicy,
  webhookEgressPolicy,
} from "../webhook/egress-policy.ts";
import { readCappedBody } from "../webhook/read-capped-body.ts";
import type {
  PostedMessage,
  PostMessageArgs,
  ResponseMessage,
  SlackApi,
  SlackUser,
  UpdateMessageArgs,
} from "./slack-api.ts";
import { slackFailure, slackTransportFailure } from "./slack-errors.ts";

/**
 * The webhook egress limits (10 s connect, 10 s to headers, 30 s per attempt, …), except that Slack's
 * answers are read: up to 1 MiB (a `chat.postMessage` answer echoes the message, at most 50 blocks of
 * a few KiB), error snippets up to 1 KiB.
 */
export const slackEgressPolicy: WebhookEgressPolicy = Object.freeze({
  ...webhookEgressPolicy,
  maxResponseBodyBytes: 1024 * 1024,
});

/** Default per-request timeout of one Web API call: 10 s (Slack answers in well under a second). */
export const slackRequestTimeoutMs = 10_000;

/** The only host a real `response_url` points at (Slack interactivity and slash commands). */
export const slackHooksHost = "hooks.slack.com";

export interface SlackClientOptions {
  /** Bot token (`xoxb-…`). Only ever sent as `Authorization: Bearer`. */
  readonly token: string;
  /** Web API base ending in `/` (`providers.slack.apiUrl`, default `https://slack.com/api/`). */
  readonly apiUrl: string;
  /** The egress-guarded connector (`createEgressGuard`); there is no unguarded default on purpose. */
  readonly connectorFactory: ConnectorFactory;
  /** Upper bound on a Retry-After Slack asks for (`Config.queue.maxRetryAfterMs`). */
  readonly maxRetryAfterMs: number;
  /** Per-request timeout (ms); default {@link slackRequestTimeoutMs}. */
  readonly timeoutMs?: number;
  /** Default: the system clock (HTTP-date Retry-After). */
  readonly clock?: Clock;
  /** Default: `new Agent(options)`. */
  readonly dispatcherFactory?: DispatcherFactory;
  /** Overrides of `slackEgressPolicy` (tests shorten timeouts). */
  readonly egress?: Partial<WebhookEgressPolicy>;
  /** Default `zen-integrations/<version>` (sent on `response_url` posts; the SDK sets its own). */
  readonly userAgent?: string;
}

/** What one call learns about its HTTP answer, and the caller's signal. */
interface CallContext {
  readonly signal: AbortSignal | undefined;
  status?: number;
  retryAfter?: string;
}

/** SDK logger that drops everything: the worker logs each outcome once, with our fields. */
const quietSdkLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => "error" as never,
  setName() {},
};

/**
 * The SDK's request queue never holds a request back (so the call context stays the caller's);
 * concurrency is bounded upstream by the worker's `ZEN_CONCURRENCY` and the Agent's connections.
 */
const unboundedSdkConcurrency = Number.MAX_SAFE_INTEGER;

export class SlackClient implements SlackApi {
  /** The Web API base, ending in `/`. */
  readonly apiUrl: string;
  private readonly apiOrigin: string;
  private readonly token: string;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly policy: WebhookEgressPolicy;
  private readonly dispatcher: Dispatcher;
  private readonly userAgent: string;
  private readonly web: WebClient;
  private readonly calls = new AsyncLocalStorage<CallContext>();
  private closing: Promise<void> | undefined;

  /** @throws ConfigError when the API URL is not http(s). */
  constructor(options: SlackClientOptions) {
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new ConfigError(["providers.slack.apiUrl: not a valid URL (SLACK_API_URL)"]);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new ConfigError([`providers.slack.apiUrl: must be http(s), got ${url.protocol}`]);
    }
    this.apiUrl = url.href.endsWith("/") ? url.href : `${url.href}/`;
    this.apiOrigin = url.origin;
    this.token = options.token;
    this.maxRetryAfterMs = options.maxRetryAfterMs;
    this.clock = options.clock ?? systemClock;
    this.userAgent = options.userAgent ?? zenUserAgent;
    this.policy = Object.freeze({ ...slackEgressPolicy, ...options.egress });
    const dispatcherFactory = options.dispatcherFactory ?? defaultDispatcherFactory;
    this.dispatcher = dispatcherFactory(agentOptions(this.policy, options.connectorFactory));
    this.web = new WebClient(options.token, {
      slackApiUrl: this.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? slackRequestTimeoutMs,
      maxRequestConcurrency: unboundedSdkConcurrency,
      logger: quietSdkLogger,
      // Method names only: never let a method string turn into an absolute URL elsewhere.
      allowAbsoluteUrls: false,
      fetch: (input, init) => this.guardedFetch(input, init),
    });
  }

  async postMessage(args: PostMessageArgs, signal?: AbortSignal): Promise<PostedMessage> {
    const result = await this.call(
      "chat.postMessage",
      {
        channel: args.channel,
        text: args.text,
        ...(args.blocks && { blocks: args.blocks }),
        ...(args.threadTs !== undefined && { thread_ts: args.threadTs }),
      },
      signal,
    );
    return posted(result, "chat.postMessage", args.channel);
  }

  async updateMessage(args: UpdateMessageArgs, signal?: AbortSignal): Promise<PostedMessage> {
    const result = await this.call(
      "chat.update",
      { channel: args.channel, ts: args.ts, text: args.text, ...(args.blocks && { blocks: args.blocks }) },
      signal,
    );
    return posted(result, "chat.update", args.channel);
  }

  async userInfo(userId: string, signal?: AbortSignal): Promise<SlackUser> {
    const result = await this.call("users.info", { user: userId }, signal);
    const user = (result as { user?: { id?: unknown; name?: unknown; profile?: { email?: unknown } } }).user;
    if (typeof user?.id !== "string")
      throw new RetryableError("unknown", "slack: users.info answered without a user");
    return {
      id: user.id,
      ...(typeof user.profile?.email === "string" && { email: user.profile.email }),
      ...(typeof user.name === "string" && { name: user.name }),
    };
  }

  async userGroupMembers(groupId: string, signal?: AbortSignal): Promise<readonly string[]> {
    const result = await this.call("usergroups.users.list", { usergroup: groupId }, signal);
    const users = (result as { users?: unknown }).users;
    if (!Array.isArray(users)) {
      throw new RetryableError("unknown", "slack: usergroups.users.list answered without users");
    }
    return users.filter((u): u is string => typeof u === "string");
  }

  async authTest(signal?: AbortSignal): Promise<{ readonly teamId: string; readonly userId: string }> {
    const result = (await this.call("auth.test", {}, signal)) as { team_id?: unknown; user_id?: unknown };
    if (typeof result.team_id !== "string" || typeof result.user_id !== "string") {
      throw new RetryableError("unknown", "slack: auth.test answered without team_id/user_id");
    }
    return { teamId: result.team_id, userId: result.user_id };
  }

  /**
   * POSTs `message` as JSON to a `response_url`, through the same guarded dispatcher.
   *
   * Only `https://hooks.slack.com/…` and URLs on the configured API base's origin (a test server) are
   * accepted: a `response_url` arrives in a request body, so without this check anyone who can get a
   * payload to us could make the service POST to a URL of their choosing (the egress guard still
   * stops private addresses, but not arbitrary public ones).
   * @throws PermanentError `validation_failed` for any other URL (nothing is sent); the Slack
   *   failures of slack-errors.ts (`expired_url` / `used_url` → `not_found`).
   */
  async respond(responseUrl: string, message: ResponseMessage, signal?: AbortSignal): Promise<void> {
    const url = this.checkResponseUrl(responseUrl);
    const body = JSON.stringify({
      text: message.text,
      ...(message.blocks && { blocks: message.blocks }),
      ...(message.responseType && { response_type: message.responseType }),
      ...(message.replaceOriginal !== undefined && { replace_original: message.replaceOriginal }),
    });
    const deadline = AbortSignal.timeout(this.policy.attemptDeadlineMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: this.dispatcher,
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", "user-agent": this.userAgent },
        body,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
    } catch (err) {
      throw slackTransportFailure("response_url", transportFailure(err));
    }
    const read = await readCappedBody(
      response.body,
      this.policy.errorSnippetBytes,
      this.policy.errorSnippetBytes,
    ).catch(() => ({ snippet: "", truncated: false }));
    if (response.statusCode >= 200 && response.statusCode <= 299) return;
    throw this.responseUrlFailure(response, read.snippet.trim());
  }

  /** Closes the connection pool (idempotent). */
  close(): Promise<void> {
    this.closing ??= this.dispatcher.close();
    return this.closing;
  }

  /** One Web API call; failures mapped (slack-errors.ts). */
  private async call(method: string, args: Record<string, unknown>, signal: AbortSignal | undefined) {
    const context: CallContext = { signal };
    try {
      return await this.calls.run(context, () => this.web.apiCall(method, args));
    } catch (err) {
      throw this.failure(method, err, context);
    }
  }

  private failure(method: string, err: unknown, context: CallContext): DeliveryFailure {
    if (isDeliveryFailure(err)) return err;
    const facts = {
      method,
      nowMs: this.clock.now(),
      maxRetryAfterMs: this.maxRetryAfterMs,
      secrets: [this.token],
      ...(context.status !== undefined && { status: context.status }),
      ...(context.retryAfter !== undefined && { retryAfter: context.retryAfter }),
    };
    const code = (err as { code?: unknown }).code;
    switch (code) {
      case ErrorCode.PlatformError: {
        const data = (err as { data?: { error?: unknown; needed?: unknown } }).data;
        return slackFailure({
          ...facts,
          code: typeof data?.error === "string" ? data.error : "unknown_error",
          ...(typeof data?.needed === "string" && { needed: data.needed }),
        });
      }
      case ErrorCode.RateLimitedError:
        return slackFailure({ ...facts, status: 429 });
      case ErrorCode.HTTPError: {
        const e = err as { statusCode: number; headers?: Record<string, string>; body?: unknown };
        return slackFailure({
          ...facts,
          status: e.statusCode,
          ...(e.headers?.["retry-after"] !== undefined && { retryAfter: e.headers["retry-after"] }),
          ...(slackErrorCode(e.body) !== undefined && { code: slackErrorCode(e.body) }),
        });
      }
      case ErrorCode.RequestError:
        return slackTransportFailure(
          method,
          transportFailure((err as { original?: unknown }).original ?? err),
        );
      default:
        // A 429 without a usable Retry-After: the SDK gives up with a plain Error; we saw the status.
        if (context.status === 429) return slackFailure({ ...facts, status: 429 });
        return slackTransportFailure(method, transportFailure(err));
    }
  }

  /** The SDK's `fetch`: undici on the guarded dispatcher, the caller's signal, a capped answer. */
  private async guardedFetch(
    input: string | URL | Request,
    init: RequestInit | undefined,
  ): Promise<Response> {
    const context = this.calls.getStore();
    const signals = [init?.signal, context?.signal].filter((s): s is AbortSignal => s != null);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const response = await undiciFetch(input as string, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      ...(signal && { signal }),
      dispatcher: this.dispatcher,
    });
    if (context) {
      context.status = response.status;
      const retryAfter = response.headers.get("retry-after");
      if (retryAfter !== null) context.retryAfter = retryAfter;
    }
    return capped(response, this.policy.maxResponseBodyBytes) as unknown as Response;
  }

  private checkResponseUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new PermanentError("validation_failed", "slack: response_url is not a URL (nothing sent)");
    }
    const slackHook = url.protocol === "https:" && url.hostname === slackHooksHost && url.port === "";
    const testBase = url.origin === this.apiOrigin;
    if ((!slackHook && !testBase) || url.username !== "" || url.password !== "") {
      throw new PermanentError(
        "validation_failed",
        `slack: refused a response_url outside https://${slackHooksHost}/ (nothing sent)`,
      );
    }
    return url;
  }

  private responseUrlFailure(response: Dispatcher.ResponseData, snippet: string): DeliveryFailure {
    const headers = response.headers;
    const retryAfter = typeof headers["retry-after"] === "string" ? headers["retry-after"] : undefined;
    // Slack answers a spent or expired response_url with a short text code (`used_url`, `expired_url`).
    if (/^[a-z_]{1,40}$/.test(snippet) && response.statusCode < 500 && response.statusCode !== 429) {
      const known = slackFailure({
        method: "response_url",
        code: snippet,
        status: response.statusCode,
        nowMs: this.clock.now(),
        maxRetryAfterMs: this.maxRetryAfterMs,
      });
      if (known.reason !== "unknown") return known;
    }
    if (response.statusCode === 429 || response.statusCode >= 500) {
      return slackFailure({
        method: "response_url",
        status: response.statusCode,
        ...(retryAfter !== undefined && { retryAfter }),
        nowMs: this.clock.now(),
        maxRetryAfterMs: this.maxRetryAfterMs,
      });
    }
    const classified = classifyHttpStatus(
      response.statusCode,
      headers,
      this.clock.now(),
      this.maxRetryAfterMs,
    );
    if (classified.kind === "delivered")
      return new RetryableError("unknown", "slack: response_url: unexpected");
    return slackTransportFailure("response_url", classified.error);
  }
}

/**
 * A transport error as a delivery failure. `fetch` wraps connector errors in `TypeError: fetch
 * failed` (cause: the real error), so a typed failure raised below it (the egress guard's
 * `egress_denied`, our answer-size cap) is looked for in the cause chain first.
 */
function transportFailure(err: unknown): DeliveryFailure {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if (isDeliveryFailure(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return classifyNetworkError(err);
}

/** `{ok:false,error}` from a non-200 body (text or JSON), if any. */
function slackErrorCode(body: unknown): string | undefined {
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed?.error === "string" ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

function posted(result: WebAPICallResult, method: string, channel: string): PostedMessage {
  const ts = (result as { ts?: unknown }).ts;
  const answered = (result as { channel?: unknown }).channel;
  if (typeof ts !== "string" || ts === "") {
    throw new RetryableError("unknown", `slack: ${method} answered ok without a ts`);
  }
  return { channel: typeof answered === "string" && answered !== "" ? answered : channel, ts };
}

/** `response` with its body cut off (an error) past `maxBytes`: a hostile server cannot fill memory. */
function capped(response: UndiciResponse, maxBytes: number): UndiciResponse {
  if (response.body === null) return response;
  let seen = 0;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          controller.error(new RetryableError("unknown", `slack: answer larger than ${maxBytes} bytes`));
        } else {
          controller.enqueue(chunk);
        }
      },
    }),
  );
  return new UndiciResponse(limited, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
