/**
 * The `/zen` slash command (providers.md §1.4), after verification: `help`, `status` (integrations and
 * circuit breakers of the user's tenant, as `/admin/integrations` and `/admin/breakers` show them) and
 * `dlq` (dead-letter counts and the last failures). Shared by `POST /slack/commands` and Socket Mode
 * `slash_commands` envelopes.
 *
 * Slack wants an answer within 3 s. Every command races {@link commandReplyDeadlineMs}: an answer
 * ready in time is the reply itself (ephemeral JSON); a slower one (a large DLQ, a slow store) is
 * acknowledged at the deadline and posted to the command's `response_url` when done.
 *
 * Replies only ever show what the admin API shows, scoped to the tenant the workspace belongs to, and
 * pass through the tenant's redaction policy: DLQ errors quote provider answers, which may hold
 * anything.
 */

import type { TenantConfig } from "../config/config.ts";
import type { BreakerSnapshot } from "../delivery/circuit-breakers.ts";
import { escapeSlack } from "../destinations/slack/escape.ts";
import type { ResponseMessage } from "../destinations/slack/slack-api.ts";
import { HttpError } from "../domain/errors.ts";
import type { IntegrationRegistry } from "../integrations/registry.ts";
import type { Logger } from "../observability/logger.ts";
import type { DlqEntry, Queue } from "../ports/queue.ts";
import { redactText } from "../redaction/redact-text.ts";

/** Answer inline when ready within this; else ack and post to `response_url` (Slack's limit is 3 s). */
export const commandReplyDeadlineMs = 2_000;
/** DLQ entries read per page while counting, and at most in total (beyond: "at least N"). */
const dlqPageSize = 500;
const maxDlqScanned = 10_000;
/** Failures listed by `/zen dlq`. */
const lastFailures = 5;
/** Longest error text quoted per failure. */
const maxErrorChars = 200;

/** The fields of a slash command we use. */
export interface SlashCommand {
  /** As registered, e.g. `/zen`. */
  readonly command: string;
  /** Everything after the command. */
  readonly text: string;
  readonly userId: string;
  readonly responseUrl?: string;
}

/** An ephemeral answer (only the user who typed the command sees it). */
export interface CommandReply {
  readonly response_type: "ephemeral";
  readonly text: string;
}

/** Posts a message to a `response_url` (SlackApi.respond). */
export type Respond = (responseUrl: string, message: ResponseMessage) => Promise<void>;

export interface ZenCommandsDeps {
  readonly queue: Pick<Queue, "listDlq">;
  readonly integrations: Pick<IntegrationRegistry, "list">;
  readonly breakers: () => readonly BreakerSnapshot[];
  /** Where late answers go; absent: a late answer is logged and the user asked to retry. */
  readonly respond?: Respond;
  readonly logger: Logger;
  /** Default {@link commandReplyDeadlineMs}. */
  readonly replyDeadlineMs?: number;
}

/**
 * The command in verified form fields (HTTP) or an envelope payload (Socket Mode).
 * @throws HttpError `malformed_body` when `command` or `user_id` is missing or a field is repeated.
 */
export function slashCommandFrom(fields: unknown): SlashCommand {
  const record = typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {};
  const field = (name: string, required: boolean): string | undefined => {
    const value = record[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== "string" || (required && value === "")) {
      throw new HttpError(
        "malformed_body",
        Array.isArray(value) ? `form field ${name} is repeated` : `form field ${name} is missing`,
      );
    }
    return value;
  };
  const command = field("command", true) ?? "";
  const userId = field("user_id", true) ?? "";
  const responseUrl = field("response_url", false);
  return {
    command,
    text: field("text", false) ?? "",
    userId,
    ...(responseUrl !== undefined && responseUrl !== "" && { responseUrl }),
  };
}

export class ZenCommands {
  private readonly deps: ZenCommandsDeps;
  private readonly late = new Set<Promise<void>>();

  constructor(deps: ZenCommandsDeps) {
    this.deps = deps;
  }

  /** The reply to `command` from a workspace of `tenant`, within the deadline. Never throws. */
  async handle(command: SlashCommand, tenant: TenantConfig): Promise<CommandReply> {
    const subcommand = command.text.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    const fields = { tenant: tenant.id, user: command.userId, subcommand: subcommand.slice(0, 32) };
    const work = this.answer(command, subcommand, tenant).then((text) => ephemeral(safeText(text, tenant)));
    const deadlineMs = this.deps.replyDeadlineMs ?? commandReplyDeadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), deadlineMs);
    });
    // A failure becomes the error reply (logged once), whether it comes before or after the deadline.
    const settled = work.catch((err: unknown) => this.failed(err, fields));
    const first = await Promise.race([settled, deadline]);
    clearTimeout(timer);
    if (first !== "late") {
      this.deps.logger.info(fields, "slack command answered");
      return first;
    }
    const { respond } = this.deps;
    if (!respond || command.responseUrl === undefined) {
      this.deps.logger.warn(
        { ...fields, deadlineMs },
        "slack command too slow and no response_url to answer on",
      );
      return ephemeral("That took too long to answer; please try again in a moment.");
    }
    const responseUrl = command.responseUrl;
    const followUp = settled
      .then((reply) => respond(responseUrl, { text: reply.text, responseType: "ephemeral" }))
      .then(
        () => this.deps.logger.info(fields, "slack command answered on response_url"),
        (err: unknown) =>
          this.deps.logger.error({ ...fields, err }, "slack command response_url post failed"),
      )
      .finally(() => this.late.delete(followUp));
    this.late.add(followUp);
    this.deps.logger.info(
      { ...fields, deadlineMs },
      "slack command acknowledged; answer follows on response_url",
    );
    return ephemeral("Working on it… the answer follows here in a moment.");
  }

  /** Waits for answers still being posted to `response_url` (graceful shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.late]);
  }

  private failed(err: unknown, fields: Record<string, string>): CommandReply {
    this.deps.logger.error({ ...fields, err }, "slack command failed");
    return ephemeral("Sorry, that command failed; the error was logged.");
  }

  private async answer(command: SlashCommand, subcommand: string, tenant: TenantConfig): Promise<string> {
    switch (subcommand) {
      case "status":
        return this.status(tenant);
      case "dlq":
        return this.dlq(tenant);
      case "":
      case "help":
        return help(command.command);
      default:
        return `Unknown subcommand \`${mrkdwn(subcommand.slice(0, 32))}\`.\n${help(command.command)}`;
    }
  }

  private status(tenant: TenantConfig): string {
    const integrations = this.deps.integrations.list().filter((item) => item.tenant === tenant.id);
    const breakers = this.deps.breakers().filter((item) => item.tenant === tenant.id);
    const lines = [`*Status of tenant \`${mrkdwn(tenant.id)}\`*`, "*Integrations*"];
    if (integrations.length === 0) lines.push("• none configured");
    for (const item of integrations) {
      const error = item.lastError === null ? "" : ` (last error: ${mrkdwn(cut(item.lastError))})`;
      lines.push(`• ${item.kind} \`${mrkdwn(item.id)}\` (${mrkdwn(item.type)}): *${item.status}*${error}`);
    }
    lines.push("*Circuit breakers*");
    if (breakers.length === 0) lines.push("• none");
    for (const breaker of breakers) {
      const retry =
        breaker.retryAt === null ? "" : `, probes again at ${new Date(breaker.retryAt).toISOString()}`;
      lines.push(`• \`${mrkdwn(breaker.destination)}\`: *${breaker.state}*${retry}`);
    }
    return lines.join("\n");
  }

  private async dlq(tenant: TenantConfig): Promise<string> {
    const byDestination = new Map<string, number>();
    const byReason = new Map<string, number>();
    const newest: DlqEntry[] = [];
    let scanned = 0;
    let cursor: string | undefined;
    do {
      const page = await this.deps.queue.listDlq(
        { tenant: tenant.id },
        { limit: dlqPageSize, ...(cursor !== undefined && { cursor }) },
      );
      for (const entry of page.items) {
        if (newest.length < lastFailures) newest.push(entry);
        byDestination.set(entry.destination, (byDestination.get(entry.destination) ?? 0) + 1);
        byReason.set(entry.reason, (byReason.get(entry.reason) ?? 0) + 1);
      }
      scanned += page.items.length;
      cursor = page.next ?? undefined;
    } while (cursor !== undefined && scanned < maxDlqScanned);
    const title = `*Dead-letter queue of tenant \`${mrkdwn(tenant.id)}\`*`;
    if (scanned === 0) return `${title}: empty`;
    const total = cursor === undefined ? `${scanned}` : `at least ${scanned}`;
    const lines = [
      `${title}: ${total} entries`,
      `• by destination: ${counts(byDestination)}`,
      `• by reason: ${counts(byReason)}`,
      `*Last ${newest.length} failures*`,
    ];
    for (const entry of newest) {
      const error = entry.lastError === null ? "" : `: ${mrkdwn(cut(entry.lastError))}`;
      lines.push(
        `• ${new Date(entry.failedAt).toISOString()} \`${mrkdwn(entry.destination)}\` event \`${mrkdwn(cut(entry.eventId))}\`, ${entry.reason} after ${entry.attempts} attempts${error}`,
      );
    }
    return lines.join("\n");
  }
}

function help(command: string): string {
  const name = mrkdwn(command.slice(0, 32));
  return [
    `*${name}* commands:`,
    `• \`${name} status\`: integrations and circuit breakers of your tenant`,
    `• \`${name} dlq\`: dead-letter counts and the last failures`,
    `• \`${name} help\`: this text`,
  ].join("\n");
}

function ephemeral(text: string): CommandReply {
  return { response_type: "ephemeral", text };
}

/** The reply text under the tenant's redaction policy; if that fails, nothing of it is shown. */
function safeText(text: string, tenant: TenantConfig): string {
  try {
    return redactText(text, tenant.redaction).text;
  } catch {
    return "The answer could not be redacted safely, so it is not shown; see the admin API.";
  }
}

function counts(map: ReadonlyMap<string, number>): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `\`${mrkdwn(key)}\` ${n}`)
    .join(", ");
}

function cut(text: string): string {
  return text.length > maxErrorChars ? `${text.slice(0, maxErrorChars)}…` : text;
}

/** Slack mrkdwn control characters (its docs: escape `&`, `<`, `>`); backticks would break code spans. */
function mrkdwn(text: string): string {
  return escapeSlack(text).replaceAll("`", "'");
}
