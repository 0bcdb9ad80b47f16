/**
 * A `SlackClient` as the service configures every one it builds outside a `type: slack` destination
 * (approvals, the slash-command responder): `SLACK_API_URL`, sockets through the egress guard with the
 * operator's allowances, Retry-After bounded by `ZEN_MAX_RETRY_AFTER`.
 */
import type { Config } from "../../config/config.ts";
import { defaultSlackApiUrl } from "../../config/providers.ts";
import type { Clock } from "../../ports/clock.ts";
import { createEgressGuard } from "../egress/egress-guard.ts";
import { SlackClient } from "./slack-client.ts";

/** `token`: the bot token; "" for a client that only posts to `response_url`s (which need none). */
export function slackClientFromConfig(config: Config, clock: Clock, token: string): SlackClient {
  return new SlackClient({
    token,
    apiUrl: config.providers.slack?.apiUrl ?? defaultSlackApiUrl,
    connectorFactory: createEgressGuard({
      allowPrivate: config.egress.allowPrivate,
      allowCidrs: config.egress.allowCidrs,
    }),
    maxRetryAfterMs: config.queue.maxRetryAfterMs,
    clock,
  });
}
