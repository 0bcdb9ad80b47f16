/**
 * Slack's parts of the config: a tenant's `providers.slack` block, the source `slack` it implies, and
 * the team → tenant map's one rule (a team belongs to at most one tenant).
 *
 * - `providers.slack.signingSecrets` (YAML) or `SLACK_SIGNING_SECRET` (tenant `default`) → source
 *   `slack` (preset slack) with those secrets: the source `POST /slack/*` and its routes use.
 * - `appToken` without signing secrets → source `slack` with no secrets: Socket Mode only; intake
 *   refuses every HTTP request for it (see intake.ts, `socketModeOnly`).
 * - A tenant that declares `providers.slack` and also a source `slack` of its own is a conflict.
 */
import { presetProfile } from "../intake/verify/presets.ts";
import type { CompileContext } from "./compile-context.ts";
import type { TenantDraft } from "./compile-tenants.ts";
import type { SlackProviderConfig, TenantSlackConfig } from "./config.ts";
import { slackProviderSchema } from "./file-schema.ts";
import { envLocation, type FieldPath, formatPath, type Problems } from "./problems.ts";
import { slackAppToken } from "./providers.ts";
import { resolveSecret, type SecretRef, type SecretSources } from "./secrets.ts";
import { parseNode } from "./zod-issues.ts";

/** The source id the Slack endpoints and Socket Mode feed, in whichever tenant a request belongs to. */
export const slackSourceId = "slack";

/** `providers.slack` of a tenant; undefined (after recording why) when any part is broken. */
export function compileSlackProvider(
  raw: unknown,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): TenantSlackConfig | undefined {
  const node = parseNode(slackProviderSchema, raw, path, problems);
  if (!node) return undefined;
  let ok = true;
  const secret = (ref: SecretRef, at: FieldPath): string | undefined => {
    const resolved = resolveSecret(ref, sources);
    if (resolved.ok) return resolved.value;
    problems.at(at, resolved.message);
    ok = false;
    return undefined;
  };
  const signingSecrets: string[] = [];
  (node.signingSecrets ?? []).forEach((ref, i) => {
    const value = secret(ref, [...path, "signingSecrets", i]);
    if (value !== undefined && !signingSecrets.includes(value)) signingSecrets.push(value);
  });
  const botToken = node.botToken === undefined ? undefined : secret(node.botToken, [...path, "botToken"]);
  let appToken = node.appToken === undefined ? undefined : secret(node.appToken, [...path, "appToken"]);
  if (appToken !== undefined) {
    const parsed = slackAppToken(appToken.trim());
    if (parsed.ok) appToken = parsed.value;
    else {
      problems.at([...path, "appToken"], `the referenced value: ${parsed.message}`);
      ok = false;
    }
  }
  const teams = [...new Set(node.teams)];
  if (teams.length !== node.teams.length) problems.at([...path, "teams"], "lists a team twice");
  if (!ok || teams.length !== node.teams.length) return undefined;
  if (signingSecrets.length === 0 && appToken === undefined && teams.length > 0) {
    problems.at(
      path,
      "lists teams but has neither signingSecrets (HTTP) nor appToken (Socket Mode): no request could reach the tenant",
    );
    return undefined;
  }
  return {
    signingSecrets,
    teams,
    ...(botToken !== undefined && { botToken }),
    ...(appToken !== undefined && { appToken }),
  };
}

/** Tenant `default`'s Slack app from the `SLACK_*` env variables (no teams: it takes the rest). */
export function envSlackConnection(slack: SlackProviderConfig | undefined): TenantSlackConfig | undefined {
  if (!slack || (slack.signingSecrets === undefined && slack.appToken === undefined && !slack.botToken)) {
    return undefined;
  }
  return {
    signingSecrets: slack.signingSecrets ?? [],
    teams: [],
    ...(slack.botToken !== undefined && { botToken: slack.botToken }),
    ...(slack.appToken !== undefined && { appToken: slack.appToken }),
  };
}

/**
 * Adds source `slack` to `tenant` when its Slack app (after the env fallback) can receive: signing
 * secrets, or an app token. `origin`: where the app was configured (the tenant's `providers.slack`, or
 * the `SLACK_*` env for tenant `default`), for the conflict problem.
 */
export function addSlackSource(
  tenant: TenantDraft,
  origin: FieldPath | "env",
  ctx: CompileContext,
  problems: Problems,
): void {
  const slack = tenant.connections.providers.slack;
  if (!slack || (slack.signingSecrets.length === 0 && slack.appToken === undefined)) return;
  if (tenant.declaredSources.has(slackSourceId)) {
    const envName = slack.signingSecrets.length > 0 ? "SLACK_SIGNING_SECRET" : "SLACK_APP_TOKEN";
    const where = origin === "env" ? envLocation(envName) : formatPath(origin);
    problems.add(
      where,
      `tenant "${tenant.id}" also declares source "${slackSourceId}"; the Slack app creates it: remove the source`,
    );
    return;
  }
  tenant.declaredSources.add(slackSourceId);
  tenant.sources.set(slackSourceId, {
    id: slackSourceId,
    tenant: tenant.id,
    preset: "slack",
    // A copy: the preset table's arrays are shared module constants, and the Config gets frozen.
    profile: structuredClone(presetProfile("slack", ctx.toleranceSeconds)),
    secrets: [...slack.signingSecrets],
  });
}

/**
 * Records the teams `tenant` lists in `owners` (team → tenant id, shared by every tenant of the file). A
 * Slack team belongs to one tenant, since requests are routed, and verified, by it: a team listed a
 * second time is a problem at that listing.
 */
export function claimSlackTeams(
  tenant: TenantDraft,
  tenantPath: FieldPath,
  owners: Map<string, string>,
  problems: Problems,
): void {
  tenant.connections.providers.slack?.teams.forEach((team, i) => {
    const owner = owners.get(team);
    if (owner === undefined) owners.set(team, tenant.id);
    else {
      problems.at(
        [...tenantPath, "providers", "slack", "teams", i],
        `team ${team} is already listed by tenant "${owner}"; a team belongs to one tenant`,
      );
    }
  });
}
