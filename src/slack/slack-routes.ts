/**
 * Slack over HTTP (DESIGN.md §3, providers.md §1):
 *
 * | method & path | body | answer |
 * |---|---|---|
 * | `POST /slack/events` | JSON: `url_verification`, `event_callback` | `{"challenge":…}`, or an empty 200 once durable |
 * | `POST /slack/commands` | form: a slash command (`/zen …`) | 200 `{"response_type":"ephemeral","text":…}` |
 * | `POST /slack/interactions` | form: `payload=<JSON>` (`block_actions`, …) | 200, empty or ephemeral JSON |
 *
 * Each request: `ssl_check=1` form posts get an empty 200 at once (Slack's certificate probe; nothing
 * else in the body is looked at, as Bolt strips it); then the tenant is picked from the workspace id
 * (tenants.ts, whose header holds the threat model), and intake verifies the v0 signature on the
 * raw bytes with THAT tenant's signing secrets (several during rotation), two-sided 5-minute window.
 * Events are deduped on `event_id` and enqueued durably (Slack's retries, `X-Slack-Retry-Num`, get
 * 200 and are not processed twice); commands and interactions are id-less, so the same signed
 * request twice is refused (409 `replayed`). Refusals use the common error envelope and codes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { slackSourceId } from "../config/compile-slack.ts";
import { defaultTenantId } from "../config/compile-tenants.ts";
import type { Config } from "../config/config.ts";
import { HttpError } from "../domain/errors.ts";
import type { Intake, IntakeRequest } from "../intake/intake.ts";
import { mediaType, parseForm } from "../intake/parse-body.ts";
import { distinctHeaders, publicUrl } from "../intake/webhook-routes.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { slashCommandFrom, type ZenCommands } from "./commands.ts";
import {
  type BlockActionsDispatcher,
  interactionFromForm,
  interactionReplyBody,
} from "./interaction-dispatch.ts";
import { peekTeamIds, SlackTenantMap, teamIdsOfFields, teamIdsOfInteraction } from "./tenants.ts";

export interface SlackRoutesOptions {
  readonly config: Config;
  readonly intake: Intake;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly commands: ZenCommands;
  readonly interactions: BlockActionsDispatcher;
  readonly bodyLimitBytes: number;
}

type Endpoint = "events" | "commands" | "interactions";

const formType = "application/x-www-form-urlencoded";
/** What each endpoint is sent as; anything else is refused with 415 before the body is looked at. */
const endpointTypes: Readonly<Record<Endpoint, string>> = {
  events: "application/json",
  commands: formType,
  interactions: formType,
};

export async function slackRoutes(app: FastifyInstance, options: SlackRoutesOptions): Promise<void> {
  const { config, intake, metrics, logger, commands, interactions, bodyLimitBytes } = options;
  const tenants = new SlackTenantMap(config);

  /** The checks every endpoint shares, up to the tenant; undefined when answered (ssl_check). */
  const admit = async (
    endpoint: Endpoint,
    request: FastifyRequest,
    res: FastifyReply,
  ): Promise<IntakeRequest | undefined> => {
    const headers = distinctHeaders(request);
    const rawBody = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const contentType = headers["content-type"];
    const type = typeof contentType === "string" ? mediaType(contentType) : undefined;
    if (type === formType && isSslCheck(rawBody)) {
      void res.code(200).send();
      return undefined;
    }
    if (type !== endpointTypes[endpoint]) {
      throw new HttpError(
        "unsupported_content_type",
        `Slack sends ${endpoint} as ${endpointTypes[endpoint]}; this request is not one`,
      );
    }
    const tenant = tenants.empty ? defaultTenantId : tenants.tenantOf(peekTeamIds(endpoint, type, rawBody));
    if (!intake.source(tenant, slackSourceId)) {
      throw new HttpError(
        "unknown_source",
        "Slack intake is off for this workspace: set SLACK_SIGNING_SECRET, or providers.slack.signingSecrets of its tenant",
      );
    }
    // Skipped (no promise) for the usual source without an intake limit: this runs per request.
    if (intake.limitsRate(tenant, slackSourceId)) await intake.admitRate(tenant, slackSourceId);
    return { tenant, source: slackSourceId, headers, rawBody, url: publicUrl(request) };
  };

  /** Runs one request's work with the intake latency metric. */
  const timed = async (res: FastifyReply, work: () => Promise<FastifyReply | undefined>) => {
    const started = process.hrtime.bigint();
    let outcome = "error";
    try {
      const answered = await work();
      outcome = "answered";
      return answered ?? res;
    } finally {
      metrics.intakeLatency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  app.post("/slack/events", { bodyLimit: bodyLimitBytes }, (request, res) =>
    timed(res, async () => {
      const admitted = await admit("events", request, res);
      if (!admitted) return undefined;
      const result = await intake.accept(admitted);
      const retry = retryOf(admitted.headers);
      if (retry) {
        logger.info(
          {
            tenant: admitted.tenant,
            ...retry,
            status: result.status,
            ...("eventId" in result && { eventId: result.eventId }),
          },
          "slack event retry received",
        );
      }
      if (result.status === "handshake") return res.code(200).send(result.body);
      // Slack reads only the status; an empty body is all an accepted (or duplicate) event needs.
      return res.code(200).send();
    }),
  );

  app.post("/slack/commands", { bodyLimit: bodyLimitBytes }, (request, res) =>
    timed(res, async () => {
      const admitted = await admit("commands", request, res);
      if (!admitted) return undefined;
      const verified = await intake.authenticate(admitted);
      sameTenant(tenants.tenantOf(teamIdsOfFields(verified.data)), admitted.tenant);
      const reply = await commands.handle(slashCommandFrom(verified.data), verified.tenant);
      return res.code(200).send(reply);
    }),
  );

  app.post("/slack/interactions", { bodyLimit: bodyLimitBytes }, (request, res) =>
    timed(res, async () => {
      const admitted = await admit("interactions", request, res);
      if (!admitted) return undefined;
      const verified = await intake.authenticate(admitted);
      const interaction = interactionFromForm(verified.data);
      sameTenant(tenants.tenantOf(teamIdsOfInteraction(interaction.raw)), admitted.tenant);
      const reply = interactionReplyBody(await interactions.dispatch(interaction, admitted.tenant));
      return reply === undefined ? res.code(200).send() : res.code(200).send(reply);
    }),
  );
}

/**
 * Slack's certificate probe: a form post whose `ssl_check` is `1`. It carries no signature, so
 * nothing else in it may be used: the caller answers an empty 200 and drops the body.
 */
function isSslCheck(rawBody: Buffer): boolean {
  try {
    return parseForm(rawBody).ssl_check === "1";
  } catch {
    return false;
  }
}

/** `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` of a redelivery, for the log line. */
function retryOf(headers: IntakeRequest["headers"]): { retryNum: string; retryReason: string } | undefined {
  const num = headers["x-slack-retry-num"];
  if (typeof num !== "string") return undefined;
  const reason = headers["x-slack-retry-reason"];
  return {
    retryNum: num.slice(0, 8),
    retryReason: typeof reason === "string" ? reason.slice(0, 32) : "unknown",
  };
}

/**
 * Defence in depth: the verified body must name the tenant whose secret verified it. The tenant was
 * picked with the same parser from the same bytes, so this cannot differ unless that changes.
 */
function sameTenant(verifiedTenant: string, chosenTenant: string): void {
  if (verifiedTenant !== chosenTenant) {
    throw new HttpError(
      "signature_invalid",
      "the request's workspace does not belong to the tenant it was verified for",
    );
  }
}
