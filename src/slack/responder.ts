/**
 * The `response_url` poster of slash commands whose answer misses Slack's 3 s: a `SlackClient` used
 * only for `respond` (a response_url needs no token, so none is given and no Web API method is ever
 * called through it). Its socket goes through the egress guard like every outbound request, and it
 * posts only to `https://hooks.slack.com/…` or the `SLACK_API_URL` origin (slack-client.ts).
 */
import type { Config } from "../config/config.ts";
import { slackClientFromConfig } from "../destinations/slack/configured-client.ts";
import type { SlackClient } from "../destinations/slack/slack-client.ts";
import type { Clock } from "../ports/clock.ts";
import type { Respond } from "./commands.ts";

export interface SlackResponder {
  readonly respond: Respond;
  close(): Promise<void>;
}

/** The client is built on the first late answer: most services never need one. */
export function createSlackResponder(config: Config, clock: Clock): SlackResponder {
  let client: SlackClient | undefined;
  return {
    respond: (responseUrl, message) => {
      client ??= slackClientFromConfig(config, clock, "");
      return client.respond(responseUrl, message);
    },
    close: async () => client?.close(),
  };
}
