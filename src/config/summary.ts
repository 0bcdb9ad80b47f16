/**
 * A human summary of a compiled Config for `zen config check`: what is configured and how each
 * source is verified. It shows secret *counts* and destination *origins* only: never a secret, a
 * header value, or a URL path (webhook URLs often embed a token).
 */
import type { Scheme } from "../intake/verify/spec.ts";
import type {
  Config,
  DestinationConfig,
  RateLimitConfig,
  RouteConfig,
  SourceConfig,
  TenantConfig,
} from "./config.ts";
import { describeMs } from "./values.ts";

/** One line per fact; tenants, sources, destinations and routes indented under their tenant. */
export function summarizeConfig(config: Config): string[] {
  const providers = Object.keys(config.providers);
  const lines = [
    `config file: ${config.configPath ?? "none (ZEN_CONFIG unset)"}`,
    `listen: ${config.host}:${config.port}; data dir: ${config.dataDir}; log level: ${config.logLevel}`,
    `admin API: ${config.adminToken === undefined ? "off (ZEN_ADMIN_TOKEN unset)" : "on"}`,
    `generic webhook /webhooks/generic: ${config.genericWebhookSecret === undefined ? "off (WEBHOOK_SECRET unset)" : "on"}`,
    `providers: ${providers.length > 0 ? providers.join(", ") : "none"}`,
    `queue: ${config.queue.retry.attempts} attempts, lease ${describeMs(config.queue.leaseMs)}, concurrency ${config.queue.concurrency}, DLQ kept ${describeMs(config.queue.dlqRetentionMs)}`,
    `guards: default rate limit ${describeRateLimit(config.guards.rateLimit)} per tenant and provider; circuit breaker opens after ${count(config.guards.circuitBreaker.maxFailures, "failure")} for ${describeMs(config.guards.circuitBreaker.resetTimeoutMs)}`,
    `egress: ${describeEgress(config.egress)}`,
  ];
  for (const tenant of config.tenants.values()) {
    lines.push(`tenant ${tenant.id}: ${describeTenant(tenant)}`);
    for (const source of tenant.sources.values()) {
      const limit =
        source.intakeRateLimit && `; intake rate limit ${describeRateLimit(source.intakeRateLimit)}`;
      lines.push(`  source ${source.id}: ${describeSource(source)}${limit ?? ""}`);
    }
    for (const destination of tenant.destinations.values()) {
      const limit = destination.rateLimit && `; rate limit ${describeRateLimit(destination.rateLimit)}`;
      lines.push(`  destination ${destination.id}: ${describeDestination(destination)}${limit ?? ""}`);
    }
    for (const route of tenant.routes) lines.push(`  route ${route.index}: ${describeRoute(route)}`);
  }
  return lines;
}

/** `100 burst, 10/s`; slow refills per minute or hour (`0.5` → `30/min`), so they read in wall-clock terms. */
export function describeRateLimit(limit: RateLimitConfig): string {
  const perSecond = limit.refillPerSecond;
  const rate =
    perSecond >= 1
      ? `${short(perSecond)}/s`
      : perSecond * 60 >= 1
        ? `${short(perSecond * 60)}/min`
        : `${short(perSecond * 3_600)}/h`;
  return `${limit.capacity} burst, ${rate}`;
}

/** At most 4 significant digits, no trailing zeros: `10`, `0.5`, `16.67`. */
function short(n: number): string {
  return String(Number(n.toPrecision(4)));
}

function describeEgress(egress: Config["egress"]): string {
  const privately = egress.allowPrivate
    ? "private addresses allowed (ZEN_EGRESS_ALLOW_PRIVATE), cloud metadata endpoints still refused"
    : "private addresses refused";
  const cidrs = egress.allowCidrs.length > 0 ? egress.allowCidrs.join(", ") : "none";
  return `${privately}; allowed CIDRs: ${cidrs}`;
}

function describeTenant(tenant: TenantConfig): string {
  const parts = [
    `${count(tenant.sources.size, "source")}, ${count(tenant.destinations.size, "destination")}, ${count(tenant.routes.length, "route")}`,
  ];
  if (tenant.rateLimit) parts.push(`rate limit ${describeRateLimit(tenant.rateLimit)}`);
  if (tenant.intakeRateLimit) parts.push(`intake rate limit ${describeRateLimit(tenant.intakeRateLimit)}`);
  return parts.join("; ");
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function describeSource(source: SourceConfig): string {
  const origin = source.preset === undefined ? "custom" : `preset ${source.preset}`;
  const secrets = source.profile.scheme.kind === "none" ? "" : `, ${count(source.secrets.length, "secret")}`;
  return `${origin}: ${describeScheme(source.profile.scheme)}${secrets}`;
}

function describeScheme(scheme: Scheme): string {
  switch (scheme.kind) {
    case "hmac": {
      const timestamp = scheme.timestamp ? `, timestamp ±${scheme.timestamp.toleranceSeconds}s` : "";
      return `hmac-${scheme.algorithm} in ${scheme.signatureHeader} over "${scheme.signedContent}"${timestamp}`;
    }
    case "token":
      return `token in ${scheme.header}`;
    case "twilio":
      return "twilio signature";
    case "none":
      return "NOT VERIFIED (verify: none)";
    default: {
      const exhaustive: never = scheme;
      return String(exhaustive);
    }
  }
}

function describeDestination(destination: DestinationConfig): string {
  switch (destination.type) {
    case "webhook": {
      const headers = Object.keys(destination.headers);
      return [
        `webhook to ${new URL(destination.url).origin}`,
        destination.secret === undefined ? "unsigned" : "signed",
        `timeout ${describeMs(destination.timeoutMs)}`,
        ...(headers.length > 0 ? [`headers: ${headers.join(", ")}`] : []),
      ].join(", ");
    }
    default: {
      const exhaustive: never = destination.type;
      return String(exhaustive);
    }
  }
}

function describeRoute(route: RouteConfig): string {
  const parts = [`from ${route.from?.join(", ") ?? "any source"}`];
  if (route.types) parts.push(`type ${route.types.join(" | ")}`);
  for (const [field, value] of Object.entries(route.when ?? {})) {
    parts.push(`${field} ${typeof value === "string" ? value : value.join(" | ")}`);
  }
  return `${parts.join("; ")} → ${route.to.join(", ")}`;
}
