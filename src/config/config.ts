/**
 * The compiled configuration: parsed once at startup from env vars and the optional YAML file
 * (`ZEN_CONFIG`), validated with zod, secrets resolved, then deep-frozen. Nothing else reads
 * `process.env`. Units live in the names.
 */
import type { SourceProfile } from "../intake/verify/spec.ts";

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

export interface SourceConfig {
  readonly id: string;
  readonly tenant: string;
  /** The preset this source was built from, if any (for `zen sign` and docs). */
  readonly preset?: string;
  readonly profile: SourceProfile;
  /** Resolved secrets; several = rotation, any may match. Never logged. */
  readonly secrets: readonly string[];
}

export interface WebhookDestinationConfig {
  readonly type: "webhook";
  readonly id: string;
  readonly tenant: string;
  readonly url: string;
  /** Standard Webhooks signing secret (`whsec_…` or raw); absent: requests are sent unsigned. */
  readonly secret?: string;
  /** Extra static headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Destination types other issues add (slack, jira, servicenow, observation) extend this union. */
export type DestinationConfig = WebhookDestinationConfig;

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
}

export interface TenantConfig {
  readonly id: string;
  readonly sources: ReadonlyMap<string, SourceConfig>;
  readonly destinations: ReadonlyMap<string, DestinationConfig>;
  readonly routes: readonly RouteConfig[];
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly configPath?: string;
  readonly logLevel: LogLevel;
  /** Absent: the admin API is off (404). */
  readonly adminToken?: string;
  readonly intake: {
    readonly bodyLimitBytes: number;
    /** Default replay/timestamp tolerance for schemes that do not set one. */
    readonly toleranceSeconds: number;
    /** TTL of the intake dedupe key sha256(tenant:source:eventId). */
    readonly idempotencyTtlMs: number;
    /** Group commit window: how long intake waits to batch commits (0 = next tick). */
    readonly commitWindowMs: number;
  };
  readonly queue: {
    readonly retry: RetryPolicy;
    /** Upper bound on a destination's Retry-After. */
    readonly maxRetryAfterMs: number;
    readonly leaseMs: number;
    /** Lease expiries before a job is quarantined as a poison pill. */
    readonly maxLeases: number;
    readonly concurrency: number;
    readonly pollIntervalMs: number;
    readonly dlqRetentionMs: number;
    readonly sqliteSynchronous: "full" | "normal";
  };
  readonly egress: {
    readonly allowPrivate: boolean;
  };
  /** Seed-compatible `/webhooks/generic`: tenant `default`, source `generic`; absent = route off (404). */
  readonly genericWebhookSecret?: string;
  readonly tenants: ReadonlyMap<string, TenantConfig>;
}
