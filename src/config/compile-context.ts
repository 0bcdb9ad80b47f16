/** Shared input of the compile-*.ts steps: everything besides the YAML node itself. */
import type { TenantConfig, ZenBackProviderConfig } from "./config.ts";
import type { SecretSources } from "./secrets.ts";

/** The providers a tenant may declare under `providers:`. */
export type TenantProviderName = keyof TenantConfig["providers"];

/** A tenant's Jira/ServiceNow connections, as destinations of that tenant see them. */
export interface Connections {
  readonly providers: TenantConfig["providers"];
  /**
   * Providers that were configured but did not compile: their problems are already recorded, so a
   * destination that needs one stays quiet instead of repeating "needs a connection".
   */
  readonly broken: ReadonlySet<TenantProviderName>;
}

/** What a destination compiler knows about the tenant it belongs to. */
export interface TenantScope {
  readonly id: string;
  /** After the env fallback for tenant `default`. */
  readonly connections: Connections;
}

export interface CompileContext {
  /** Where `env:` and `file:` references are resolved. */
  readonly secrets: SecretSources;
  /** Timestamp window, in seconds, for schemes that set none (`ZEN_TOLERANCE_SECONDS`). */
  readonly toleranceSeconds: number;
  /** Worker lease in ms (`ZEN_LEASE_MS`): destination timeouts must stay below it. */
  readonly leaseMs: number;
  /** The `JIRA_*` / `SERVICENOW_*` connections: tenant `default` falls back to them. */
  readonly envConnections: Connections;
  /**
   * `SLACK_API_URL` (normalized, default `https://slack.com/api/`) and `SLACK_BOT_TOKEN`: every Slack
   * destination uses the URL, and the token unless it names its own. Absent: the default URL, no token.
   */
  readonly slack?: { readonly apiUrl: string; readonly botToken?: string };
  /** `ZEN_BACK_URL` / `ZEN_BACK_APIKEY`: tenants with an approvals policy get a `_zen-back` destination. */
  readonly zenBack?: ZenBackProviderConfig;
}
