/**
 * The Slack Web API client of each tenant with approvals: built once per tenant from its own bot token
 * (YAML `providers.slack.botToken`; tenant `default`: else `SLACK_BOT_TOKEN`), on `SLACK_API_URL`,
 * through the egress guard. Shared by the approval destination (chat.postMessage), the click handler
 * (users.info, usergroups.users.list, response_url) and the sweeper (chat.update). A tenant without
 * a bot token has no client: its request posts dead-letter with `invalid_auth`, and its clicks are
 * answered with an explanation.
 */
import type { Config } from "../config/config.ts";
import { slackClientFromConfig } from "../destinations/slack/configured-client.ts";
import type { SlackApi } from "../destinations/slack/slack-api.ts";
import type { Clock } from "../ports/clock.ts";

export interface TenantSlackClients {
  forTenant(tenant: string): SlackApi | undefined;
  /** Closes every client. */
  close(): Promise<void>;
}

/** Clients for every tenant with an approvals policy and a bot token. */
export function tenantSlackClients(config: Config, clock: Clock): TenantSlackClients {
  const clients = new Map<string, SlackApi>();
  for (const tenant of config.tenants.values()) {
    const botToken = tenant.providers.slack?.botToken;
    if (!tenant.approvals || botToken === undefined) continue;
    clients.set(tenant.id, slackClientFromConfig(config, clock, botToken));
  }
  return {
    forTenant: (tenant) => clients.get(tenant),
    close: async () => {
      await Promise.allSettled([...clients.values()].map((client) => client.close()));
    },
  };
}
