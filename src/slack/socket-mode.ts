/**
 * Slack over Socket Mode (for deployments that cannot expose an HTTP endpoint): one official
 * `@slack/socket-mode` client per tenant whose Slack app has an app-level token (`SLACK_APP_TOKEN` for
 * tenant `default`, `providers.slack.appToken` for others). The client calls `apps.connections.open`
 * on `SLACK_API_URL` and holds the WebSocket; envelopes feed the same pipeline as HTTP:
 *
 * - `events_api` → `Intake.acceptFromSocketMode` (dedupe on `event_id`, durable enqueue), acked only
 *   after the commit; a store failure leaves it unacked so Slack redelivers it.
 * - `slash_commands` → the `/zen` command handler; its reply is the ack payload.
 * - `interactive` → the `block_actions` dispatch; its reply (if any) is the ack payload.
 *
 * Trust: there is no request signature here; the connection was opened with the tenant's app token,
 * which authenticates every envelope on it. As over HTTP (tenants.ts), an envelope is accepted only
 * for the tenant its workspace resolves to, and only on that tenant's own connection: an envelope
 * naming another tenant's team is acked (redelivery cannot change it), logged and dropped.
 *
 * The client's own logger is bridged to ours at info and above: its debug lines print whole payloads.
 */
import { LogLevel, type Logger as SlackLogger, SocketModeClient } from "@slack/socket-mode";
import { slackSourceId } from "../config/compile-slack.ts";
import type { Config, RetryPolicy, TenantConfig } from "../config/config.ts";
import { defaultSlackApiUrl } from "../config/providers.ts";
import { computeBackoffMs } from "../domain/backoff.ts";
import { HttpError } from "../domain/errors.ts";
import type { Intake } from "../intake/intake.ts";
import type { Logger } from "../observability/logger.ts";
import { slashCommandFrom, type ZenCommands } from "./commands.ts";
import {
  type BlockActionsDispatcher,
  interactionFromObject,
  interactionReplyBody,
} from "./interaction-dispatch.ts";
import { type SlackTeamIds, SlackTenantMap, teamIdsOfFields, teamIdsOfInteraction } from "./tenants.ts";

/**
 * Reconnecting after `start` failed (Slack unreachable, `apps.connections.open` refused): 1 s, 2 s,
 * 4 s … capped at 1 min, full jitter. Disconnects of a live socket are the client's own business
 * (it reconnects by itself).
 */
export const socketModeReconnectPolicy: RetryPolicy = Object.freeze({
  attempts: Number.POSITIVE_INFINITY,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  factor: 2,
  jitter: true,
});

export interface SlackSocketModeDeps {
  readonly config: Config;
  readonly intake: Intake;
  readonly commands: ZenCommands;
  readonly interactions: BlockActionsDispatcher;
  readonly logger: Logger;
  /** Randomness for the reconnect jitter; default Math.random. */
  readonly random?: () => number;
}

/** What the client hands every envelope listener (`slack_event`). */
interface Envelope {
  readonly ack: (response?: Record<string, unknown>) => Promise<void>;
  readonly envelope_id: string;
  readonly type: string;
  readonly body: unknown;
  readonly retry_num?: number;
  readonly retry_reason?: string;
}

interface Connection {
  readonly tenant: TenantConfig;
  readonly client: SocketModeClient;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** Every tenant's Socket Mode connection; `start` with the service, `stop` first on shutdown. */
export class SlackSocketMode {
  private readonly deps: SlackSocketModeDeps;
  private readonly tenants: SlackTenantMap;
  private readonly connections: Connection[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(deps: SlackSocketModeDeps) {
    this.deps = deps;
    this.tenants = new SlackTenantMap(deps.config);
  }

  /** How many tenants receive over Socket Mode. */
  get size(): number {
    return this.connections.length;
  }

  /** Opens a connection per tenant with an app token, in the background (never blocks startup). */
  start(): void {
    const apiUrl = this.deps.config.providers.slack?.apiUrl ?? defaultSlackApiUrl;
    for (const tenant of this.deps.config.tenants.values()) {
      const appToken = tenant.providers.slack?.appToken;
      if (appToken === undefined || !tenant.sources.has(slackSourceId)) continue;
      const client = new SocketModeClient({
        appToken,
        logger: bridgeLogger(this.deps.logger, tenant.id),
        // Our reconnect loop (below) owns retrying apps.connections.open, so `stop` can end it.
        clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
      });
      const connection: Connection = { tenant, client, failures: 0 };
      client.on("slack_event", (envelope: Envelope) => this.track(this.onEnvelope(tenant, envelope)));
      this.connections.push(connection);
      this.connect(connection);
    }
  }

  /** Closes every connection, then waits for envelopes already being handled (their acks included). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const connection of this.connections) clearTimeout(connection.timer);
    await Promise.allSettled(this.connections.map((c) => c.client.disconnect()));
    await Promise.allSettled([...this.inFlight]);
    if (this.connections.length > 0)
      this.deps.logger.info({ connections: this.connections.length }, "slack socket mode stopped");
  }

  private connect(connection: Connection): void {
    const tenant = connection.tenant.id;
    connection.client.start().then(
      () => {
        connection.failures = 0;
        this.deps.logger.info({ tenant }, "slack socket mode connected");
      },
      (err: unknown) => {
        if (this.stopped) return;
        connection.failures++;
        const delayMs = computeBackoffMs(
          socketModeReconnectPolicy,
          connection.failures,
          this.deps.random ?? Math.random,
        );
        this.deps.logger.error(
          { tenant, attempt: connection.failures, retryInMs: delayMs, error: errorText(err) },
          "slack socket mode could not connect",
        );
        connection.timer = setTimeout(() => this.connect(connection), delayMs);
        connection.timer.unref();
      },
    );
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async onEnvelope(tenant: TenantConfig, envelope: Envelope): Promise<void> {
    const fields = { tenant: tenant.id, envelopeId: envelope.envelope_id.slice(0, 64), type: envelope.type };
    try {
      switch (envelope.type) {
        case "events_api":
          return await this.onEvent(tenant, envelope, fields);
        case "slash_commands": {
          this.requireTenant(teamIdsOfFields(envelope.body), tenant);
          const reply = await this.deps.commands.handle(slashCommandFrom(envelope.body), tenant);
          return await envelope.ack({ ...reply });
        }
        case "interactive": {
          const interaction = interactionFromObject(envelope.body);
          this.requireTenant(teamIdsOfInteraction(interaction.raw), tenant);
          const reply = interactionReplyBody(await this.deps.interactions.dispatch(interaction, tenant.id));
          return await envelope.ack(reply && { ...reply });
        }
        default:
          this.deps.logger.debug(fields, "slack socket mode envelope acknowledged");
          return await envelope.ack();
      }
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) {
        // The envelope itself is wrong: a redelivery would be refused again, so ack it away.
        this.deps.logger.warn({ ...fields, code: err.code }, "slack socket mode envelope refused");
        await envelope.ack().catch(() => undefined);
        return;
      }
      // Not acked: Slack redelivers it (retry_attempt), and the event_id dedupe keeps that safe.
      this.deps.logger.error(
        { ...fields, error: errorText(err) },
        "slack socket mode envelope failed; not acked",
      );
    }
  }

  private async onEvent(
    tenant: TenantConfig,
    envelope: Envelope,
    fields: Record<string, unknown>,
  ): Promise<void> {
    this.requireTenant(teamIdsOfFields(envelope.body), tenant);
    const result = await this.deps.intake.acceptFromSocketMode(tenant.id, slackSourceId, envelope.body);
    await envelope.ack();
    if (envelope.retry_num !== undefined && envelope.retry_num > 0) {
      this.deps.logger.info(
        {
          ...fields,
          status: result.status,
          retryNum: envelope.retry_num,
          retryReason: envelope.retry_reason ?? "unknown",
        },
        "slack event retry received",
      );
    }
  }

  /** See the module header: the workspace must belong to the tenant whose token opened the socket. */
  private requireTenant(ids: SlackTeamIds, tenant: TenantConfig): void {
    if (this.tenants.tenantOf(ids) !== tenant.id) {
      throw new HttpError("signature_invalid", "the envelope's workspace belongs to another tenant");
    }
  }
}

/** The client's log lines at info and above, as ours; debug (whole payloads) is dropped. */
function bridgeLogger(logger: Logger, tenant: string): SlackLogger {
  const line =
    (level: "info" | "warn" | "error") =>
    (...msg: unknown[]) =>
      logger[level]({ tenant, component: "slack-socket-mode" }, msg.map(String).join(" ").slice(0, 300));
  return {
    debug: () => undefined,
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 300);
}
