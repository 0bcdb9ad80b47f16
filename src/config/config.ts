/**
 * The compiled configuration: parsed once at startup from env vars and the optional YAML file
 * (`ZEN_CONFIG`), validated with zod, secrets resolved, then deep-frozen. Nothing else reads
 * `process.env`. Units live in the names. Built by `loadConfig` (load-config.ts).
 *
 * Immutability: every object and array is frozen; every `ReadonlyMap` is a `FrozenMap` (frozen.ts),
 * a read-only view with no `set`/`delete`/`clear` (not `instanceof Map`). Never cast one back to Map.
 */
import type { FieldRef, SourceProfile } from "../intake/verify/spec.ts";
import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import type { CompiledTemplateSet, TemplatedDestinationType } from "../templates/template-set.ts";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface RetryPolicy {
  /** Total attempts including the first (seed: QUEUE_MAX_RETRIES 3 → 3 attempts). */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** Full jitter: the delay is uniform in [0, computed]. */
  readonly jitter: boolean;
}

/** A token bucket: `capacity` tokens, refilled at `refillPerSecond` (fractional allowed). */
export interface RateLimitConfig {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface SourceConfig {
  readonly id: string;
  readonly tenant: string;
  /** The preset this source was built from, if any (for `zen sign` and docs). */
  readonly preset?: string;
  readonly profile: SourceProfile;
  /** Resolved secrets; several = rotation, any may match. Never logged. */
  readonly secrets: readonly string[];
  /** YAML `rateLimit:` on the source: intake answers 429 + Retry-After beyond it. Absent: no intake limit. */
  readonly intakeRateLimit?: RateLimitConfig;
  /**
   * YAML `fields:`: where this source's payloads keep the canonical event fields, e.g.
   * `{ severity: { jsonPath: "$.alert.severity" }, subject: { jsonPath: "$.alert.summary" } }`.
   * Severity values are normalized (`warning` → medium, `P1` → critical, …; unknown → absent).
   */
  readonly fields?: SourceFieldsConfig;
}

export interface SourceFieldsConfig {
  readonly severity?: FieldRef;
  readonly subject?: FieldRef;
  readonly category?: FieldRef;
  /** The event's own fingerprint (ticket destinations group events by it). */
  readonly fingerprint?: FieldRef;
}

/**
 * YAML `templates:` on a destination, compiled at load: every part of the type, the user's where
 * given, the defaults elsewhere (templates/template-set.ts). Absent on a destination without
 * `templates:`: the type's defaults apply.
 */
export interface DestinationTemplates<T extends TemplatedDestinationType> {
  readonly parts: CompiledTemplateSet<T>;
  /** The parts the YAML overrides, in file order. */
  readonly custom: readonly string[];
  /** `<location>: <message>` of overrides that failed to render a sample event: shown, not fatal. */
  readonly warnings: readonly string[];
}

/**
 * Shared by every destination type. `redact`: YAML `redact: false` sends this destination's events
 * unredacted (both layers off; startup logs a warning naming it); absent: redacted with the tenant's
 * policy (TenantConfig.redaction).
 */
export interface DestinationRedactionConfig {
  readonly redact?: false;
}

export interface WebhookDestinationConfig extends DestinationRedactionConfig {
  readonly type: "webhook";
  readonly id: string;
  readonly tenant: string;
  readonly url: string;
  /** Standard Webhooks signing secret (`whsec_…` or raw); absent: requests are sent unsigned. */
  readonly secret?: string;
  /** Extra static headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** YAML `rateLimit:` on the destination: its own bucket instead of the tenant's provider bucket. */
  readonly rateLimit?: RateLimitConfig;
  /** `body`: a JSON template; absent, the canonical event as JSON (webhook/render-body.ts). */
  readonly templates?: DestinationTemplates<"webhook">;
}

/**
 * What makes two events "the same incident" for ticketing destinations, and when an event says the
 * incident is over. Shared by Jira and ServiceNow.
 */
export interface TicketIdentityConfig {
  /**
   * Event field paths (`data.alert.id`, `resource.name`, …) whose values, with tenant and source,
   * form the fingerprint. Absent: the event's own `fingerprint`, else its id.
   */
  readonly fingerprintFields?: readonly string[];
  /**
   * Predicates that mark an event as "resolved" (all must hold). Default `{ "data.status": "resolved" }`;
   * `{}` in the YAML: no event resolves a ticket.
   */
  readonly resolvedWhen: FieldMatch;
  /** When a resolved ticket's incident fires again: reopen it (true) or open a new one (false, default). */
  readonly reopenOnRecurrence: boolean;
}

/** Jira Cloud (REST v3) issues, one per fingerprint; comments on repeats; transitions on resolve. */
export interface JiraDestinationConfig extends TicketIdentityConfig, DestinationRedactionConfig {
  readonly type: "jira";
  readonly id: string;
  readonly tenant: string;
  /** The tenant's `providers.jira` from the YAML; for tenant `default` else the `JIRA_*` env connection. */
  readonly connection: JiraProviderConfig;
  readonly project: string;
  /** Default `Task`. */
  readonly issueType: string;
  /** Extra labels; the fingerprint label `zen-<hash>` is always added. */
  readonly labels: readonly string[];
  /** Severity → Jira priority name. Default critical→Highest, high→High, medium→Medium, low→Low, info→Lowest. */
  readonly priorityBySeverity: Readonly<Record<string, string>>;
  /** Transition name used on resolve (matched against transition name, then target status). Default `Done`. */
  readonly resolveTransition: string;
  /** Transition name used to reopen on recurrence. Default `To Do`. */
  readonly reopenTransition: string;
  readonly timeoutMs: number;
  readonly rateLimit?: RateLimitConfig;
  /** `summary`, `description` (the delivery ref is appended when a custom description drops it). */
  readonly templates?: DestinationTemplates<"jira">;
}

/** ServiceNow incidents, one per fingerprint (`correlation_id`); resolve on a resolved event. */
export interface ServiceNowDestinationConfig extends TicketIdentityConfig, DestinationRedactionConfig {
  readonly type: "servicenow";
  readonly id: string;
  readonly tenant: string;
  /**
   * The tenant's `providers.servicenow` from the YAML; for tenant `default` else the `SERVICENOW_*`
   * env connection.
   */
  readonly connection: ServiceNowProviderConfig;
  /** Table, default `incident`. */
  readonly table: string;
  /** Severity → urgency ("1" high … "3" low). Default critical/high→1, medium→2, low/info→3. */
  readonly urgencyBySeverity: Readonly<Record<string, "1" | "2" | "3">>;
  /** Severity → impact, same scale and default as urgency. */
  readonly impactBySeverity: Readonly<Record<string, "1" | "2" | "3">>;
  readonly assignmentGroup?: string;
  readonly callerId?: string;
  readonly category?: string;
  /** `close_code` when resolving. Default `Resolved by caller`. */
  readonly closeCode: string;
  readonly timeoutMs: number;
  readonly rateLimit?: RateLimitConfig;
  /** `short_description` (cut to 160), `description` (the `Event ID:` line is appended when dropped). */
  readonly templates?: DestinationTemplates<"servicenow">;
}

/** What a Slack destination does with an event whose fingerprint it has posted before. */
export type SlackOnRepeat = "update" | "thread" | "post";

/** Slack `chat.postMessage` (Block Kit + text fallback) to one channel; repeats update, thread or post. */
export interface SlackDestinationConfig extends DestinationRedactionConfig {
  readonly type: "slack";
  readonly id: string;
  readonly tenant: string;
  /** Conversation id: `C…` (channel), `G…` (private, legacy) or `D…` (DM). */
  readonly channel: string;
  /** Resolved bot token (see `tokenFrom`). Never logged. */
  readonly token: string;
  /**
   * Where the token came from, for `zen config check`: the node's reference (`yaml`), the tenant's
   * `providers.slack.botToken` (`tenant`), or `SLACK_BOT_TOKEN` (`env`).
   */
  readonly tokenFrom: "env" | "tenant" | "yaml";
  /** Web API base ending in `/` (`SLACK_API_URL`, default `https://slack.com/api/`). */
  readonly apiUrl: string;
  /** Default `thread`: replies under the first message of the same fingerprint. */
  readonly onRepeat: SlackOnRepeat;
  readonly timeoutMs: number;
  readonly rateLimit?: RateLimitConfig;
  /** `text` (fallback line), `blocks` (a JSON array of Block Kit blocks). */
  readonly templates?: DestinationTemplates<"slack">;
}

/** Risk levels of an approval request (YAML `risk:`, `risks:`, `twoApproversFor:`), lowest first. */
export const approvalRisks = ["low", "medium", "high", "critical"] as const;
export type ApprovalRisk = (typeof approvalRisks)[number];

/**
 * `type: approval`: delivering an event here asks the tenant's approvers (`TenantConfig.approvals`)
 * in Slack; on approve, the original event goes on to `then`. See docs/approvals.md.
 */
export interface ApprovalDestinationConfig extends DestinationRedactionConfig {
  readonly type: "approval";
  readonly id: string;
  readonly tenant: string;
  /**
   * What is being approved (`restart-deployment`) and how risky it is. Absent only on the built-in
   * destination `_approvals`, which posts approvals created through `POST /admin/approvals`.
   */
  readonly request?: { readonly action: string; readonly risk: ApprovalRisk };
  /** Slack channel of the request message; absent: the tenant policy's `channel`. */
  readonly channel?: string;
  /** Destination ids that get the original event once approved. */
  readonly thenTo: readonly string[];
  /** Deadline of one Slack call posting the request, ms (default 10 000). */
  readonly timeoutMs: number;
  /** YAML `rateLimit:`: this destination's own bucket instead of the tenant's `approval` bucket. */
  readonly rateLimit?: RateLimitConfig;
  /** No templates: the request message is built by approvals/request-message.ts. */
  readonly templates?: never;
}

/**
 * Built per tenant with an approvals policy when `ZEN_BACK_URL` is set (id `_zen-back`), never declared
 * in the YAML: each final decision is POSTed to `url` as given, with `Authorization: Bearer <apiKey>`.
 */
export interface ZenBackDestinationConfig extends DestinationRedactionConfig {
  readonly type: "zen-back";
  readonly id: string;
  readonly tenant: string;
  readonly url: string;
  readonly apiKey?: string;
  readonly timeoutMs: number;
  /** Never set: zen-back shares the tenant's bucket. */
  readonly rateLimit?: RateLimitConfig;
  readonly templates?: never;
}

/** Destination types other issues add (observation) extend this union. */
export type DestinationConfig =
  | WebhookDestinationConfig
  | JiraDestinationConfig
  | ServiceNowDestinationConfig
  | SlackDestinationConfig
  | ApprovalDestinationConfig
  | ZenBackDestinationConfig;

/**
 * One role of a tenant's approval policy: who holds it (Slack user ids, e-mails, user groups) and
 * what it may approve (actions, `*` = any, at these risks).
 */
export interface ApprovalRoleConfig {
  readonly id: string;
  /** Slack user ids (`U…`, `W…`). */
  readonly users: readonly string[];
  /** E-mail addresses, lower-cased; matched against `users.info` (needs `users:read.email`). */
  readonly emails: readonly string[];
  /** Slack user group ids (`S…`); members come from `usergroups.users.list`. */
  readonly groups: readonly string[];
  /** Action names, or `*` for any action. */
  readonly actions: readonly string[];
  readonly risks: readonly ApprovalRisk[];
}

/** YAML `approvals:` on a tenant: where requests go and who may decide them. */
export interface ApprovalPolicyConfig {
  /** Default channel of request messages. */
  readonly channel?: string;
  /** How long a request stays open (`expiresIn`, default 1h). */
  readonly expiresInMs: number;
  /** Risks that need two distinct approvers. */
  readonly twoApproversFor: readonly ApprovalRisk[];
  readonly roles: readonly ApprovalRoleConfig[];
  /** Some role lists e-mails: clicks resolve the user's e-mail through `users.info`. */
  readonly usesEmails: boolean;
  /** Some role lists user groups: clicks resolve memberships through `usergroups.users.list`. */
  readonly usesGroups: boolean;
}

/** A simple field predicate: `{ "data.action": "opened" }` or `{ severity: ["high","critical"] }`. */
export type FieldMatch = Readonly<Record<string, string | readonly string[]>>;

export interface RouteConfig {
  /** Index in the tenant's route list, for trails and logs. */
  readonly index: number;
  /** Source ids; absent = every source of the tenant. */
  readonly from?: readonly string[];
  /** Event type(s), `*` glob allowed (e.g. `invoice.*`). */
  readonly types?: readonly string[];
  /** Field predicates over the event (`severity`, `category`, `data.x.y`, `headers.x`). All must hold. */
  readonly when?: FieldMatch;
  readonly to: readonly string[];
  /**
   * YAML `templates:` on the route, by destination id (each one of `to`, declared in the file): for
   * events this route matches, that destination renders with these parts instead of its own. Absent
   * ids: the destination's own templates (destinations/route-templates.ts decides at delivery time).
   */
  readonly templates?: Readonly<Record<string, RouteTemplates>>;
}

/**
 * A route's templates for one destination: the full set of the destination's type, the route's
 * parts where it names them, the destination's own (or the defaults) elsewhere.
 */
export type RouteTemplates = {
  readonly [T in TemplatedDestinationType]: { readonly type: T } & DestinationTemplates<T>;
}[TemplatedDestinationType];

export interface TenantConfig {
  readonly id: string;
  /**
   * YAML `providers:` on the tenant (Jira/ServiceNow connections with secret refs). The `default`
   * tenant falls back to the env connections (`JIRA_*`, `SERVICENOW_*`).
   */
  readonly providers: {
    readonly jira?: JiraProviderConfig;
    readonly servicenow?: ServiceNowProviderConfig;
    /** The tenant's Slack app (YAML `providers.slack`; tenant `default`: else the `SLACK_*` env). */
    readonly slack?: TenantSlackConfig;
  };
  /** YAML `rateLimit:` on the tenant: replaces `guards.rateLimit` for this tenant's delivery buckets. */
  readonly rateLimit?: RateLimitConfig;
  /** YAML `intakeRateLimit:` on the tenant: one intake bucket for all its sources (429 beyond it). */
  readonly intakeRateLimit?: RateLimitConfig;
  /**
   * YAML `redaction:` on the tenant, compiled once (redaction/policy.ts); without one, the default:
   * every kind, namespaces replaced by `[REDACTED_NAMESPACE]`, nothing allowlisted. Applied to every
   * destination of the tenant except those with `redact: false`.
   */
  readonly redaction: CompiledRedactionPolicy;
  readonly sources: ReadonlyMap<string, SourceConfig>;
  readonly destinations: ReadonlyMap<string, DestinationConfig>;
  readonly routes: readonly RouteConfig[];
  /** YAML `approvals:`: the tenant's approval policy (RBAC); absent: the tenant has no approvals. */
  readonly approvals?: ApprovalPolicyConfig;
}

export interface GuardsConfig {
  /**
   * Default token bucket per tenant:provider (`RATE_LIMIT_CAPACITY` 100: the burst allowed after a
   * quiet period; `RATE_LIMIT_REFILL_RATE` 10.0 tokens per second, may be fractional).
   */
  readonly rateLimit: RateLimitConfig;
  /** Circuit breaker per destination. */
  readonly circuitBreaker: {
    /** Consecutive failures that open the breaker (`CIRCUIT_BREAKER_MAX_FAILURES`, default 5). */
    readonly maxFailures: number;
    /** How long the breaker stays open before a half-open probe (`CIRCUIT_BREAKER_TIMEOUT`, default 60 s). */
    readonly resetTimeoutMs: number;
  };
}

/** Slack app credentials (`SLACK_*`); present when any of the three tokens or `SLACK_API_URL` is set. */
export interface SlackProviderConfig {
  readonly botToken?: string;
  /**
   * `SLACK_SIGNING_SECRET`, comma-separated: several = rotation, any one may match. Creates source
   * `slack` (preset slack) in tenant `default` (`POST /slack/*`).
   */
  readonly signingSecrets?: readonly string[];
  /** `SLACK_APP_TOKEN` (`xapp-…`): tenant `default` receives over Socket Mode. */
  readonly appToken?: string;
  /** Web API base URL, always ending in `/` (`SLACK_API_URL`, default `https://slack.com/api/`). */
  readonly apiUrl: string;
}

/**
 * A tenant's Slack app: YAML `providers.slack` (secrets as `env:`/`file:` references), or for tenant
 * `default` without one, the `SLACK_*` env variables (with no `teams`).
 */
export interface TenantSlackConfig {
  /**
   * Signing secrets of the app (several = rotation). Non-empty: the tenant has source `slack` (preset
   * slack) and answers `POST /slack/*` for its teams. Empty: no HTTP intake (Socket Mode only).
   */
  readonly signingSecrets: readonly string[];
  /**
   * Workspace ids (`T…`, or `E…` for an Enterprise Grid org) whose requests belong to this tenant; a
   * team is listed by at most one tenant. Requests from unlisted teams belong to tenant `default`.
   */
  readonly teams: readonly string[];
  /** Bot token (`xoxb-…`) for the Slack destination and `users.info`. */
  readonly botToken?: string;
  /** App-level token (`xapp-…`): the tenant receives over Socket Mode (source `slack`). */
  readonly appToken?: string;
}

/** Jira (`JIRA_URL` + `JIRA_TOKEN`; with `JIRA_EMAIL` basic auth email:token (Cloud), else bearer (DC PAT)). */
export interface JiraProviderConfig {
  readonly url: string;
  readonly token: string;
  readonly email?: string;
}

/** ServiceNow (`SERVICENOW_INSTANCE`, `SERVICENOW_USERNAME`, `SERVICENOW_PASSWORD`, all three). */
export interface ServiceNowProviderConfig {
  /** `https://<instance>` when the variable was a bare host name, else the URL as given (normalized). */
  readonly instanceUrl: string;
  readonly username: string;
  readonly password: string;
}

/** Zen back end (`ZEN_BACK_URL`, optional `ZEN_BACK_APIKEY`). */
export interface ZenBackProviderConfig {
  readonly url: string;
  readonly apiKey?: string;
}

/** Shared Redis (`REDIS_URL`, `redis://` or `rediss://`); absent: the embedded SQLite store. */
export interface RedisProviderConfig {
  readonly url: string;
}

export interface ProvidersConfig {
  readonly slack?: SlackProviderConfig;
  readonly jira?: JiraProviderConfig;
  readonly servicenow?: ServiceNowProviderConfig;
  readonly zenBack?: ZenBackProviderConfig;
  readonly redis?: RedisProviderConfig;
}

/** Env var and default of each field are noted; `settings:` keys in the YAML file are in tuning.ts. */
export interface Config {
  /** `PORT`, default 8080. */
  readonly port: number;
  /** `HOST`, default `0.0.0.0`. */
  readonly host: string;
  /** `ZEN_DATA_DIR`, default `./data`. */
  readonly dataDir: string;
  /** `ZEN_CONFIG`, as given; absent = no YAML file. */
  readonly configPath?: string;
  /** `LOG_LEVEL`, default `info`. */
  readonly logLevel: LogLevel;
  /** `ZEN_ADMIN_TOKEN`. Absent: the admin API is off (404). */
  readonly adminToken?: string;
  /**
   * `ZEN_API_TOKEN`: bearer token of the ticket APIs (`POST /jira/issue`, `/servicenow/ticket…`).
   * Absent: `adminToken` is accepted there; neither: those endpoints answer 404.
   */
  readonly apiToken?: string;
  readonly intake: {
    /** `ZEN_BODY_LIMIT_BYTES`, default 1 MiB. */
    readonly bodyLimitBytes: number;
    /** Default replay/timestamp tolerance for schemes that do not set one (`ZEN_TOLERANCE_SECONDS`, 300). */
    readonly toleranceSeconds: number;
    /** TTL of the intake dedupe key sha256(tenant:source:eventId) (`ZEN_IDEMPOTENCY_TTL`, 24h). */
    readonly idempotencyTtlMs: number;
    /** Group commit window: how long intake waits to batch commits (0 = next tick) (`ZEN_COMMIT_WINDOW_MS`, 0). */
    readonly commitWindowMs: number;
  };
  readonly queue: {
    /** `attempts` from `QUEUE_MAX_RETRIES` (3); the rest is `genericRetryPolicy` (domain/backoff.ts). */
    readonly retry: RetryPolicy;
    /** Upper bound on a destination's Retry-After (`ZEN_MAX_RETRY_AFTER`, 5m). */
    readonly maxRetryAfterMs: number;
    /** How long a worker owns a job (`ZEN_LEASE_MS`, 60 000); above every destination `timeoutMs`. */
    readonly leaseMs: number;
    /** Lease expiries before a job is quarantined as a poison pill (`ZEN_MAX_LEASES`, 5). */
    readonly maxLeases: number;
    /** Deliveries in flight per worker (`ZEN_CONCURRENCY`, 16). */
    readonly concurrency: number;
    /** Idle worker poll period (`ZEN_POLL_INTERVAL_MS`, 1000). */
    readonly pollIntervalMs: number;
    /** How long DLQ entries are kept (`DLQ_RETENTION_PERIOD`, 7d). */
    readonly dlqRetentionMs: number;
    /** SQLite `synchronous` pragma (`ZEN_SQLITE_SYNCHRONOUS`, `full`). */
    readonly sqliteSynchronous: "full" | "normal";
    /** Run the SQLite store on a worker thread (`ZEN_SQLITE_WORKER`, false). */
    readonly sqliteWorker: boolean;
  };
  readonly egress: {
    /** `ZEN_EGRESS_ALLOW_PRIVATE`, default false: private/loopback destinations are refused. */
    readonly allowPrivate: boolean;
    /** `ZEN_EGRESS_ALLOW_CIDRS`, comma-separated CIDRs reachable even though private (e.g. `10.20.0.0/16`). */
    readonly allowCidrs: readonly string[];
  };
  /** Per tenant:destination guards applied before each send (seed names; enforced by the delivery issue). */
  readonly guards: GuardsConfig;
  /** Provider credentials from env; each provider is absent unless its variables are set. */
  readonly providers: ProvidersConfig;
  /** `WEBHOOK_SECRET`. Seed-compatible `/webhooks/generic`: tenant `default`, source `generic`; absent = route off (404). */
  readonly genericWebhookSecret?: string;
  /**
   * From the YAML file, in file order, plus `default` (appended when the file lacks it) when env
   * configures any part of it: `WEBHOOK_SECRET` (source `generic`), `JIRA_WEBHOOK_SECRET` (source
   * `jira`, preset `jira`, for `POST /jira/webhook`), `SERVICENOW_*` (destination `servicenow` unless
   * the file declares that id) or `JIRA_*` (the connection only: env has no project). See
   * compile-env-defaults.ts.
   */
  readonly tenants: ReadonlyMap<string, TenantConfig>;
}
