/**
 * What the service needs from Slack's Web API and from `response_url`s, as one port. The real
 * implementation (slack-client.ts) wraps `@slack/web-api` (retries off: our queue owns retries) on an
 * egress-guarded undici dispatcher, with `SLACK_API_URL` as its base; tests point it at the fake Slack
 * (test/fakes/fake-slack.ts). Every method maps Slack's failures into our error vocabulary:
 * `RetryableError`, `RetryAfterError` or `PermanentError` (domain/errors.ts) carrying Slack's error
 * code (`channel_not_found`, `ratelimited`, …) in the message, never the token.
 */

/** A Block Kit block; kept loose on purpose: templates produce them and Slack validates them. */
export type SlackBlock = Readonly<Record<string, unknown>>;

export interface SlackMessage {
  /** Plain-text fallback for notifications; always sent, even with blocks. */
  readonly text: string;
  readonly blocks?: readonly SlackBlock[];
}

export interface PostMessageArgs extends SlackMessage {
  readonly channel: string;
  /** Post as a reply in this thread. */
  readonly threadTs?: string;
}

export interface UpdateMessageArgs extends SlackMessage {
  readonly channel: string;
  readonly ts: string;
}

/** Where a message landed: what `chat.update` and threads need later. */
export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

export interface SlackUser {
  readonly id: string;
  /** Present when the app has `users:read.email` and the user has one. */
  readonly email?: string;
  readonly name?: string;
}

/** A `response_url` post (interactions, slash commands): at most 5 per URL within 30 minutes. */
export interface ResponseMessage extends SlackMessage {
  readonly responseType?: "ephemeral" | "in_channel";
  /** Replace the message the button was clicked on. */
  readonly replaceOriginal?: boolean;
}

export interface SlackApi {
  /** `chat.postMessage`. */
  postMessage(args: PostMessageArgs, signal?: AbortSignal): Promise<PostedMessage>;
  /** `chat.update`. */
  updateMessage(args: UpdateMessageArgs, signal?: AbortSignal): Promise<PostedMessage>;
  /** `users.info`. */
  userInfo(userId: string, signal?: AbortSignal): Promise<SlackUser>;
  /** `usergroups.users.list`: the user ids in a user group (`S…`). */
  userGroupMembers(groupId: string, signal?: AbortSignal): Promise<readonly string[]>;
  /** `auth.test`: checks the token; used by readiness and `zen config check --online`. */
  authTest(signal?: AbortSignal): Promise<{ readonly teamId: string; readonly userId: string }>;
  /** POSTs JSON to a Slack `response_url` (only `https://hooks.slack.com/` or the configured test base). */
  respond(responseUrl: string, message: ResponseMessage, signal?: AbortSignal): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
