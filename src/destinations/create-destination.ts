/**
 * The one place that maps a destination config `type` to its implementation. A new destination type
 * adds a folder under `src/destinations/` and a case here.
 */
import { ApprovalDestination, type ApprovalRuntime } from "../approvals/approval-destination.ts";
import { ZenBackDestination } from "../approvals/zen-back-destination.ts";
import type { DestinationConfig, RouteConfig } from "../config/config.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { KeyStore } from "../ports/key-store.ts";
import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import { defaultRedactionPolicy, type RedactionObserver } from "../redaction/redact-delivery.ts";
import type { Destination } from "./destination.ts";
import { createEgressGuard, type EgressAllowances, type LookupFn } from "./egress/egress-guard.ts";
import { createJiraDestination } from "./jira/jira-destination.ts";
import type { DestinationFactory } from "./registry.ts";
import { createServiceNowDestination } from "./servicenow/servicenow-destination.ts";
import { createSlackDestination } from "./slack/slack-destination.ts";
import type { ConnectorFactory, DispatcherFactory, WebhookEgressPolicy } from "./webhook/egress-policy.ts";
import { WebhookDestination } from "./webhook/webhook-destination.ts";

/** Shared dependencies of every destination. */
export interface DestinationDeps {
  /** `Config.queue.maxRetryAfterMs`. */
  readonly maxRetryAfterMs: number;
  readonly clock?: Clock;
  readonly webhookEgress?: Partial<WebhookEgressPolicy>;
  readonly dispatcherFactory?: DispatcherFactory;
  /**
   * What the egress guard allows beyond public addresses (`Config.egress`). Default: nothing, so
   * private, loopback, link-local and metadata addresses are refused (`egress_denied`).
   */
  readonly egress?: EgressAllowances;
  /** DNS for the egress guard (tests inject answers). Default: `systemLookup`. */
  readonly egressLookup?: LookupFn;
  /** The connector the egress guard wraps (tests inject a spy). Default: undici's `buildConnector`. */
  readonly connectorFactory?: ConnectorFactory;
  /**
   * Shared keys (cross-process locks per ticket fingerprint; Slack's first-message and posted memos).
   * Required by jira and servicenow; slack without it cannot recognise repeats.
   */
  readonly keys?: KeyStore;
  /**
   * The tenant's compiled redaction policy (`TenantConfig.redaction`). Default, and when it answers
   * undefined: the default policy (every kind), so a missing lookup never means "unredacted"; only a
   * destination's own `redact: false` does.
   */
  readonly redactionPolicyOf?: (tenant: string) => CompiledRedactionPolicy | undefined;
  /** Told each attempt's redaction counts (`zen_redactions_total`). Default: nobody. */
  readonly onRedactions?: RedactionObserver;
  /**
   * The tenant's routes (`TenantConfig.routes`): a route's `templates:` override a destination's for
   * the events it matches (route-templates.ts). Default: none, so destinations use their own.
   */
  readonly routesOf?: (tenant: string) => readonly RouteConfig[] | undefined;
  /** Store, Slack and policies of `approval` destinations; required when the config has any. */
  readonly approvals?: ApprovalRuntime;
}

/** What a provider destination (Jira, ServiceNow, Slack) gets to build its client. */
export interface ProviderDestinationDeps {
  readonly maxRetryAfterMs: number;
  readonly clock: Clock;
  /** The egress-guarded connector: pass it to the client's undici Agent. */
  readonly connectorFactory: ConnectorFactory;
  readonly dispatcherFactory?: DispatcherFactory;
  readonly keys: KeyStore | undefined;
  /** The policy both redaction layers apply; undefined only for a destination with `redact: false`. */
  readonly redaction: CompiledRedactionPolicy | undefined;
  readonly onRedactions?: RedactionObserver;
  /** The tenant's routes, for route templates. */
  readonly routes?: readonly RouteConfig[];
}

/** Without operator allowances, every blocked range stays blocked. */
const noAllowances: EgressAllowances = Object.freeze({ allowPrivate: false, allowCidrs: [] });

/**
 * Every destination's sockets go through the egress guard; there is no unguarded path.
 * @throws ConfigError when a destination's config is unusable (bad URL, bad secret) or an
 *   `egress.allowCidrs` entry is not a CIDR range.
 */
export function createDestination(config: DestinationConfig, deps: DestinationDeps): Destination {
  const { allowPrivate, allowCidrs } = deps.egress ?? noAllowances;
  const connectorFactory = createEgressGuard({
    allowPrivate,
    allowCidrs,
    lookup: deps.egressLookup,
    connectorFactory: deps.connectorFactory,
  });
  const redaction = redactionFor(config, deps);
  const routes = deps.routesOf?.(config.tenant);
  switch (config.type) {
    case "webhook":
      return new WebhookDestination({
        config,
        maxRetryAfterMs: deps.maxRetryAfterMs,
        clock: deps.clock,
        egress: deps.webhookEgress,
        dispatcherFactory: deps.dispatcherFactory,
        connectorFactory,
        redaction,
        ...(deps.onRedactions && { onRedactions: deps.onRedactions }),
        ...(routes && { routes }),
      });
    case "jira":
    case "servicenow":
    case "slack": {
      const providerDeps: ProviderDestinationDeps = {
        maxRetryAfterMs: deps.maxRetryAfterMs,
        clock: deps.clock ?? systemClock,
        connectorFactory,
        dispatcherFactory: deps.dispatcherFactory,
        keys: deps.keys,
        redaction,
        ...(deps.onRedactions && { onRedactions: deps.onRedactions }),
        ...(routes && { routes }),
      };
      if (config.type === "jira") return createJiraDestination(config, providerDeps);
      if (config.type === "slack") return createSlackDestination(config, providerDeps);
      return createServiceNowDestination(config, providerDeps);
    }
    case "approval":
      if (!deps.approvals)
        throw new Error(`destination ${config.tenant}/${config.id}: approvals are not wired`);
      return new ApprovalDestination(config, deps.approvals, redaction);
    case "zen-back":
      return new ZenBackDestination({
        config,
        maxRetryAfterMs: deps.maxRetryAfterMs,
        connectorFactory,
        dispatcherFactory: deps.dispatcherFactory,
        ...(deps.clock && { clock: deps.clock }),
      });
    default: {
      const _exhaustive: never = config;
      throw new Error(`unknown destination type ${(_exhaustive as { type: string }).type}`);
    }
  }
}

/** The tenant's policy, the default one when unknown, none only when the destination opted out. */
function redactionFor(config: DestinationConfig, deps: DestinationDeps): CompiledRedactionPolicy | undefined {
  if (config.redact === false) return undefined;
  return deps.redactionPolicyOf?.(config.tenant) ?? defaultRedactionPolicy();
}

/** `createDestination` bound to `deps`, for `DestinationRegistry.fromConfig`. */
export function destinationFactory(deps: DestinationDeps): DestinationFactory {
  return (config) => createDestination(config, deps);
}
