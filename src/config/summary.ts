/**
 * A human summary of a compiled Config for `zen config check`: what is configured and how each
 * source is verified. It shows secret *counts* and destination *origins* only: never a secret, a
 * header value, or a URL path (webhook URLs often embed a token). Jira/ServiceNow connections show
 * their host and whether they come from env or the file; never a user name, e-mail or token.
 * Redaction shows a tenant's own policy (kinds, namespace mode, extra pattern names; never the hash
 * key) and flags every destination that opted out; templates show which parts are custom.
 */
import type { Scheme } from "../intake/verify/spec.ts";
import { redactionKinds } from "../redaction/kinds.ts";
import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { jiraSourceId } from "./compile-env-defaults.ts";
import { defaultTenantId } from "./compile-tenants.ts";
import type {
  Config,
  DestinationConfig,
  FieldMatch,
  JiraProviderConfig,
  RateLimitConfig,
  RouteConfig,
  ServiceNowProviderConfig,
  SourceConfig,
  TenantConfig,
} from "./config.ts";
import { redactionOptOuts } from "./startup-warnings.ts";
import { describeMs } from "./values.ts";

/** One line per fact; tenants, sources, destinations and routes indented under their tenant. */
export function summarizeConfig(config: Config): string[] {
  const providers = Object.keys(config.providers);
  const lines = [
    `config file: ${config.configPath ?? "none (ZEN_CONFIG unset)"}`,
    `listen: ${config.host}:${config.port}; data dir: ${config.dataDir}; log level: ${config.logLevel}`,
    `admin API: ${config.adminToken === undefined ? "off (ZEN_ADMIN_TOKEN unset)" : "on"}`,
    `ticket API (POST /jira/issue, /servicenow/ticket): ${describeTicketApi(config)}`,
    `generic webhook /webhooks/generic: ${config.genericWebhookSecret === undefined ? "off (WEBHOOK_SECRET unset)" : "on"}`,
    `Jira webhook /jira/webhook: ${config.tenants.get(defaultTenantId)?.sources.has(jiraSourceId) ? `on (tenant default, source ${jiraSourceId})` : "off (JIRA_WEBHOOK_SECRET unset)"}`,
    `providers: ${providers.length > 0 ? providers.join(", ") : "none"}`,
    ...describeEnvConnections(config),
    `queue: ${config.queue.retry.attempts} attempts, lease ${describeMs(config.queue.leaseMs)}, concurrency ${config.queue.concurrency}, DLQ kept ${describeMs(config.queue.dlqRetentionMs)}`,
    `guards: default rate limit ${describeRateLimit(config.guards.rateLimit)} per tenant and provider; circuit breaker opens after ${count(config.guards.circuitBreaker.maxFailures, "failure")} for ${describeMs(config.guards.circuitBreaker.resetTimeoutMs)}`,
    `egress: ${describeEgress(config.egress)}`,
  ];
  const optOuts = redactionOptOuts(config);
  if (optOuts.length > 0) {
    lines.push(
      `WARNING: redaction is OFF (redact: false) for ${optOuts.map((o) => `${o.tenant}/${o.destination}`).join(", ")}: their events are sent unredacted`,
    );
  }
  for (const tenant of config.tenants.values()) {
    lines.push(`tenant ${tenant.id}: ${describeTenant(tenant, config)}`);
    for (const source of tenant.sources.values()) {
      const limit =
        source.intakeRateLimit && `; intake rate limit ${describeRateLimit(source.intakeRateLimit)}`;
      lines.push(`  source ${source.id}: ${describeSource(source)}${limit ?? ""}`);
    }
    for (const destination of tenant.destinations.values()) {
      const limit = destination.rateLimit && `; rate limit ${describeRateLimit(destination.rateLimit)}`;
      const extras = describeDestinationExtras(destination);
      lines.push(
        `  destination ${destination.id}: ${describeDestination(destination, config)}${limit ?? ""}${extras}`,
      );
      for (const warning of destination.templates?.warnings ?? [])
        lines.push(`    template warning: ${warning}`);
    }
    for (const route of tenant.routes) {
      lines.push(`  route ${route.index}: ${describeRoute(route)}`);
      for (const [id, templates] of Object.entries(route.templates ?? {})) {
        lines.push(`    templates for ${id}: ${templates.custom.join(", ")}`);
        for (const warning of templates.warnings) lines.push(`    template warning: ${warning}`);
      }
    }
  }
  return lines;
}

/** On when `ZEN_API_TOKEN` or `ZEN_ADMIN_TOKEN` is set (the admin token is accepted there too). */
function describeTicketApi(config: Config): string {
  if (config.apiToken !== undefined) return "on (ZEN_API_TOKEN)";
  if (config.adminToken !== undefined) return "on (ZEN_ADMIN_TOKEN; ZEN_API_TOKEN unset)";
  return "off (ZEN_API_TOKEN and ZEN_ADMIN_TOKEN unset)";
}

/** What the `JIRA_*` / `SERVICENOW_*` connections serve: the ticket API, and which destinations. */
function describeEnvConnections(config: Config): string[] {
  const tenant = config.tenants.get(defaultTenantId);
  const lines: string[] = [];
  const describe = (
    name: string,
    type: "jira" | "servicenow",
    connection: JiraProviderConfig | ServiceNowProviderConfig | undefined,
    endpoint: string,
    hint: string,
  ) => {
    if (!connection) return;
    const prefix = `${name} connection from env (${hostOf(connection)})`;
    if (tenant?.providers[type] !== connection) {
      lines.push(`${prefix}: unused, tenant default declares its own providers.${type}`);
      return;
    }
    const users = [...(tenant?.destinations.values() ?? [])]
      .filter((d) => d.type === type && d.connection === connection)
      .map((d) => d.id);
    lines.push(
      `${prefix}: available to ${endpoint}; ${users.length > 0 ? `used by destination ${users.join(", ")} of tenant default` : hint}`,
    );
  };
  describe(
    "Jira",
    "jira",
    config.providers.jira,
    "POST /jira/issue",
    "add a destination with a project to route events",
  );
  describe(
    "ServiceNow",
    "servicenow",
    config.providers.servicenow,
    "POST /servicenow/ticket",
    "add a servicenow destination to route events",
  );
  return lines;
}

/** The host (and port) of a connection: never its path, user or password. */
function hostOf(connection: JiraProviderConfig | ServiceNowProviderConfig): string {
  return new URL("url" in connection ? connection.url : connection.instanceUrl).host;
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

function describeTenant(tenant: TenantConfig, config: Config): string {
  const parts = [
    `${count(tenant.sources.size, "source")}, ${count(tenant.destinations.size, "destination")}, ${count(tenant.routes.length, "route")}`,
  ];
  if (tenant.rateLimit) parts.push(`rate limit ${describeRateLimit(tenant.rateLimit)}`);
  if (tenant.intakeRateLimit) parts.push(`intake rate limit ${describeRateLimit(tenant.intakeRateLimit)}`);
  const connections = [
    ...(tenant.providers.jira
      ? [`jira ${describeConnection(tenant.providers.jira, config.providers.jira)}`]
      : []),
    ...(tenant.providers.servicenow
      ? [`servicenow ${describeConnection(tenant.providers.servicenow, config.providers.servicenow)}`]
      : []),
  ];
  if (connections.length > 0) parts.push(`connections: ${connections.join(", ")}`);
  // The default policy (every kind, namespaces redacted) goes without saying; a tenant's own is shown.
  if (tenant.redaction !== defaultRedactionPolicy())
    parts.push(`redaction ${describeRedaction(tenant.redaction)}`);
  return parts.join("; ");
}

/** `all 16 kinds, namespaces hashed, extra patterns ticket-id`: what a policy does, never its key. */
export function describeRedaction(policy: CompiledRedactionPolicy): string {
  const kinds =
    policy.enabled.size === redactionKinds.length
      ? `all ${redactionKinds.length} kinds`
      : policy.enabled.size === 0
        ? "no kinds (off)"
        : `kinds ${redactionKinds.filter((k) => policy.enabled.has(k)).join(", ")}`;
  const namespaces = policy.namespaces.mode === "hash" ? "namespaces hashed" : "namespaces redacted";
  const extra =
    policy.extraPatternNames.length > 0 ? [`extra patterns ${policy.extraPatternNames.join(", ")}`] : [];
  return [kinds, namespaces, ...extra].join(", ");
}

/** `; REDACTION OFF (redact: false)` and `; templates summary, description` where they apply. */
function describeDestinationExtras(destination: DestinationConfig): string {
  const parts: string[] = [];
  if (destination.redact === false) parts.push("REDACTION OFF (redact: false)");
  const custom = destination.templates?.custom;
  if (custom) parts.push(`custom templates ${custom.join(", ")}`);
  return parts.map((p) => `; ${p}`).join("");
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

function describeDestination(destination: DestinationConfig, config: Config): string {
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
    case "jira":
      return [
        `jira to ${describeConnection(destination.connection, config.providers.jira)}`,
        `project ${destination.project}`,
        `issue type ${destination.issueType}`,
        ...(destination.labels.length > 0 ? [`labels ${destination.labels.join(" ")}`] : []),
        ...describeIdentity(destination),
        `resolve with "${destination.resolveTransition}"`,
        destination.reopenOnRecurrence
          ? `recurrence reopens with "${destination.reopenTransition}"`
          : "recurrence opens a new issue",
        `timeout ${describeMs(destination.timeoutMs)}`,
      ].join(", ");
    case "servicenow":
      return [
        `servicenow to ${describeConnection(destination.connection, config.providers.servicenow)}`,
        `table ${destination.table}`,
        ...(destination.assignmentGroup === undefined
          ? []
          : [`assignment group ${destination.assignmentGroup}`]),
        ...describeIdentity(destination),
        `close code "${destination.closeCode}"`,
        destination.reopenOnRecurrence
          ? "recurrence reopens the incident"
          : "recurrence opens a new incident",
        `timeout ${describeMs(destination.timeoutMs)}`,
      ].join(", ");
    case "slack":
      return [
        `slack to ${destination.channel} via ${new URL(destination.apiUrl).host}`,
        destination.tokenFrom === "env"
          ? "token SLACK_BOT_TOKEN"
          : destination.tokenFrom === "tenant"
            ? "the tenant's bot token"
            : "own token",
        `repeats ${destination.onRepeat}`,
        `timeout ${describeMs(destination.timeoutMs)}`,
      ].join(", ");
    case "approval":
      return [
        destination.request
          ? `approval of ${destination.request.action} (risk ${destination.request.risk})`
          : "approval requests from POST /admin/approvals",
        `in ${destination.channel ?? "the tenant's approvals channel"}`,
        ...(destination.thenTo.length > 0 ? [`then ${destination.thenTo.join(", ")}`] : []),
      ].join(", ");
    case "zen-back":
      return `approval decisions to zen-back at ${new URL(destination.url).origin}, timeout ${describeMs(destination.timeoutMs)}`;
    default: {
      const exhaustive: never = destination;
      return String((exhaustive as { type: unknown }).type);
    }
  }
}

/** `acme.atlassian.net (env)`: the env connection is shared by reference, so identity tells the origin. */
function describeConnection(connection: JiraProviderConfig | ServiceNowProviderConfig, env: unknown): string {
  return `${hostOf(connection)} (${connection === env ? "env" : "yaml"})`;
}

function describeIdentity(destination: {
  readonly fingerprintFields?: readonly string[];
  readonly resolvedWhen: FieldMatch;
}): string[] {
  const resolved = Object.keys(destination.resolvedWhen).length > 0;
  return [
    ...(destination.fingerprintFields ? [`fingerprint ${destination.fingerprintFields.join(" + ")}`] : []),
    resolved
      ? `resolved when ${describeMatch(destination.resolvedWhen, " and ")}`
      : "never resolved by an event",
  ];
}

function describeMatch(when: FieldMatch, separator = "; "): string {
  return Object.entries(when)
    .map(([field, value]) => `${field} ${typeof value === "string" ? value : value.join(" | ")}`)
    .join(separator);
}

function describeRoute(route: RouteConfig): string {
  const parts = [`from ${route.from?.join(", ") ?? "any source"}`];
  if (route.types) parts.push(`type ${route.types.join(" | ")}`);
  if (route.when) parts.push(describeMatch(route.when));
  return `${parts.join("; ")} → ${route.to.join(", ")}`;
}
