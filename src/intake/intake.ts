/**
 * The intake pipeline for one request, independent of HTTP framework:
 *
 *   find source → content type → verify raw bytes → parse → normalize → replay guard → route → enqueue
 *
 * Threat model: anyone on the internet can post to us. Nothing is parsed before the signature over
 * the exact raw bytes checks out (verify/), nothing is enqueued for a request that fails any step,
 * and the answer is 2xx only after the queue committed the event durably.
 */
import { createHash } from "node:crypto";
import type { Config, RateLimitConfig, SourceConfig, TenantConfig } from "../config/config.ts";
import { HttpError, retryAfterHeader } from "../domain/errors.ts";
import type { ZenEvent } from "../domain/event.ts";
import { bodyEventId, deliveryIdempotencyKey } from "../domain/idempotency.ts";
import { matchRoutes } from "../domain/route-match.ts";
import type { IntegrationRegistry } from "../integrations/registry.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Clock } from "../ports/clock.ts";
import type { KeyStore } from "../ports/key-store.ts";
import type { Queue } from "../ports/queue.ts";
import type { RateLimitStore } from "../ports/rate-limit-store.ts";
import type { TrailEntry, TrailStore } from "../ports/trail.ts";
import { keptHeaders } from "./kept-headers.ts";
import { normalizedFields } from "./normalize.ts";
import { mediaType, parseBody } from "./parse-body.ts";
import { extractField } from "./verify/extract-field.ts";
import { slackEventsHandshake } from "./verify/slack.ts";
import type { SourceProfile } from "./verify/spec.ts";
import type { Verified, Verifier } from "./verify/verifier.ts";
import { compileVerifier } from "./verify/verifier.ts";
import { zoomUrlValidationResponse } from "./verify/zoom.ts";

export interface IntakeRequest {
  readonly tenant: string;
  readonly source: string;
  /** Node's lower-cased headers; repeated headers arrive as arrays. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Exact bytes as received; undefined when the request had no body. */
  readonly rawBody: Buffer | undefined;
  /** Public URL of the request (scheme, host, path, query), for `{url}` and Twilio. */
  readonly url: string;
}

export type IntakeResult =
  | { readonly status: "accepted"; readonly eventId: string; readonly deliveries: number }
  | { readonly status: "duplicate"; readonly eventId: string }
  /** A provider handshake answered without enqueuing anything (Zoom URL validation, Slack url_verification). */
  | { readonly status: "handshake"; readonly body: Readonly<Record<string, string>> };

/** A request that passed every check up to the payload, for sources answered synchronously. */
export interface AuthenticatedRequest {
  readonly tenant: TenantConfig;
  readonly source: SourceConfig;
  /** The verified body, parsed by its media type (JSON, or form fields). */
  readonly data: unknown;
}

interface CompiledSource {
  readonly tenant: TenantConfig;
  readonly config: SourceConfig;
  readonly verifier: Verifier;
  /** Replays of id-less requests are refused for this long (≥ the timestamp tolerance). */
  readonly nonceTtlMs: number;
}

export interface IntakeDeps {
  readonly config: Config;
  readonly queue: Queue;
  readonly keys: KeyStore;
  readonly trail: TrailStore;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly integrations?: IntegrationRegistry;
  /** Intake buckets for sources/tenants with `rateLimit`/`intakeRateLimit`; absent: no intake limits. */
  readonly rateLimits?: RateLimitStore;
}

export class Intake {
  private readonly sources = new Map<string, CompiledSource>();
  private readonly deps: IntakeDeps;

  constructor(deps: IntakeDeps) {
    this.deps = deps;
    // Verifiers are compiled once: keys decoded, templates split, header names lower-cased.
    for (const tenant of deps.config.tenants.values()) {
      for (const source of tenant.sources.values()) {
        const scheme = source.profile.scheme;
        const toleranceSeconds = scheme.kind === "hmac" ? scheme.timestamp?.toleranceSeconds : undefined;
        this.sources.set(sourceKey(tenant.id, source.id), {
          tenant,
          config: source,
          verifier: socketModeOnly(source) ? refuseHttp : compileVerifier(source.profile, source.secrets),
          // Twice the window so a request stamped at the far future edge is still remembered when it
          // reaches the far past edge; without a timestamp, remember as long as event ids are deduped.
          nonceTtlMs:
            toleranceSeconds === undefined
              ? deps.config.intake.idempotencyTtlMs
              : toleranceSeconds * 2 * 1000,
        });
      }
    }
  }

  /** The source's accepted media types, for the HTTP layer's early 415 (undefined if unknown source). */
  source(tenant: string, source: string): CompiledSource | undefined {
    return this.sources.get(sourceKey(tenant, source));
  }

  /** Whether `tenant` is configured (so a bad source id can still be told apart from a bad tenant id). */
  knowsTenant(tenant: string): boolean {
    return this.deps.config.tenants.has(tenant);
  }

  /** Runs the pipeline; throws HttpError with a stable code for every refusal. */
  async accept(request: IntakeRequest): Promise<IntakeResult> {
    const source = this.lookup(request.tenant, request.source);
    return this.observe(source, () => this.run(source, request));
  }

  /**
   * The Socket Mode entry point (slack/socket-mode.ts): one `events_api` envelope's payload through
   * the same pipeline as `POST /slack/events` (handshakes, dedupe on `event_id`, routing, durable
   * enqueue), skipping only the HTTP signature check. There is no signature: the WebSocket was opened
   * with the tenant's app token, which authenticates everything it carries. Never call this with
   * anything that arrived over HTTP: no HTTP route reaches it.
   */
  async acceptFromSocketMode(tenantId: string, sourceId: string, payload: unknown): Promise<IntakeResult> {
    const source = this.lookup(tenantId, sourceId);
    const trusted: CompiledSource = { ...source, verifier: authenticatedConnection };
    const request: IntakeRequest = {
      tenant: tenantId,
      source: sourceId,
      headers: { "content-type": "application/json" },
      rawBody: Buffer.from(JSON.stringify(payload)),
      url: "socket-mode:",
    };
    return this.observe(trusted, () => this.run(trusted, request));
  }

  /**
   * For requests answered synchronously instead of enqueued (Slack slash commands and interactions):
   * content type, the signature over the raw bytes, parsing, and the replay guard (the same signed
   * request twice is refused with 409 `replayed`). Resolves only for a genuine, first-seen request.
   * @throws HttpError as `accept` does.
   */
  async authenticate(request: IntakeRequest): Promise<AuthenticatedRequest> {
    const source = this.lookup(request.tenant, request.source);
    return this.observe(source, async () => {
      const profile = source.config.profile;
      const type = admitContent(profile, request.headers);
      const rawBody = request.rawBody ?? Buffer.alloc(0);
      const nowMs = this.deps.clock.now();
      const verified = source.verifier.verify({ headers: request.headers, rawBody, url: request.url, nowMs });
      const data = parseBody(type, rawBody);
      if (verified.signature !== "") {
        const nonceKey = replayNonceKey(source, verified.signature);
        // Claimed atomically before anything acts on the request: two copies racing, one wins.
        if (!(await this.deps.keys.claim(nonceKey, source.nonceTtlMs))) {
          throw new HttpError("replayed", "this exact signed request was already received");
        }
      }
      return { status: "authenticated", request: { tenant: source.tenant, source: source.config, data } };
    }).then((outcome) => outcome.request);
  }

  /** Runs `work` for `source` with the intake's metrics, integration status and refusal log line. */
  private async observe<T extends { readonly status: string }>(
    source: CompiledSource,
    work: () => Promise<T>,
  ): Promise<T> {
    const { tenant, config } = source;
    const labels = { tenant: tenant.id, source: config.id };
    try {
      const result = await work();
      this.deps.metrics.intakeRequests.inc({ ...labels, outcome: result.status });
      this.deps.integrations?.recordIntake(tenant.id, config.id, true);
      return result;
    } catch (err) {
      const code = err instanceof HttpError ? err.code : "internal_error";
      this.deps.metrics.intakeRequests.inc({ ...labels, outcome: code });
      if (err instanceof HttpError && (err.status === 401 || err.code === "replayed")) {
        this.deps.metrics.verificationFailures.inc({ ...labels, reason: code });
      }
      this.deps.integrations?.recordIntake(tenant.id, config.id, false, code);
      this.deps.logger.info({ ...labels, code }, "intake refused");
      throw err;
    }
  }

  private lookup(tenantId: string, sourceId: string): CompiledSource {
    const source = this.sources.get(sourceKey(tenantId, sourceId));
    if (source) return source;
    if (!this.deps.config.tenants.has(tenantId)) {
      throw new HttpError("unknown_tenant", "no such tenant is configured");
    }
    throw new HttpError("unknown_source", "no such source is configured for this tenant");
  }

  /** Whether {@link admitRate} has a bucket to check for this source (lets callers skip the call). */
  limitsRate(tenantId: string, sourceId: string): boolean {
    if (!this.deps.rateLimits) return false;
    const source = this.sources.get(sourceKey(tenantId, sourceId));
    return source !== undefined && (!!source.config.intakeRateLimit || !!source.tenant.intakeRateLimit);
  }

  /**
   * The intake rate limit, asked before the body is read: a flooding source or tenant costs us one
   * bucket lookup per request, nothing more. Unknown tenants/sources pass here and get their 404 later.
   * @throws HttpError `rate_limited` (429) with `Retry-After` in whole seconds.
   */
  async admitRate(tenantId: string, sourceId: string): Promise<void> {
    const rateLimits = this.deps.rateLimits;
    const source = this.sources.get(sourceKey(tenantId, sourceId));
    if (!rateLimits || !source) return;
    const buckets: [string, RateLimitConfig | undefined][] = [
      [`intake:${tenantId}:${sourceId}`, source.config.intakeRateLimit],
      [`intake:${tenantId}`, source.tenant.intakeRateLimit],
    ];
    for (const [key, policy] of buckets) {
      if (!policy) continue;
      const taken = await rateLimits.take(key, policy);
      if (taken.granted) continue;
      const labels = { tenant: tenantId, source: sourceId };
      this.deps.metrics.intakeRequests.inc({ ...labels, outcome: "rate_limited" });
      // debug: under a flood this fires per request; the metric above is the signal to watch.
      this.deps.logger.debug(
        { ...labels, bucket: key, retryAfterMs: taken.retryAfterMs },
        "intake rate limited",
      );
      throw new HttpError(
        "rate_limited",
        "too many requests for this source; retry after the Retry-After delay",
        {
          headers: retryAfterHeader(taken.retryAfterMs),
        },
      );
    }
  }

  private async run(source: CompiledSource, request: IntakeRequest): Promise<IntakeResult> {
    const { tenant, config, verifier } = source;
    const profile = config.profile;

    const type = admitContent(profile, request.headers);
    const rawBody = request.rawBody ?? Buffer.alloc(0);
    const now = this.deps.clock.now();

    // The authoritative check: signature over the exact raw bytes, before anything is parsed.
    const verified = verifier.verify({ headers: request.headers, rawBody, url: request.url, nowMs: now });

    // The event's id and type headers decide dedupe and routing: a repeated one is ambiguous.
    for (const ref of [profile.eventId, profile.eventType]) {
      if (ref?.header !== undefined) single(request.headers[ref.header.toLowerCase()], ref.header);
    }
    const data = parseBody(type, rawBody);

    if (config.preset === "zoom") {
      const handshake = zoomUrlValidationResponse(data, config.secrets[0] ?? "");
      if (handshake) return { status: "handshake", body: handshake };
    }
    if (config.preset === "slack") {
      const handshake = slackEventsHandshake(data);
      if (handshake) return { status: "handshake", body: handshake };
    }

    const providerId = profile.eventId ? extractField(profile.eventId, request.headers, data) : undefined;
    const eventId = providerId ?? bodyEventId(rawBody);
    const eventType =
      (profile.eventType && extractField(profile.eventType, request.headers, data)) || "unknown";

    // Replay guard for requests that carry no id of their own: the same signature twice is a replay.
    // Requests with a provider id skip it: a legitimate redelivery must be answered "duplicate".
    let nonceKey: string | undefined;
    if (providerId === undefined && verified.signature !== "") {
      nonceKey = replayNonceKey(source, verified.signature);
      if ((await this.deps.keys.get(nonceKey)) !== undefined) {
        throw new HttpError("replayed", "this exact signed request was already received");
      }
    }

    const event: ZenEvent = {
      id: eventId,
      tenant: tenant.id,
      source: config.id,
      type: eventType,
      ...normalizedFields(config.preset, config.fields, request.headers, data),
      data,
      headers: keptHeaders(request.headers),
      receivedAt: new Date(now).toISOString(),
    };
    const match = matchRoutes(tenant, event);
    // One entry for the intake decision and its routing: each trail row is a write on the hot path.
    const trail: TrailEntry[] = [
      {
        tenant: tenant.id,
        eventId,
        at: now,
        stage: "received",
        detail: {
          source: config.id,
          type: eventType,
          routes: match.routes.map(String),
          destinations: match.destinations,
        },
      },
    ];
    const result = await this.deps.queue.enqueue({
      event,
      dedupeTtlMs: this.deps.config.intake.idempotencyTtlMs,
      deliveries: match.destinations.map((destination) => ({
        destination,
        idempotencyKey: deliveryIdempotencyKey(tenant.id, destination, eventId),
      })),
      trail,
    });
    if (nonceKey) await this.deps.keys.claim(nonceKey, source.nonceTtlMs);

    const logFields = { tenant: tenant.id, source: config.id, eventId, type: eventType };
    if (result.status === "duplicate") {
      await this.deps.trail.append([{ tenant: tenant.id, eventId, at: now, stage: "duplicate" }]);
      this.deps.logger.info(logFields, "intake duplicate");
      return { status: "duplicate", eventId };
    }
    for (const destination of match.destinations) {
      this.deps.metrics.enqueued.inc({ tenant: tenant.id, destination });
    }
    // debug, not info: at intake rates one info line per request costs ~25 µs of the event loop (as much
    // as the durable commit). Each acceptance is counted (zen_intake_requests_total{outcome="accepted"},
    // zen_enqueued_total) and recorded durably in the event trail (`zen trace`), which info would repeat.
    this.deps.logger.debug({ ...logFields, destinations: match.destinations }, "intake accepted");
    return { status: "accepted", eventId, deliveries: match.destinations.length };
  }
}

/**
 * The media type of a request the source accepts, checked before the body is looked at.
 * @throws HttpError `unsupported_content_type` (415) for another type or any content coding,
 *   `malformed_header` for a repeated Content-Type.
 */
function admitContent(profile: SourceProfile, headers: IntakeRequest["headers"]): string {
  const type = mediaType(single(headers["content-type"], "content-type"));
  if (!type || !profile.contentTypes.includes(type)) {
    throw new HttpError(
      "unsupported_content_type",
      `content type ${type ? quoteShort(type) : "(none)"} is not accepted; send ${profile.contentTypes.join(" or ")}`,
    );
  }
  const encoding = single(headers["content-encoding"], "content-encoding")?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "" && encoding !== "identity") {
    // We never decompress: the signature covers the bytes as sent, and a bomb would be inflated here.
    throw new HttpError(
      "unsupported_content_type",
      `content encoding ${quoteShort(encoding)} is not accepted; send the body uncompressed`,
    );
  }
  return type;
}

/**
 * A Slack source with no signing secret exists for Socket Mode only (config/compile-slack.ts): HTTP
 * requests for it are refused, since nothing could prove them genuine.
 */
function socketModeOnly(source: SourceConfig): boolean {
  return source.preset === "slack" && source.secrets.length === 0;
}

const refuseHttp: Verifier = {
  verify: () => {
    throw new HttpError(
      "signature_invalid",
      "this Slack app has no signing secret configured (Socket Mode only); HTTP requests cannot be verified",
    );
  },
};

/**
 * The "verifier" of the Socket Mode entry point: the WebSocket itself was authenticated with the app
 * token, so there is no per-request signature, and no nonce (`signature: ""`): envelopes are deduped
 * on `event_id` like every Slack event.
 */
const authenticatedConnection: Verifier = { verify: (): Verified => ({ signature: "" }) };

/** The replay-guard key of a signed request: the same signature twice is the same request. */
function replayNonceKey(source: CompiledSource, signature: string): string {
  return `nonce:${source.tenant.id}:${source.config.id}:${sha256(signature)}`;
}

function sourceKey(tenant: string, source: string): string {
  return `${tenant}\u0000${source}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Caller-supplied text for a message: quoted, and cut short so a huge header is not echoed back. */
function quoteShort(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** A header that must appear at most once. */
function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new HttpError("malformed_header", `header ${name} must appear once`);
  return value;
}
