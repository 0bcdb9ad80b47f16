/**
 * The Slack Web API client of each tenant with approvals: built once per tenant from its bot token,
 * shared by the approval destination (chat.postMessage), the click handler (users.info,
 * usergroups.users.list, response_url) and the sweeper (chat.update). A tenant without a bot token
 * has no client: its request posts dead-letter with `invalid_auth` and clicks are answered with an
 * explanation.
 */
import type { Config } from "../config/config.ts";
import type { SlackApi } from "../destinations/slack/slack-api.ts";
import type { Clock } from "../ports/clock.ts";

export interface TenantSlackClients {
  forTenant(tenant: string): SlackApi | undefined;
  /** Closes every client. */
  close(): Promise<void>;
}

/** Builds one tenant's client from its bot token (the real one: `SlackClient` on the egress guard). */
export type SlackClientFactory = (tenant: string, botToken: string) => SlackApi;

/** Clients for every tenant with an approvals policy and a bot token, built by `create`. */
export function tenantSlackClients(
  config: Config,
  _clock: Clock,
  create?: SlackClientFactory,
): TenantSlackClients {
  const clients = new Map<string, SlackApi>();
  for (const tenant of config.tenants.values()) {
    // The tenant's own Slack app (YAML providers.slack; tenant default: else SLACK_BOT_TOKEN).
    const botToken = tenant.providers.slack?.botToken;
    if (!tenant.approvals || !create || botToken === undefined) continue;
    clients.set(tenant.id, create(tenant.id, botToken));
  }
  return {
    forTenant: (tenant) => clients.get(tenant),
    close: async () => {
      await Promise.allSettled([...clients.values()].map((client) => client.close()));
    },
  };
}
