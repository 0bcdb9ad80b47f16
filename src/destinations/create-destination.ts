/**
 * The one place that maps a destination config `type` to its implementation. A new destination type
 * adds a folder under `src/destinations/` and a case here.
 */
import type { DestinationConfig } from "../config/config.ts";
import type { Clock } from "../ports/clock.ts";
import type { Destination } from "./destination.ts";
import type { DestinationFactory } from "./registry.ts";
import type { ConnectorFactory, DispatcherFactory, WebhookEgressPolicy } from "./webhook/egress-policy.ts";
import { WebhookDestination } from "./webhook/webhook-destination.ts";

/** Shared dependencies of every destination. */
export interface DestinationDeps {
  /** `Config.queue.maxRetryAfterMs`. */
  readonly maxRetryAfterMs: number;
  readonly clock?: Clock;
  readonly webhookEgress?: Partial<WebhookEgressPolicy>;
  readonly dispatcherFactory?: DispatcherFactory;
  /** The egress guard's hook (see `ConnectorFactory`). */
  readonly connectorFactory?: ConnectorFactory;
}

/** @throws ConfigError when a destination's config is unusable (bad URL, bad secret). */
export function createDestination(config: DestinationConfig, deps: DestinationDeps): Destination {
  switch (config.type) {
    case "webhook":
      return new WebhookDestination({
        config,
        maxRetryAfterMs: deps.maxRetryAfterMs,
        clock: deps.clock,
        egress: deps.webhookEgress,
        dispatcherFactory: deps.dispatcherFactory,
        connectorFactory: deps.connectorFactory,
      });
    default: {
      const _exhaustive: never = config.type;
      throw new Error(`unknown destination type ${String(_exhaustive)}`);
    }
  }
}

/** `createDestination` bound to `deps`, for `DestinationRegistry.fromConfig`. */
export function destinationFactory(deps: DestinationDeps): DestinationFactory {
  return (config) => createDestination(config, deps);
}
