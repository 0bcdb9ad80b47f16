/**
 * What the synchronous ticket APIs (`POST /jira/issue`, `/servicenow/ticket…`) share: the bearer
 * check, the JSON body, and one guarded call path per provider. A call on a tenant's connection goes
 * the way deliveries go: egress guard on the socket, a token from the tenant's provider bucket
 * (`delivery:<tenant>:<provider>`, shared with that provider's destinations, so the API cannot push the
 * provider past the limit deliveries respect), the `<tenant>/<provider>-api` circuit breaker, and a
 * deadline. Clients are built per tenant on first use and closed with the app.
 */
import type { FastifyRequest } from "fastify";
import type { Config, TenantConfig } from "../config/config.ts";
import { breakerKey, type CircuitBreakers } from "../delivery/circuit-breakers.ts";
import { providerBucket } from "../delivery/guards.ts";
import { attemptSignal } from "../destinations/attempt-signal.ts";
import { createEgressGuard } from "../destinations/egress/egress-guard.ts";
import type { ConnectorFactory } from "../destinations/webhook/egress-policy.ts";
import { HttpError, retryAfterHeader } from "../domain/errors.ts";
import { bearerChecker } from "../http/bearer-auth.ts";
import type { Clock } from "../ports/clock.ts";
import type { KeyStore } from "../ports/key-store.ts";
import type { RateLimitStore } from "../ports/rate-limit-store.ts";
import { throughBreaker } from "./api-breaker.ts";

/** What every ticket API's routes get. */
export interface TicketRoutesOptions {
  /** Tokens, tenants (connections, rate limits), egress allowances, `queue.maxRetryAfterMs`. */
  readonly config: Config;
  /** `Idempotency-Key` answers. */
  readonly keys: KeyStore;
  /** The delivery buckets; absent: no rate limit on the API. */
  readonly rateLimits?: RateLimitStore;
  /** Breakers; the API uses `<tenant>/<provider>-api`. Absent: no breaker. */
  readonly breakers?: CircuitBreakers;
  readonly clock: Clock;
  /** The connector the egress guard wraps (tests); default undici's. */
  readonly connectorFactory?: ConnectorFactory;
}

/** Tenant used when a request names none. */
export const defaultTicketTenant = "default";

/**
 * The bearer check of the ticket APIs: `ZEN_API_TOKEN`, or `ZEN_ADMIN_TOKEN`. Undefined when neither
 * is set: the API is off and answers {@link ticketApiOff}.
 */
export function ticketApiAuthorizer(config: Config): ((header: string | undefined) => void) | undefined {
  const tokens = [config.apiToken, config.adminToken].filter((t): t is string => t !== undefined && t !== "");
  return tokens.length === 0 ? undefined : bearerChecker(tokens);
}

/** The answer of every ticket API route while no token is configured: as if it did not exist. */
export function ticketApiOff(): never {
  throw new HttpError(
    "not_found",
    "the ticket API is off: set ZEN_API_TOKEN (or ZEN_ADMIN_TOKEN) to enable it",
  );
}

/**
 * The request's JSON object body and its text (for `Idempotency-Key` comparisons).
 * @throws HttpError 415 (not JSON), 400 `malformed_body` (not parseable, or not an object).
 */
export function jsonObjectBody(request: FastifyRequest): { object: Record<string, unknown>; text: string } {
  const type = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError("unsupported_content_type", "send the body as application/json");
  }
  const text = Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError("malformed_body", "the body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new HttpError("malformed_body", "the body must be a JSON object");
  }
  return { object: parsed as Record<string, unknown>, text };
}

/** The one `Idempotency-Key` header of a request, if any. @throws HttpError 400 when sent twice. */
export function idempotencyKeyHeader(request: FastifyRequest): string | undefined {
  const key = request.headers["idempotency-key"];
  if (Array.isArray(key)) throw new HttpError("invalid_request", "send one Idempotency-Key header");
  return key;
}

type Provider = "jira" | "servicenow";

export interface ProviderApiOptions<Connection, Client> {
  readonly config: Config;
  readonly provider: Provider;
  /** Name in messages: `Jira`, `ServiceNow`. */
  readonly displayName: string;
  /** Where a tenant's connection comes from, for the "no connection" answer. */
  readonly connectionHint: string;
  readonly connectionOf: (tenant: TenantConfig) => Connection | undefined;
  readonly createClient: (connection: Connection, connectorFactory: ConnectorFactory) => Client;
  /** How long one call may take, retries of the client included. */
  readonly deadlineMs: number;
  /** Absent: no rate limit on the API. */
  readonly rateLimits?: RateLimitStore;
  /** Absent: no breaker. */
  readonly breakers?: CircuitBreakers;
  /** The connector the egress guard wraps (tests); default undici's. */
  readonly connectorFactory?: ConnectorFactory;
}

/** Never aborted: a call the HTTP caller gave up on still completes (its answer may be kept for a retry). */
const neverAborted = new AbortController().signal;

export class ProviderApi<Connection, Client extends { close(): Promise<void> }> {
  private readonly clients = new Map<string, Client>();
  private readonly connector: ConnectorFactory;
  private readonly options: ProviderApiOptions<Connection, Client>;

  constructor(options: ProviderApiOptions<Connection, Client>) {
    this.options = options;
    this.connector = createEgressGuard({
      allowPrivate: options.config.egress.allowPrivate,
      allowCidrs: options.config.egress.allowCidrs,
      connectorFactory: options.connectorFactory,
    });
  }

  /** The tenant's client, built on first use. @throws HttpError 404 for an unknown or unconnected tenant. */
  client(tenantId: string): Client {
    const tenant = this.options.config.tenants.get(tenantId);
    if (!tenant) throw new HttpError("unknown_tenant", `unknown tenant ${tenantId}`);
    const connection = this.options.connectionOf(tenant);
    if (!connection) {
      throw new HttpError(
        "not_found",
        `tenant ${tenantId} has no ${this.options.displayName} connection (${this.options.connectionHint})`,
      );
    }
    let client = this.clients.get(tenantId);
    if (!client) {
      client = this.options.createClient(connection, this.connector);
      this.clients.set(tenantId, client);
    }
    return client;
  }

  /**
   * Runs one provider call for the tenant: rate limit, breaker, deadline; failures through `mapError`.
   * @throws HttpError 404 (no connection), 429 `rate_limited`, 503 (breaker open), or `mapError`'s answer.
   */
  async call<T>(
    tenantId: string,
    fn: (client: Client, signal: AbortSignal) => Promise<T>,
    mapError: (err: unknown) => unknown,
  ): Promise<T> {
    const client = this.client(tenantId);
    await this.admit(tenantId);
    const attempt = attemptSignal(neverAborted, this.options.deadlineMs);
    try {
      return await throughBreaker(
        this.options.breakers,
        breakerKey(tenantId, `${this.options.provider}-api`),
        this.options.displayName,
        () => fn(client, attempt.signal),
      );
    } catch (err) {
      throw mapError(err);
    } finally {
      attempt.dispose();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  /** The API's share of the tenant's provider budget. @throws HttpError 429 `rate_limited`. */
  private async admit(tenantId: string): Promise<void> {
    const { rateLimits, config, provider, displayName } = this.options;
    if (!rateLimits) return;
    const bucket = providerBucket(config, tenantId, provider);
    const taken = await rateLimits.take(bucket.key, bucket.policy);
    if (!taken.granted) {
      throw new HttpError(
        "rate_limited",
        `tenant ${tenantId} is over its ${displayName} rate limit; retry later`,
        { headers: retryAfterHeader(taken.retryAfterMs) },
      );
    }
  }
}
