/**
 * Compiles a `type: slack` destination (SlackDestinationConfig): `chat.postMessage` to one channel,
 * with the node's own bot token (`token: env:NAME` / `file:/path`), else the tenant's
 * (`providers.slack.botToken`), else `SLACK_BOT_TOKEN`.
 * The Web API base is `SLACK_API_URL` for every Slack destination.
 */

import { checkTimeoutBelowLease } from "./compile-common.ts";
import type { CompileContext, TenantScope } from "./compile-context.ts";
import { compileDestinationTemplates } from "./compile-templates.ts";
import type { SlackDestinationConfig } from "./config.ts";
import { slackDestinationSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { defaultSlackApiUrl } from "./providers.ts";
import { resolveSecret } from "./secrets.ts";
import { parseNode } from "./zod-issues.ts";

/**
 * @returns the destination, or undefined after recording its problems. Defaults: token
 *   `SLACK_BOT_TOKEN`, onRepeat `thread`, timeoutMs 30 000 (below the lease). Without any token the
 *   problem names the `token` field.
 */
export function compileSlackDestination(
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
): SlackDestinationConfig | undefined {
  const node = parseNode(slackDestinationSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  let token: string | undefined;
  let tokenFrom: SlackDestinationConfig["tokenFrom"] = "yaml";
  if (node.token !== undefined) {
    const resolved = resolveSecret(node.token, ctx.secrets);
    if (resolved.ok) token = resolved.value.trim();
    else problems.at([...path, "token"], resolved.message);
  } else if (tenant.connections.providers.slack?.botToken !== undefined) {
    // The tenant's own Slack app (providers.slack.botToken; tenant default: its env fallback).
    token = tenant.connections.providers.slack.botToken;
    tokenFrom = "tenant";
  } else if (ctx.slack?.botToken !== undefined) {
    token = ctx.slack.botToken;
    tokenFrom = "env";
  } else {
    problems.at(
      [...path, "token"],
      "no Slack bot token: set token: env:NAME (or file:/path) here, providers.slack.botToken on the tenant, or SLACK_BOT_TOKEN",
    );
  }
  if (token === "") problems.at([...path, "token"], "the referenced Slack bot token is empty");
  checkTimeoutBelowLease(node.timeoutMs, [...path, "timeoutMs"], ctx, problems);
  const templates = compileDestinationTemplates(
    "slack",
    node.templates,
    [...path, "templates"],
    ctx.secrets,
    problems,
  );
  if (problems.count > before || token === undefined) return undefined;
  return {
    type: "slack",
    id: node.id,
    tenant: tenant.id,
    channel: node.channel,
    token,
    tokenFrom,
    apiUrl: ctx.slack?.apiUrl ?? defaultSlackApiUrl,
    onRepeat: node.onRepeat,
    timeoutMs: node.timeoutMs,
    ...(node.rateLimit && { rateLimit: node.rateLimit }),
    ...(node.redact === false && { redact: false as const }),
    ...(templates && { templates }),
  };
}
