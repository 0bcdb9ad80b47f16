/**
 * Integrations: every configured source and destination as a running instance with the seed's
 * lifecycle and counters, so `GET /admin/integrations` and `/ready` can say what is healthy.
 *
 *   pending ──start()──► active ⇄ inactive        (inactive: the destination's circuit breaker is open)
 *                          │  ▲
 *         N failures in a row ▼  │ a success
 *                         error
 */
import type { Config } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { Clock } from "../ports/clock.ts";

export type IntegrationStatus = "pending" | "active" | "inactive" | "error";
export type IntegrationKind = "source" | "destination";

/** Consecutive failed deliveries (or refused intakes) that turn an integration to `error`. */
export const errorAfterConsecutiveFailures = 5;

export interface IntegrationView {
  readonly kind: IntegrationKind;
  readonly tenant: string;
  readonly id: string;
  readonly type: string;
  readonly status: IntegrationStatus;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly counters: {
    readonly received?: number;
    readonly processed?: number;
    readonly sent?: number;
    readonly failed?: number;
    readonly averageResponseMs?: number;
    readonly errorRate: number;
    readonly uptimeSeconds: number;
  };
}

class Integration {
  status: IntegrationStatus = "pending";
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  consecutiveFailures = 0;
  successes = 0;
  failures = 0;
  totalResponseMs = 0;
  responses = 0;
  activeSince: number | null = null;

  constructor(
    readonly kind: IntegrationKind,
    readonly tenant: string,
    readonly id: string,
    readonly type: string,
  ) {}
}

export class IntegrationRegistry {
  private readonly items = new Map<string, Integration>();
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(config: Config, deps: { clock: Clock; logger: Logger }) {
    this.clock = deps.clock;
    this.logger = deps.logger;
    for (const tenant of config.tenants.values()) {
      for (const source of tenant.sources.values()) {
        const type = source.preset ?? source.profile.scheme.kind;
        this.items.set(
          key("source", tenant.id, source.id),
          new Integration("source", tenant.id, source.id, type),
        );
      }
      for (const destination of tenant.destinations.values()) {
        this.items.set(
          key("destination", tenant.id, destination.id),
          new Integration("destination", tenant.id, destination.id, destination.type),
        );
      }
    }
  }

  /** Health check at startup: configured and compiled instances become active. */
  start(): void {
    for (const item of this.items.values()) {
      if (item.status === "pending") this.transition(item, "active", null);
    }
  }

  /** A source accepted (processed) or refused (failed) a request. */
  recordIntake(tenant: string, source: string, ok: boolean, error?: string): void {
    const item = this.items.get(key("source", tenant, source));
    if (!item) return;
    this.record(item, ok, undefined, error);
  }

  /**
   * The destination's breaker changed: open pauses deliveries (`inactive`), closing resumes them
   * (`active`). A destination in `error` stays there until a delivery succeeds.
   */
  recordBreaker(tenant: string, destination: string, breaker: "closed" | "open" | "half_open"): void {
    const item = this.items.get(key("destination", tenant, destination));
    if (!item) return;
    if (breaker === "open" && item.status === "active")
      this.transition(item, "inactive", "circuit breaker open");
    if (breaker === "closed" && item.status === "inactive") this.transition(item, "active", null);
  }

  /** A delivery attempt to a destination finished. */
  recordDelivery(tenant: string, destination: string, ok: boolean, durationMs: number, error?: string): void {
    const item = this.items.get(key("destination", tenant, destination));
    if (!item) return;
    this.record(item, ok, durationMs, error);
  }

  list(): IntegrationView[] {
    return [...this.items.values()].map((item) => this.view(item));
  }

  summary(): Record<IntegrationStatus, number> {
    const counts: Record<IntegrationStatus, number> = { pending: 0, active: 0, inactive: 0, error: 0 };
    for (const item of this.items.values()) counts[item.status]++;
    return counts;
  }

  private record(
    item: Integration,
    ok: boolean,
    durationMs: number | undefined,
    error: string | undefined,
  ): void {
    if (durationMs !== undefined) {
      item.totalResponseMs += durationMs;
      item.responses++;
    }
    if (ok) {
      item.successes++;
      item.consecutiveFailures = 0;
      if (item.status === "error" || item.status === "pending") this.transition(item, "active", null);
      return;
    }
    item.failures++;
    item.consecutiveFailures++;
    item.lastError = error ?? "failed";
    item.lastErrorAt = this.clock.now();
    if (item.status !== "error" && item.consecutiveFailures >= errorAfterConsecutiveFailures) {
      this.transition(item, "error", item.lastError);
    }
  }

  private transition(item: Integration, to: IntegrationStatus, reason: string | null): void {
    const from = item.status;
    item.status = to;
    if (to === "active") item.activeSince = this.clock.now();
    if (to !== "active") item.activeSince = null;
    this.logger.info(
      { kind: item.kind, tenant: item.tenant, integration: item.id, from, to, reason },
      "integration status changed",
    );
  }

  private view(item: Integration): IntegrationView {
    const total = item.successes + item.failures;
    const now = this.clock.now();
    const counters =
      item.kind === "source"
        ? { received: total, processed: item.successes }
        : {
            sent: item.successes,
            failed: item.failures,
            averageResponseMs: item.responses === 0 ? 0 : Math.round(item.totalResponseMs / item.responses),
          };
    return {
      kind: item.kind,
      tenant: item.tenant,
      id: item.id,
      type: item.type,
      status: item.status,
      lastError: item.lastError,
      lastErrorAt: item.lastErrorAt === null ? null : new Date(item.lastErrorAt).toISOString(),
      counters: {
        ...counters,
        errorRate: total === 0 ? 0 : item.failures / total,
        uptimeSeconds: item.activeSince === null ? 0 : Math.floor((now - item.activeSince) / 1000),
      },
    };
  }
}

function key(kind: IntegrationKind, tenant: string, id: string): string {
  return `${kind}\u0000${tenant}\u0000${id}`;
}
