/**
 * The seam between Slack intake (`POST /slack/interactions`, Socket Mode `interactive` envelopes) and
 * the features that own buttons. Intake verifies the request, parses the `payload` form field and
 * hands each `block_actions` payload to the handler that owns the clicked action's `action_id` prefix
 * (`zen_approval:` → approvals). The handler answers within Slack's 3 s: its reply is sent as the HTTP
 * response (or the Socket Mode ack payload); slow follow-ups go through `response_url`.
 */

/** The parts of a `block_actions` payload we use (providers.md §1.3); the rest is kept in `raw`. */
export interface BlockActionsPayload {
  readonly type: "block_actions";
  readonly team: { readonly id: string };
  readonly user: { readonly id: string; readonly username?: string; readonly name?: string };
  readonly channel?: { readonly id: string };
  readonly container?: { readonly message_ts?: string; readonly channel_id?: string };
  readonly message?: { readonly ts: string; readonly text?: string };
  readonly response_url?: string;
  readonly trigger_id?: string;
  readonly actions: readonly {
    readonly action_id: string;
    readonly block_id?: string;
    readonly value?: string;
    readonly action_ts?: string;
    readonly type: string;
  }[];
  readonly raw: Readonly<Record<string, unknown>>;
}

/** What intake answers Slack: nothing (empty 200), or an ephemeral message to the clicking user. */
export type InteractionReply =
  | { readonly kind: "ack" }
  | { readonly kind: "ephemeral"; readonly text: string };

export interface BlockActionsHandler {
  /** `action_id` prefix this handler owns, e.g. `zen_approval:`. */
  readonly actionPrefix: string;
  /**
   * Handles one click. `tenant` is the tenant the Slack workspace (`team.id`) belongs to. Must not
   * throw for user mistakes (unauthorized, expired): those are an ephemeral reply.
   */
  handle(payload: BlockActionsPayload, context: { readonly tenant: string }): Promise<InteractionReply>;
}
