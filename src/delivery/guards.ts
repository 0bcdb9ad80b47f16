/**
 * Delivery guards: what stands between a leased job and its send.
 *
 *   breaker (per destination) ─► token bucket (per tenant:provider) ─► send
 *
 * A guard that says "not now" delays the job: it is rescheduled for when the guard will say yes,
 * without charging a retry attempt and without counting as a failure. The breaker is asked first so
 * an open breaker does not burn tokens; a probe admitted by the breaker but refused by the bucket
 * gives its probe slot back.
 *
 * Bucket keys ("providers"): a destination with its own `rateLimit` gets its own bucket
 * (`delivery:<tenant>:dest:<id>`); otherwise all destinations of one type in a tenant share one
 * (`delivery:<tenant>:<type>`, e.g. every Slack channel of a workspace shares Slack's limit) — except
 * webhooks, whose "provider" is each URL's owner, so each webhook destination has its own bucket.
 */
import type { Config, RateLimitConfig } from "../config/config.ts";
import type { Destination } from "../destinations/destination.ts";
import { type BreakerKind, defaultBreakerPolicy } from "../domain/circuit-breaker.ts";
import type { BucketPolicy } from "../domain/token-bucket.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { RateLimitStore } from "../ports/rate-limit-store.ts";
import {
  type BreakerKey,
  type BreakerOutcome,
  type BreakerPass,
  type BreakerSnapshot,
  breakerKey,
  CircuitBreakers,
} from "./circuit-breakers.ts";

export type GuardReason = "circuit_open" | "rate_limited";

/** Why a job was put back without being charged an attempt: a guard, or a `DeferredError`. */
export type DelayReason = GuardReason | "lock_busy";

/** Bucket keys whose queue position is remembered before stale ones are swept. */
const maxTrackedBuckets = 10_000;

export type GuardVerdict =
  | { readonly kind: "proceed"; readonly pass: BreakerPass }
  | { readonly kind: "delay"; readonly reason: GuardReason; readonly delayMs: number };

export interface BucketChoice {
  readonly key: string;
  readonly policy: BucketPolicy;
}

/** Which bucket a delivery to `destination` draws from (see the header for the keys). */
export function deliveryBucket(config: Config, tenantId: string, destination: Destination): BucketChoice {
  const tenant = config.tenants.get(tenantId);
  const own: RateLimitConfig | undefined = tenant?.destinations.get(destination.id)?.rateLimit;
  if (own) return { key: `delivery:${tenantId}:dest:${destination.id}`, policy: own };
  if (destination.type === "webhook") {
    const policy = tenant?.rateLimit ?? config.guards.rateLimit;
    return { key: `delivery:${tenantId}:dest:${destination.id}`, policy };
  }
  return providerBucket(config, tenantId, destination.type);
}

/**
 * The tenant's shared bucket for a provider (`delivery:<tenant>:<type>`, the tenant's `rateLimit` or
 * the default): every destination of that type without its own limit, and the ticket APIs, draw
 * from it, so together they stay under the provider's limit.
 */
export function providerBucket(config: Config, tenantId: string, type: string): BucketChoice {
  const policy = config.tenants.get(tenantId)?.rateLimit ?? config.guards.rateLimit;
  return { key: `delivery:${tenantId}:${type}`, policy };
}

export class DeliveryGuards {
  private readonly breakers: CircuitBreakers;
  private readonly rateLimits: RateLimitStore;
  private readonly bucketFor: (tenant: string, destination: Destination) => BucketChoice;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** Per bucket key: when the last refused job was told to come back (ms since epoch). */
  private readonly waitingUntil = new Map<string, number>();

  constructor(options: {
    breakers: CircuitBreakers;
    rateLimits: RateLimitStore;
    bucketFor: (tenant: string, destination: Destination) => BucketChoice;
    clock?: Clock;
    random?: () => number;
  }) {
    this.breakers = options.breakers;
    this.rateLimits = options.rateLimits;
    this.bucketFor = options.bucketFor;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  async admit(tenant: string, destination: Destination): Promise<GuardVerdict> {
    const decision = this.breakers.admit(breakerKey(tenant, destination.id));
    if (!decision.allowed) {
      // Spread the backlog over a quarter of the wait, so it does not return all at the same instant.
      const jitterMs = Math.floor(this.random() * decision.retryAfterMs * 0.25);
      return { kind: "delay", reason: "circuit_open", delayMs: decision.retryAfterMs + jitterMs };
    }
    let taken: Awaited<ReturnType<RateLimitStore["take"]>>;
    let bucket: BucketChoice;
    try {
      bucket = this.bucketFor(tenant, destination);
      taken = await this.rateLimits.take(bucket.key, bucket.policy);
    } catch (err) {
      this.breakers.release(decision.pass);
      throw err;
    }
    if (!taken.granted) {
      this.breakers.release(decision.pass);
      return { kind: "delay", reason: "rate_limited", delayMs: this.nextSlot(bucket, taken.retryAfterMs) };
    }
    return { kind: "proceed", pass: decision.pass };
  }

  /**
   * Refused jobs queue up behind each other: each gets the next free refill slot instead of all
   * coming back when the first token exists (which would make a backlog of n cost n² retries).
   */
  private nextSlot(bucket: BucketChoice, retryAfterMs: number): number {
    const now = this.clock.now();
    const intervalMs = 1000 / bucket.policy.refillPerSecond;
    const previous = this.waitingUntil.get(bucket.key) ?? 0;
    const slot = Math.max(now + retryAfterMs, previous + intervalMs);
    this.waitingUntil.set(bucket.key, slot);
    if (this.waitingUntil.size > maxTrackedBuckets) this.forgetPast(now);
    return Math.ceil(slot - now);
  }

  private forgetPast(now: number): void {
    for (const [key, until] of this.waitingUntil) if (until <= now) this.waitingUntil.delete(key);
  }

  /** The admitted delivery ran: tell the breaker how it went. */
  settle(pass: BreakerPass, outcome: BreakerOutcome): void {
    this.breakers.record(pass, outcome);
  }

  /**
   * The admitted delivery did not get an answer from the provider (shutdown, or we refused it
   * ourselves: egress, redaction): give the probe slot back — it proves nothing about the provider.
   */
  release(pass: BreakerPass): void {
    this.breakers.release(pass);
  }
}

/** Breaker rows for every configured destination (closed until first used). */
export function breakerSnapshot(config: Config, breakers: CircuitBreakers): BreakerSnapshot[] {
  const keys: BreakerKey[] = [];
  for (const tenant of config.tenants.values()) {
    for (const id of tenant.destinations.keys()) keys.push(breakerKey(tenant.id, id));
  }
  return breakers.snapshot(keys);
}

/** `zen_circuit_state` values. */
const circuitStateValue: Readonly<Record<BreakerKind, number>> = { closed: 0, half_open: 1, open: 2 };

/**
 * The breakers of every destination, from config, with each transition made observable: one log
 * line (warn when opening) and the `zen_circuit_state` / `zen_circuit_transitions_total` metrics.
 */
export function createCircuitBreakers(
  config: Config,
  deps: {
    clock: Clock;
    logger: Logger;
    metrics: Metrics;
    /** Told about every transition after it is logged (e.g. the integrations registry). */
    onTransition?: (tenant: string, destination: string, to: BreakerKind) => void;
  },
): CircuitBreakers {
  for (const tenant of config.tenants.values()) {
    for (const destination of tenant.destinations.values()) {
      deps.metrics.circuitState.set(
        { tenant: tenant.id, destination: destination.id },
        circuitStateValue.closed,
      );
    }
  }
  return new CircuitBreakers({
    policy: { ...defaultBreakerPolicy, ...config.guards.circuitBreaker },
    clock: deps.clock,
    onTransition: (key, from, to) => {
      const slash = key.indexOf("/");
      const labels = { tenant: key.slice(0, slash), destination: key.slice(slash + 1) };
      deps.metrics.circuitState.set(labels, circuitStateValue[to.kind]);
      deps.metrics.circuitTransitions.inc({ ...labels, from: from.kind, to: to.kind });
      const fields = { ...labels, from: from.kind, to: to.kind };
      if (to.kind === "open") deps.logger.warn(fields, "circuit breaker opened: deliveries paused");
      else deps.logger.info(fields, "circuit breaker state changed");
      deps.onTransition?.(labels.tenant, labels.destination, to.kind);
    },
  });
}
