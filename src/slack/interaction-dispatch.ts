/**
 * Interactions (providers.md §1.3), after verification: the `payload` form field parsed into a typed
 * payload, `block_actions` handed to the handler owning the clicked `action_id` prefix
 * (interactions.ts), every other type acknowledged. Shared by `POST /slack/interactions` and Socket
 * Mode `interactive` envelopes, which carry the same payload object without the form wrapper.
 */
import { HttpError } from "../domain/errors.ts";
import { maxJsonDepth, parseJson } from "../intake/parse-body.ts";
import type { Logger } from "../observability/logger.ts";
import type { BlockActionsHandler, BlockActionsPayload, InteractionReply } from "./interactions.ts";

/** An interaction payload: a typed `block_actions`, or any other type, kept for the log line. */
export type Interaction = { readonly raw: Readonly<Record<string, unknown>> } & (
  | { readonly type: "block_actions"; readonly payload: BlockActionsPayload }
  | { readonly type: "other"; readonly payloadType: string }
);

/** Slack sends one action per click; a payload with more than this many is not Slack's. */
const maxActions = 25;

/**
 * The interaction in a verified `application/x-www-form-urlencoded` body (`payload=<JSON>`).
 * @throws HttpError `malformed_body` when `payload` is missing, repeated, not JSON or not a payload.
 */
export function interactionFromForm(fields: unknown): Interaction {
  const payload = isRecord(fields) ? fields.payload : undefined;
  if (typeof payload !== "string") {
    throw new HttpError(
      "malformed_body",
      Array.isArray(payload)
        ? "form field payload is repeated; send it once"
        : "form field payload is missing; interactions are sent as payload=<JSON>",
    );
  }
  const parsed = parseJsonField(payload);
  return interactionFromObject(parsed);
}

/**
 * The interaction in a parsed payload object (Socket Mode `interactive` envelopes carry it as is).
 * @throws HttpError `malformed_body` when it is no payload or a `block_actions` lacks a required part.
 */
export function interactionFromObject(raw: unknown): Interaction {
  if (!isRecord(raw) || typeof raw.type !== "string" || raw.type === "") {
    throw new HttpError("malformed_body", "interaction payload must be a JSON object with a string type");
  }
  if (raw.type !== "block_actions") return { type: "other", payloadType: raw.type.slice(0, 64), raw };
  return { type: "block_actions", payload: blockActions(raw), raw };
}

/**
 * Routes `block_actions` payloads to their handlers by `action_id` prefix. A click no handler owns is
 * acknowledged (empty 200) and logged at debug: buttons of other apps' messages, stale buttons.
 */
export class BlockActionsDispatcher {
  private readonly handlers: readonly BlockActionsHandler[];
  private readonly logger: Logger;

  constructor(handlers: readonly BlockActionsHandler[], logger: Logger) {
    this.handlers = handlers;
    this.logger = logger;
  }

  /** The reply for `interaction` in `tenant`; never throws (a failing handler is logged and explained). */
  async dispatch(interaction: Interaction, tenant: string): Promise<InteractionReply> {
    if (interaction.type === "other") {
      this.logger.info({ tenant, payloadType: interaction.payloadType }, "slack interaction acknowledged");
      return { kind: "ack" };
    }
    const { payload } = interaction;
    for (const action of payload.actions) {
      const handler = this.handlers.find((h) => action.action_id.startsWith(h.actionPrefix));
      if (!handler) continue;
      const fields = { tenant, actionPrefix: handler.actionPrefix, user: payload.user.id };
      try {
        const reply = await handler.handle(payload, { tenant });
        this.logger.info({ ...fields, reply: reply.kind }, "slack block action handled");
        return reply;
      } catch (err) {
        this.logger.error({ ...fields, err }, "slack block action handler failed");
        return { kind: "ephemeral", text: "Sorry, that click could not be handled; the error was logged." };
      }
    }
    this.logger.debug(
      { tenant, actions: payload.actions.map((a) => a.action_id.slice(0, 64)) },
      "slack block action has no handler",
    );
    return { kind: "ack" };
  }
}

/** The JSON body answering an interaction: undefined for a bare ack (empty 200). */
export function interactionReplyBody(
  reply: InteractionReply,
): { readonly response_type: "ephemeral"; readonly text: string } | undefined {
  switch (reply.kind) {
    case "ack":
      return undefined;
    case "ephemeral":
      return { response_type: "ephemeral", text: reply.text };
    default: {
      const _exhaustive: never = reply;
      return _exhaustive;
    }
  }
}

function blockActions(raw: Record<string, unknown>): BlockActionsPayload {
  const team = record(raw.team, "team");
  const user = record(raw.user, "user");
  const teamId = string(team.id, "team.id");
  const userId = string(user.id, "user.id");
  if (!Array.isArray(raw.actions) || raw.actions.length === 0 || raw.actions.length > maxActions) {
    throw new HttpError("malformed_body", `block_actions payload needs 1 to ${maxActions} actions`);
  }
  const actions = raw.actions.map((item, i) => {
    const action = record(item, `actions[${i}]`);
    return {
      action_id: string(action.action_id, `actions[${i}].action_id`),
      type: string(action.type, `actions[${i}].type`),
      ...optionalString(action, "block_id"),
      ...optionalString(action, "value"),
      ...optionalString(action, "action_ts"),
    };
  });
  const channel =
    isRecord(raw.channel) && typeof raw.channel.id === "string" ? { id: raw.channel.id } : undefined;
  const container = isRecord(raw.container)
    ? {
        ...optionalString(raw.container, "message_ts"),
        ...optionalString(raw.container, "channel_id"),
      }
    : undefined;
  const message =
    isRecord(raw.message) && typeof raw.message.ts === "string"
      ? { ts: raw.message.ts, ...optionalString(raw.message, "text") }
      : undefined;
  return {
    type: "block_actions",
    team: { id: teamId },
    user: { id: userId, ...optionalString(user, "username"), ...optionalString(user, "name") },
    ...(channel && { channel }),
    ...(container && { container }),
    ...(message && { message }),
    ...optionalString(raw, "response_url"),
    ...optionalString(raw, "trigger_id"),
    actions,
    raw,
  };
}

function parseJsonField(text: string): unknown {
  try {
    return parseJson(Buffer.from(text, "utf8"));
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    throw new HttpError(
      "malformed_body",
      `form field payload is not a JSON object (at most ${maxJsonDepth} levels deep)`,
    );
  }
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (!isRecord(value))
    throw new HttpError("malformed_body", `block_actions payload: ${name} must be an object`);
  return value;
}

function string(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new HttpError("malformed_body", `block_actions payload: ${name} must be a non-empty string`);
  }
  return value;
}

function optionalString<K extends string>(from: Record<string, unknown>, key: K): { [P in K]?: string } {
  const value = from[key];
  return (typeof value === "string" ? { [key]: value } : {}) as { [P in K]?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
